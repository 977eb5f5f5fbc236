// Deterministic time with disk I/O: completions land on instruction counts the machine
// chooses, whatever the host's disk speed, so two runs print the same bytes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../disk/diskFixtures.ts';
import { CLEAN_POWEROFF, runCli as romvisor, writeScript } from './runCli.ts';
import { buildTestAppliance, PROMPT, type TestAppliance } from './testAppliance.ts';

let appliance: TestAppliance;
let dir: string;
let cleanup: () => void;

before(async () => {
  appliance = await buildTestAppliance();
  ({ dir, cleanup } = tempDir('deterministic-disk'));
});
after(() => cleanup());

describe('deterministic time with disk I/O', () => {
  it('prints identical console output on two runs', async () => {
    // Writes, a flush, a cache drop so the reads really go to the disk, then timing-visible output.
    const script = writeScript(dir, 'io', [
      { expect: PROMPT },
      {
        send:
          'dd if=/dev/zero of=/root/z bs=64k count=128; sync; echo 3 > /proc/sys/vm/drop_caches; ' +
          'dd if=/root/z of=/dev/null bs=64k; md5sum /root/z /bin/busybox; cat /proc/uptime /proc/interrupts; ' +
          CLEAN_POWEROFF,
      },
      { expect: 'reboot: Power down' },
    ]);
    const args = ['boot', appliance.path, '--snapshot', '--time', 'deterministic', '--script', script];
    const env = { XDG_DATA_HOME: join(dir, 'data') };
    const a = await romvisor(args, { env });
    assert.equal(a.code, 0, a.stderr + a.stdout.slice(-1000));
    const b = await romvisor(args, { env });
    assert.equal(b.code, 0, b.stderr + b.stdout.slice(-1000));
    assert.ok(/virtio/.test(a.stdout) && /8192\+0 records in|128\+0 records in/.test(a.stdout), a.stdout.slice(-1500));
    if (a.stdout !== b.stdout) {
      const al = a.stdout.split('\n');
      const bl = b.stdout.split('\n');
      const i = al.findIndex((l, k) => l !== bl[k]);
      assert.fail(`runs differ first at line ${i + 1}:\n  run 1: ${JSON.stringify(al[i])}\n  run 2: ${JSON.stringify(bl[i])}`);
    }
  });
});
