// A guest that panics or hangs ends `romvisor boot` by itself: a kernel panic with exit 1
// and its panic line, a scripted guest that goes silent with exit 3 after the default
// hang timeout; a guest whose script ended normally is not timed out.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { findPanicLine, PanicWatch } from '../../src/boot/index.ts';
import { runCli, writeScript } from './runCli.ts';
import { buildTestAppliance } from './testAppliance.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-panic-'));
const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const INITRAMFS = ['--kernel', repo('appliances/boot/Image.gz'), '--initrd', repo('appliances/boot/initramfs.cpio.gz')];
/** An init that exits at once: the kernel panics "Attempted to kill init!". */
const FALSE_INIT = ['--append', 'console=ttyS0 rdinit=/bin/false'];
/** An init that sleeps, silent, for a day. */
const SLEEP_INIT = ['--append', 'console=ttyS0 rdinit=/bin/sleep -- 86400'];
/** Each run must end well before runCli's own limit: these guests would otherwise run forever. */
const BOUND = { timeoutMs: 60_000 };

describe('findPanicLine and PanicWatch (shared by the page and the CLI)', () => {
  it('finds the panic line, also from the closing marker, and nothing in ordinary output', () => {
    assert.equal(findPanicLine('[ 1.0] Run /init\r\n[ 1.2] Kernel panic - not syncing: VFS: Unable to mount root fs\r\nCPU: 0'), 'Kernel panic - not syncing: VFS: Unable to mount root fs');
    assert.equal(findPanicLine('---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---\r\n'), 'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100');
    assert.equal(findPanicLine('~ # echo kernel panic\r\nkernel panic\r\n'), undefined);
  });

  it('follows a panic split across chunks, byte by byte', () => {
    const w = new PanicWatch();
    const text = 'x'.repeat(5000) + '\r\n[    0.5] Kernel panic - not syncing: No working init found.\r\nCPU: 0 PID: 1';
    for (const c of text) w.feed(c);
    assert.equal(w.seen, true);
    assert.equal(w.line, 'Kernel panic - not syncing: No working init found.');
  });
});

describe('a guest whose kernel panics', () => {
  for (const time of ['realtime', 'deterministic']) {
    it(`ends with exit 1 and its panic line on stderr (${time} time)`, async () => {
      const started = performance.now();
      const r = await runCli(['boot', ...INITRAMFS, ...FALSE_INIT, '--time', time], BOUND);
      assert.equal(r.code, 1, r.stderr + r.stdout.slice(-1500));
      assert.equal(r.stderr, '\nromvisor boot: the guest panicked: Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\n');
      // The kernel had its moment to finish printing the panic.
      assert.match(r.stdout, /---\[ end Kernel panic - not syncing: Attempted to kill init!/);
      assert.ok(performance.now() - started < 45_000, 'the run ends promptly after the panic');
    });
  }

  it('prints byte-identical output up to the end in deterministic time', async () => {
    const a = await runCli(['boot', ...INITRAMFS, ...FALSE_INIT, '--time', 'deterministic'], BOUND);
    const b = await runCli(['boot', ...INITRAMFS, ...FALSE_INIT, '--time', 'deterministic'], BOUND);
    assert.equal(a.code, 1);
    assert.equal(a.stdout, b.stdout);
  });

  it('names the panic of an appliance booted with init=/nonexistent, also while a script plays', async () => {
    const appliance = await buildTestAppliance();
    const script = writeScript(dir, 'prompt', [{ expect: '~ # ', timeout: 600 }]);
    const r = await runCli(['boot', appliance.path, '--snapshot', '--append', 'init=/nonexistent', '--time', 'deterministic', '--script', script], BOUND);
    assert.equal(r.code, 1, r.stderr + r.stdout.slice(-1500));
    assert.match(r.stderr, /^\nromvisor boot: the guest panicked: Kernel panic - not syncing: Requested init \/nonexistent failed \(error -2\)\.\n$/);
  });
});

describe('a scripted guest that hangs', () => {
  it('exits 3 after the default hang timeout (60 s of guest time), though its step would wait an hour', async () => {
    const script = writeScript(dir, 'never', [{ expect: 'never printed', timeout: 3600 }]);
    const r = await runCli(['boot', ...INITRAMFS, ...SLEEP_INIT, '--time', 'deterministic', '--script', script], BOUND);
    assert.equal(r.code, 3, r.stderr + r.stdout.slice(-1500));
    assert.match(r.stderr, /no console output and no script step passed for 60 s of guest time; the guest looks hung \(the default while a script plays; --hang-timeout SECONDS changes it\)\n {2}pc 0x[0-9a-f]+ in [MSU]-mode/);
  });

  it('exits 3 after --hang-timeout in realtime', async () => {
    const script = writeScript(dir, 'never-rt', [{ expect: 'Run /bin/sleep as init process', timeout: 120 }, { expect: 'never printed', timeout: 3600 }]);
    const r = await runCli(['boot', ...INITRAMFS, ...SLEEP_INIT, '--script', script, '--hang-timeout', '3'], BOUND);
    assert.equal(r.code, 3, r.stderr + r.stdout.slice(-1500));
    assert.match(r.stderr, /no console output and no script step passed for 3 s; the guest looks hung\n/);
  });

  it('counts a wait step as progress: a silent guest outwaits the default', async () => {
    const script = writeScript(dir, 'wait', [{ expect: 'Run /bin/sleep as init process', timeout: 120 }, { wait: 90 }, { send: '\n' }]);
    const r = await runCli(['boot', ...INITRAMFS, ...SLEEP_INIT, '--time', 'deterministic', '--script', script], BOUND);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
  });
});

describe('a guest whose script ended normally', () => {
  it('is not timed out: it stays silent after the last step and the run ends 0', async () => {
    const script = writeScript(dir, 'ends', [{ expect: 'Run /bin/sleep as init process', timeout: 120 }]);
    const r = await runCli(['boot', ...INITRAMFS, ...SLEEP_INIT, '--time', 'deterministic', '--script', script], BOUND);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    assert.doesNotMatch(r.stderr, /hung/);
  });
});
