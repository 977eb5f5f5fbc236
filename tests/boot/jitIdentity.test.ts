// The JIT changes nothing a guest can see: a deterministic scripted boot that writes and
// reads its disk (virtio DMA into pages that held code), runs a program it copied, and
// prints its uptime and interrupt counts, prints the same bytes with --jit off, auto and
// eager, instruction for instruction; auto also with a code cache small enough to fill.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JitStats } from '../../src/jit/Jit.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { CLEAN_POWEROFF, runCli as romvisor, writeScript } from './runCli.ts';
import { buildTestAppliance, PROMPT, type TestAppliance } from './testAppliance.ts';

let appliance: TestAppliance;
let dir: string;
let cleanup: () => void;

before(async () => {
  appliance = await buildTestAppliance();
  ({ dir, cleanup } = tempDir('jit-identity'));
});
after(() => cleanup());

describe('the JIT tier', () => {
  it('prints byte-identical console output with --jit off, auto and eager', async () => {
    // Host-time step timeouts generous enough for eager (they cannot change the output).
    const script = writeScript(dir, 'io', [
      { expect: PROMPT, timeout: 900 },
      {
        send:
          'cp /bin/busybox /root/bb; dd if=/dev/zero of=/root/z bs=64k count=64; sync; echo 3 > /proc/sys/vm/drop_caches; ' +
          '/root/bb echo ran-from-disk; md5sum /root/z /root/bb; i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; echo $i; ' +
          'cat /proc/uptime /proc/interrupts; ' +
          CLEAN_POWEROFF,
      },
      { expect: 'reboot: Power down', timeout: 900 },
    ]);
    const env = { XDG_DATA_HOME: join(dir, 'data'), ROMVISOR_JIT_STATS: '1' };
    const runs: Record<string, string> = {};
    const stats: Record<string, JitStats> = {};
    for (const jit of ['off', 'auto', 'eager']) {
      // eager translates every page the boot runs (hundreds of compiles): minutes, not seconds.
      const timeoutMs = jit === 'off' ? 120_000 : 900_000;
      const args = ['boot', appliance.path, '--snapshot', '--time', 'deterministic', '--script', script, '--jit', jit, '--hang-timeout', String(timeoutMs / 1000)];
      // auto at a low threshold, so that it translates many pages, learns entries, translates
      // pages again and drops code the disk overwrote (at the default, a short boot
      // translates a few pages only, as it should); and with a code cache of 24 pages, so
      // the cache fills and drops every page's code many times over (evictions).
      const autoEnv = { ...env, ROMVISOR_JIT_THRESHOLD: '2000', ROMVISOR_JIT_MAX_PAGES: '24' };
      const r = await romvisor(args, { env: jit === 'auto' ? autoEnv : env, timeoutMs });
      assert.equal(r.code, 0, `--jit ${jit}: ${r.stderr}${r.stdout.slice(-1000)}`);
      runs[jit] = r.stdout;
      const line = /^romvisor: jit (\{.*\})$/m.exec(r.stderr);
      assert.ok(line, `--jit ${jit}: no JIT counters on stderr: ${r.stderr.slice(-500)}`);
      stats[jit] = JSON.parse(line[1]!) as JitStats;
    }
    // Identical output proves nothing if compiled code never ran: each JIT run must have
    // translated pages, run guest code in them and dropped code the disk reads overwrote.
    assert.equal(stats.off!.compiles, 0, `--jit off compiled: ${JSON.stringify(stats.off)}`);
    for (const jit of ['auto', 'eager']) {
      const s = stats[jit]!;
      assert.ok(s.compiles > 0 && s.jitInsns > 0 && s.invalidations > 0, `--jit ${jit}: ${JSON.stringify(s)}`);
    }
    assert.ok(stats.auto!.evictions > 0, `the 24-page cache never filled: ${JSON.stringify(stats.auto)}`);
    assert.match(runs.off!, /ran-from-disk/);
    assert.match(runs.off!, /\n300\r?\n/);
    for (const jit of ['auto', 'eager']) {
      if (runs[jit] === runs.off) continue;
      const al = runs.off!.split('\n');
      const bl = runs[jit]!.split('\n');
      const i = al.findIndex((l, k) => l !== bl[k]);
      assert.fail(`--jit ${jit} differs from --jit off first at line ${i + 1}:\n  off: ${JSON.stringify(al[i])}\n  ${jit}: ${JSON.stringify(bl[i])}`);
    }
  });
});
