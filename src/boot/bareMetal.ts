/**
 * Bare-metal runs: an ELF64 RISC-V program started in M-mode at its entry, on the same
 * machine map as QEMU's `virt` with `-bios none`. It ends through HTIF (`tohost`), the
 * sifive test device, or the instruction budget.
 */
import type { Core } from '../machine/Core.ts';
import { loadCoreModule } from '../machine/coreModule.node.ts';
import type { GuestLoader } from '../machine/GuestLoader.ts';
import { Vm } from '../machine/Vm.ts';
import { ElfError, ElfImage } from './ElfImage.ts';
import { loadElfIntoRam } from './elfRam.ts';

export { loadElfIntoRam };
import { privilegeOf } from '../inspect/privilege.ts';
import type { JitMode, JitStats } from '../jit/Jit.ts';

export interface BareMetalResult {
  outcome: 'pass' | 'fail' | 'poweroff' | 'budget' | 'fault';
  /** The CLI's exit code: 0 pass/poweroff, 1 fail, 3 budget, 4 emulator fault. */
  exitCode: number;
  /** From tohost (n << 1) | 1, or the test device's code. */
  failedTest?: number;
  /** Everything written to the UART (latin1). */
  uart: string;
  instructions: bigint;
  pc: bigint;
  /** A one-line description for the CLI (why it stopped, with pc and privilege). */
  message: string;
  /** The JIT's counters at the end. */
  jit: JitStats;
}

export interface BareMetalOptions {
  maxInstructions?: bigint;
  ramBytes?: number;
  /** Harts (default 1), each starting at the entry with a0 = its id. */
  harts?: number;
  /** Called with console bytes as they are produced. */
  onConsole?: (bytes: Uint8Array) => void;
  /** Called before each chunk with the pc, for tracing. */
  trace?: (core: Core) => void;
  /** Instructions per chunk between console drains (1 with trace for per-instruction). */
  chunk?: number;
  /** The JIT tier (default auto, src/jit/Jit.ts DEFAULT_JIT_MODE). */
  jit?: JitMode;
}

const DEFAULT_RAM = 128 << 20; // QEMU virt's default
const DEFAULT_BUDGET = 10_000_000_000n;
const CHUNK = 20_000_000;

function latin1(chunks: Uint8Array[]): string {
  let s = '';
  for (const c of chunks) for (let i = 0; i < c.length; i++) s += String.fromCharCode(c[i]);
  return s;
}

/** A Vm's loader for a bare-metal ELF program: its segments in RAM, pc at its entry, HTIF at its `tohost`. */
export function elfLoader(elf: ElfImage): GuestLoader {
  return {
    load(core) {
      loadElfIntoRam(core, elf);
      const tohost = elf.symbols.get('tohost');
      if (tohost !== undefined) core.setTohost(tohost);
      // Every hart starts at the entry with a0 = its hart id, as QEMU's virt with -bios none.
      for (let h = 0; h < core.harts; h++) {
        core.setHartPc(h, elf.entry);
        core.setHartX(h, 10, BigInt(h));
      }
    },
  };
}

export async function runBareMetal(elfBytes: Uint8Array, opts: BareMetalOptions = {}): Promise<BareMetalResult> {
  const elf = ElfImage.parse(elfBytes);
  // Guest time follows the instruction count and an idle hart skips to its timer, as the
  // loop always did here; a program that loops on a fault runs to its budget, as under QEMU.
  const vm = await Vm.create(await loadCoreModule(), {
    ramBytes: opts.ramBytes ?? DEFAULT_RAM,
    harts: opts.harts,
    timeMode: 'deterministic',
    boot: elfLoader(elf),
    detectCrash: false,
    jit: opts.jit,
  });
  const core = vm.core;

  const budget = opts.maxInstructions ?? DEFAULT_BUDGET;
  const out: Uint8Array[] = [];
  vm.onConsole((b) => {
    out.push(b);
    opts.onConsole?.(b);
  });
  const chunk = BigInt(opts.chunk ?? CHUNK);
  const result = (outcome: BareMetalResult['outcome'], exitCode: number, message: string, failedTest?: number): BareMetalResult => {
    return { outcome, exitCode, failedTest, uart: latin1(out), instructions: core.instructions, pc: core.pc, message, jit: core.jitStats() };
  };

  try {
    for (;;) {
      const left = budget - core.instructions;
      if (left <= 0n) {
        return result('budget', 3, `budget of ${budget} instructions spent at pc 0x${core.pc.toString(16)} (${privilegeOf(core.priv) ?? '?'}-mode)`);
      }
      opts.trace?.(core);
      // Idle: jump to the next timer interrupt; with none armed the program waits forever,
      // which the budget ends.
      const o = vm.runUntil({ maxInsns: left < chunk ? left : chunk, maxMs: Infinity, idle: 'skip' });
      if (o.kind === 'reboot') return result('poweroff', 0, 'the program powered off');
      if (o.kind !== 'poweroff') continue;
      switch (o.by) {
        case 'htif': {
          if (o.value === 1n) return result('pass', 0, 'pass (tohost = 1)');
          const n = Number(o.value >> 1n);
          return result('fail', 1, `FAIL: test ${n}`, n);
        }
        case 'poweroff':
          return result('poweroff', 0, 'the program powered off');
        case 'fail': {
          const n = Number(o.value);
          return result('fail', 1, `FAIL: test device code ${n}`, n);
        }
      }
    }
  } catch (e) {
    if (e instanceof ElfError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    return result('fault', 4, `emulator fault at pc 0x${core.pc.toString(16)}: ${msg}`);
  } finally {
    await vm.dispose();
  }
}
