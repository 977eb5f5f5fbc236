// The guest the gdb stub's tests and its fuzzer debug: a four-instruction loop at the start
// of RAM that never ends, changes two registers and stores to RAM on every pass.
import type { JitMode } from '../../src/jit/Jit.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { type Core, RAM_BASE } from '../../src/machine/Core.ts';
import { Vm } from '../../src/machine/Vm.ts';
import type { TimeMode } from '../../src/machine/TimeMode.ts';

// 1: addi a0, a0, 1; addi a1, a1, 2; sw a0, 256(t0); j 1b  (t0 = the start of RAM)
export const LOOP_PROGRAM = [0x00150513, 0x00258593, 0x10a2a023, 0xff5ff06f];

export interface LoopingGuestOptions {
  jit?: JitMode;
  harts?: number;
  /** Deterministic unless given. */
  timeMode?: TimeMode;
  /** More set-up at every boot, after the loop is loaded and every hart pointed at it. */
  load?: (core: Core) => void;
}

/** A 4 MiB machine (deterministic time unless asked) with every hart at the loop (t0 = RAM_BASE). */
export async function loopingVm(options: LoopingGuestOptions = {}): Promise<Vm> {
  const harts = options.harts ?? 1;
  return Vm.create(await loadCoreModule(), {
    jit: options.jit ?? 'off',
    harts,
    ramBytes: 4 << 20,
    timeMode: options.timeMode ?? 'deterministic',
    detectCrash: false,
    boot: {
      load(core) {
        const dv = new DataView(core.ram.buffer, core.ram.byteOffset);
        LOOP_PROGRAM.forEach((w, i) => dv.setUint32(i * 4, w, true));
        for (let h = 0; h < harts; h++) {
          core.setHartPc(h, RAM_BASE);
          core.setHartX(h, 5, RAM_BASE); // t0: the store's base
        }
        options.load?.(core);
      },
    },
  });
}
