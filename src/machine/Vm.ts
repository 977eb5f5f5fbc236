/**
 * One guest machine, independent of where it runs (a Web Worker in the page, the node CLI,
 * tests): the core, its devices, the console, and the two time modes.
 *
 * - realtime: mtime follows the host clock; console input is delivered as soon as it
 *   arrives; when the guest waits for an interrupt, the host sleeps until the timer is due.
 * - deterministic: mtime follows the instruction count; input is delivered only when the
 *   guest is idle (WFI), so it lands on the same instruction on every run; an idle guest
 *   jumps straight to its next timer deadline. The same inputs give the same console bytes.
 */
import { Core, StopReason, type MmioHandler } from './Core.ts';
import { loadLinuxBoot, type BootLayout, type LinuxBootImages } from '../boot/linuxBoot.ts';
import { VirtioMmioBus } from './VirtioMmioBus.ts';

export type TimeMode = 'realtime' | 'deterministic';

export interface VmConfig {
  ramBytes: number;
  timeMode: TimeMode;
  images: LinuxBootImages;
}

/** What a call to `run` ended with. */
export type RunOutcome =
  | { kind: 'running' }
  /** The guest waits for an interrupt: call again after `wakeInMs` (undefined: only input can wake it). */
  | { kind: 'idle'; wakeInMs: number | undefined }
  | { kind: 'poweroff' }
  | { kind: 'reboot' };

export interface CrashReport {
  pc: bigint;
  priv: 'U' | 'S' | 'M';
  instructions: bigint;
  lastTrap: { cause: bigint; pc: bigint; tval: bigint; count: bigint };
}

const PRIV = ['U', 'S', '?', 'M'] as const;
/** Instructions per core.run() call: small enough to keep the host responsive. */
const SLICE = 2_000_000;
/** 10 MHz timebase ticks per millisecond. */
const TICKS_PER_MS = 10_000;

export class Vm {
  readonly core: Core;
  readonly layout: BootLayout;
  readonly timeMode: TimeMode;
  private readonly pendingInput: number[] = [];
  private readonly startMs: number;
  private consoleListener: ((bytes: Uint8Array) => void) | undefined;

  private constructor(core: Core, layout: BootLayout, cfg: VmConfig, readonly bus: VirtioMmioBus) {
    this.core = core;
    this.layout = layout;
    this.timeMode = cfg.timeMode;
    this.startMs = performance.now();
  }

  static async create(module: WebAssembly.Module, cfg: VmConfig): Promise<Vm> {
    const bus = new VirtioMmioBus();
    const mmio: MmioHandler = bus;
    const core = await Core.instantiate(module, { ramBytes: cfg.ramBytes, mmio });
    const layout = loadLinuxBoot(core, cfg.images, core.timebaseHz);
    return new Vm(core, layout, cfg, bus);
  }

  /** Receives every byte the guest writes to its console. */
  onConsole(listener: (bytes: Uint8Array) => void): void {
    this.consoleListener = listener;
  }

  /** Queues keyboard input for the guest's console. */
  sendInput(bytes: Uint8Array | string): void {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (const x of b) this.pendingInput.push(x);
  }

  get hasPendingInput(): boolean {
    return this.pendingInput.length > 0;
  }

  /** Guest time in milliseconds (mtime), the clock deterministic scripts wait on. */
  get guestMs(): number {
    return Number(this.core.mtime) / TICKS_PER_MS;
  }

  private deliverInput(): void {
    if (this.pendingInput.length === 0) return;
    const n = Math.min(this.pendingInput.length, this.core.consoleRxFree);
    if (n === 0) return;
    this.core.sendConsole(Uint8Array.from(this.pendingInput.splice(0, n)));
  }

  private drain(): void {
    const out = this.core.drainConsole();
    if (out.length) this.consoleListener?.(out);
  }

  /**
   * Runs the guest for up to `maxMs` of host time (at least one slice). Returns early when
   * the guest is idle, powers off or reboots.
   */
  run(maxMs: number): RunOutcome {
    const deadline = performance.now() + maxMs;
    const deterministic = this.timeMode === 'deterministic';
    for (;;) {
      if (!deterministic) {
        this.core.syncTime(BigInt(Math.floor((performance.now() - this.startMs) * TICKS_PER_MS)));
        this.deliverInput();
      }
      const reason = this.core.run(SLICE);
      this.drain();
      switch (reason) {
        case StopReason.Poweroff:
        case StopReason.Fail:
          return { kind: 'poweroff' };
        case StopReason.Reboot:
          return { kind: 'reboot' };
        case StopReason.Wfi:
          if (deterministic) {
            if (this.pendingInput.length > 0) this.deliverInput();
            else if (!this.core.skipToTimer()) return { kind: 'idle', wakeInMs: undefined };
          } else if (this.pendingInput.length === 0) {
            const d = this.core.timerDistance;
            if (d > 0n) {
              const ms = Number(d / BigInt(this.core.insnsPerTick)) / TICKS_PER_MS;
              return { kind: 'idle', wakeInMs: ms > 1e9 ? undefined : ms };
            }
          }
          break;
        default:
          break;
      }
      if (performance.now() >= deadline) return { kind: 'running' };
    }
  }

  crashReport(): CrashReport {
    const c = this.core;
    return { pc: c.pc, priv: PRIV[c.priv] as CrashReport['priv'], instructions: c.instructions, lastTrap: c.lastTrap };
  }
}

export function formatCrashReport(r: CrashReport): string {
  const h = (v: bigint) => `0x${v.toString(16)}`;
  const t = r.lastTrap;
  const kind = t.cause >> 63n ? 'interrupt' : 'exception';
  return `pc ${h(r.pc)} in ${r.priv}-mode after ${r.instructions} instructions; last trap: ${kind} ${t.cause & 0xffn} at pc ${h(t.pc)} (tval ${h(t.tval)}), ${t.count} traps in all`;
}
