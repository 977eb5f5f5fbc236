// An appliance booted by romvisor in this process, as `romvisor boot IMAGE --snapshot`
// builds it: the disk under a temporary overlay, the kernel and command line from its boot
// partition, the shell on the virtio console (hvc0). No network card: the bench's QEMU
// peers of these boots have none either.
import { readFile } from 'node:fs/promises';
import { readApplianceBoot } from '../src/boot/applianceBoot.ts';
import { openApplianceDisk } from '../src/boot/applianceDisk.node.ts';
import { linuxLoader } from '../src/boot/linuxBoot.ts';
import { BUILTIN } from '../src/cli/bootImages.ts';
import type { JitMode } from '../src/jit/Jit.ts';
import { loadCoreModule } from '../src/machine/coreModule.node.ts';
import { guestConsoleOf, Vm } from '../src/machine/Vm.ts';

export interface ApplianceVm {
  vm: Vm;
  /** Waits for the VM's device work, then closes and deletes the overlay. */
  dispose(): Promise<void>;
}

/** `dataDir`: where the .vhd.gz is unpacked (once per directory) and nothing else is kept. */
export async function openApplianceVm(image: string, jit: JitMode, dataDir: string): Promise<ApplianceVm> {
  const appliance = await openApplianceDisk({ image, overlay: { kind: 'snapshot' }, dataDir });
  try {
    const boot = await readApplianceBoot(appliance.disk);
    const firmware = new Uint8Array(await readFile(BUILTIN.firmware));
    const vm = await Vm.create(await loadCoreModule(), {
      ramBytes: (boot.manifest.memoryMiB ?? 64) * 2 ** 20,
      timeMode: 'realtime',
      boot: linuxLoader({ firmware, ...boot.images }),
      disks: [{ disk: appliance.disk, serial: boot.manifest.name }],
      console: { cols: 80, rows: 24 },
      guestConsole: guestConsoleOf(boot.images.bootargs),
      jit,
    });
    return {
      vm,
      async dispose() {
        await vm.dispose();
        await appliance.dispose();
      },
    };
  } catch (e) {
    await appliance.dispose();
    throw e;
  }
}
