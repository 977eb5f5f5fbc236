// The debugger runs the guest through the Vm's own run loop, so a guest that is only
// stepped (never run) still gets its disk: requests it makes between steps are served and
// complete, and a command that reads the disk finishes under the debugger alone.
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
import { VmInspector } from '../../src/machine/VmInspector.ts';
import { delayedDisk } from './delayedDisk.ts';
import { buildTestAppliance, PROMPT, type TestAppliance } from './testAppliance.ts';

const FIRMWARE = fileURLToPath(new URL('../../roms/opensbi/fw_dynamic.bin', import.meta.url));
/** Reads the whole busybox binary from the disk (the page cache dropped first). */
const COMMAND = 'echo 3 > /proc/sys/vm/drop_caches; md5sum /bin/busybox; echo STEPPED-$((6*7))\n';

describe('a guest driven only by the debugger', () => {
  let appliance: TestAppliance;
  before(async () => {
    appliance = await buildTestAppliance();
  });

  for (const timeMode of ['deterministic', 'realtime'] as const) {
    it(`reads its disk while it is stepped (${timeMode} time)`, async () => {
      const base = await VhdDisk.open(await FileBackend.open(appliance.path, { readOnly: true }), { readOnly: true });
      const disk = await VhdDisk.createDifferencing(new MemoryBackend(), base);
      const boot = await readApplianceBoot(disk);
      const reads = { completed: 0 };
      const vm = await Vm.create(await loadCoreModule(), {
        ramBytes: 64 << 20,
        timeMode,
        boot: linuxLoader({ ...boot.images, firmware: new Uint8Array(readFileSync(FIRMWARE)) }),
        disks: [{ disk: delayedDisk(disk, () => 2, () => reads.completed++) }],
      });
      let out = '';
      vm.onConsole((b) => (out += Buffer.from(b).toString('latin1')));
      const inspector = new VmInspector(vm);
      try {
        // Boot to the shell with the ordinary host loop.
        const until = Date.now() + 120_000;
        while (!out.includes(PROMPT)) {
          assert.ok(Date.now() < until, `no prompt within 120 s; console ends: ${out.slice(-500)}`);
          const o = vm.run(50);
          assert.ok(o.kind === 'running' || o.kind === 'idle', `the guest ended while booting: ${o.kind}`);
          const work = vm.pendingWork();
          if (work) await work;
          else if (o.kind === 'idle' && o.wakeInMs) await new Promise((r) => setTimeout(r, Math.min(o.wakeInMs!, 10)));
        }
        const readsAtPrompt = reads.completed;
        vm.sendInput(COMMAND);
        // From here on only the debugger runs the guest: step a little, then to the next trap.
        const done = Date.now() + 120_000;
        let steps = 0;
        while (!out.includes('STEPPED-42')) {
          assert.ok(Date.now() < done, `the command did not finish under the debugger; ${reads.completed - readsAtPrompt} reads; console ends: ${out.slice(-500)}`);
          for (let i = 0; i < 20; i++) {
            const s = await inspector.step();
            assert.ok(s.stop === 'step' || s.stop === 'trap' || s.stop === 'wfi', `step stopped on ${s.stop}`);
            steps++;
          }
          const r = await inspector.stepUntilTrap(2_000_000);
          assert.ok(r.stop === 'trap' || r.stop === 'budget' || r.stop === 'wfi', `stepUntilTrap stopped on ${r.stop}`);
        }
        assert.match(out, /^[0-9a-f]{32} {2}\/bin\/busybox\r?$/m, 'md5sum read the whole binary from the disk');
        assert.ok(reads.completed - readsAtPrompt > 0, 'the disk served reads while the guest was stepped');
        assert.ok(steps > 0);
      } finally {
        inspector.dispose();
        await vm.dispose();
        await disk.dispose();
      }
    });
  }
});
