// Deterministic time must not depend on how fast the host's disk is: the same guest with
// an instant disk and with one that answers after random delays prints the same bytes
// and powers off on the same instruction. Runs the Vm in-process with its own host loop.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { readApplianceBoot } from '../../src/boot/applianceBoot.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { MemoryBackend, VhdDisk } from '../../src/disk/index.ts';
import { FileBackend } from '../../src/disk/node.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import type { BlockDevice } from '../../src/machine/virtio/index.ts';
import { CLEAN_POWEROFF } from './runCli.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { delayedDisk } from './delayedDisk.ts';
import { buildTestAppliance, PROMPT, type TestAppliance } from './testAppliance.ts';

const FIRMWARE = fileURLToPath(new URL('../../roms/opensbi/fw_dynamic.bin', import.meta.url));
const COMMANDS = 'dd if=/dev/zero of=/root/z bs=4k count=256; sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /root/z /bin/busybox; ' + CLEAN_POWEROFF;

/** Delays every request by 0..maxMs (seeded), so completions settle at random host times. */
function jittery(disk: VhdDisk, seed: number, maxMs: number): BlockDevice {
  const rng = new SeededRandom(seed);
  return delayedDisk(disk, () => rng.int(0, maxMs));
}

async function session(appliance: TestAppliance, wrap: (d: VhdDisk) => BlockDevice): Promise<{ console: string; instructions: bigint }> {
  const base = await VhdDisk.open(await FileBackend.open(appliance.path, { readOnly: true }), { readOnly: true });
  const disk = await VhdDisk.createDifferencing(new MemoryBackend(), base);
  const boot = await readApplianceBoot(disk);
  const vm = await Vm.create(await loadCoreModule(), {
    ramBytes: 64 << 20,
    timeMode: 'deterministic',
    boot: linuxLoader({ ...boot.images, firmware: new Uint8Array(readFileSync(FIRMWARE)) }),
    disks: [{ disk: wrap(disk) }],
  });
  let out = '';
  let sent = false;
  vm.onConsole((b) => {
    out += Buffer.from(b).toString('latin1');
    if (!sent && out.includes(PROMPT)) {
      sent = true;
      vm.sendInput(COMMANDS);
    }
  });
  const until = Date.now() + 90_000;
  try {
    for (;;) {
      assert.ok(Date.now() < until, `no poweroff within 90 s; console ends: ${out.slice(-500)}`);
      const o = vm.run(50);
      if (o.kind === 'poweroff') break;
      assert.notEqual(o.kind, 'reboot');
      const work = vm.pendingWork();
      if (o.kind === 'idle' && work) await work;
      else if (o.kind === 'idle' && o.wakeInMs === undefined && !vm.hasPendingInput) assert.fail(`the guest idles with nothing to wake it; console ends: ${out.slice(-500)}`);
      else await new Promise((r) => setImmediate(r));
    }
    return { console: out, instructions: vm.core.instructions };
  } finally {
    await vm.dispose();
    await disk.dispose();
  }
}

describe('deterministic completions', () => {
  let appliance: TestAppliance;
  before(async () => {
    appliance = await buildTestAppliance();
  });

  it('do not depend on how long the disk takes', async () => {
    const fast = await session(appliance, (d) => d);
    const slow = await session(appliance, (d) => jittery(d, 7, 8));
    assert.match(fast.console, /256\+0 records out/);
    assert.match(fast.console, /reboot: Power down/);
    assert.equal(slow.console, fast.console);
    assert.equal(slow.instructions, fast.instructions);
  });
});
