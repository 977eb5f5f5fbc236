/**
 * Deterministic networks: guests in lockstep quanta. Guest time is cut into quanta of
 * QUANTUM_TICKS; every guest runs to the end of the quantum (an idle guest's time jumps
 * there, no further), handing the switch what it transmits, and only when all have reached
 * it do the frames cross the switch, in port order; what the switch forwards to a guest
 * waits in its port's inbox and goes into its card at the start of the next quantum. Each
 * guest thus sees each frame at a guest time fixed by the run itself, whatever the host's
 * speed or how the guests are spread over threads, so every console replays byte for byte.
 *
 * One rule, written once, for every host that runs deterministic guests on a network:
 * `romvisor boot` (one guest, or a scenario's guests in one thread, src/cli/runGuests.ts)
 * and the page (each guest in its own worker, the page's LockstepNetwork moving the frames
 * between quanta). The page and the CLI print the same bytes because they run this code.
 */
import type { RunOptions, RunOutcome, Vm } from '../machine/Vm.ts';
import { EthernetSwitch } from './EthernetSwitch.ts';
import type { SwitchPort } from './Types.ts';

/** One lockstep quantum: 1 ms of guest time (10,000 ticks of the 10 MHz timebase). */
export const QUANTUM_TICKS = 10_000n;
/** Timebase ticks per microsecond, for capture timestamps in guest time. */
const TICKS_PER_US = 10n;

/** Guest time (timebase ticks) as a switch clock: microseconds, for capture timestamps. */
export function ticksToUs(ticks: bigint): number {
  return Number(ticks / TICKS_PER_US);
}

/** A guest's place in a lockstep run. */
export interface LockstepPort {
  readonly port: SwitchPort;
  /** A frame the guest transmitted during the current quantum (it crosses at the quantum's end). */
  send(frame: Uint8Array): void;
  /** The frames the switch forwarded to the guest at the last crossing, in order; the inbox is emptied. */
  takeInbox(): Uint8Array[];
  /** Leaves the switch; frames still in the inbox are dropped. */
  detach(): void;
}

/**
 * The switch side of a lockstep run: a switch whose frames move only at quantum ends,
 * stamped with the guest time of that end, and the current quantum's end.
 */
export class Lockstep {
  readonly sw: EthernetSwitch;
  /** The end of the current quantum: guest time (mtime, timebase ticks) every guest runs to. */
  private end: bigint;

  /**
   * `start`: the guests' guest time now (0 for guests that have not run). Quanta end on
   * multiples of QUANTUM_TICKS, so a machine restored mid-quantum (--restore) crosses at the
   * points the uninterrupted run crossed at.
   */
  constructor(start = 0n) {
    this.end = (start / QUANTUM_TICKS + 1n) * QUANTUM_TICKS;
    this.sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => ticksToUs(this.end) });
  }

  get boundary(): bigint {
    return this.end;
  }

  /** Puts guest `name` on the switch (throws NetError when the switch refuses the name). */
  join(name: string): LockstepPort {
    let inbox: Uint8Array[] = [];
    const port = this.sw.attach('vm', name, (frame) => inbox.push(frame));
    return {
      port,
      send: (frame) => port.send(frame),
      takeInbox: () => {
        const frames = inbox;
        inbox = [];
        return frames;
      },
      detach: () => {
        inbox = [];
        port.detach();
      },
    };
  }

  /**
   * Every guest has reached `boundary` and handed its frames to its port: they cross the
   * switch now, and the next quantum begins.
   */
  cross(): void {
    this.sw.pump();
    this.end += QUANTUM_TICKS;
  }
}

/** Frames from a guest's inbox into its card, in order, before it runs the next quantum. */
export function deliverFrames(vm: Vm, frames: readonly Uint8Array[]): void {
  const nic = vm.netDevice;
  if (!nic) return;
  for (const f of frames) nic.receive(f);
}

/** What a host does around each run of a guest inside a quantum. */
export interface QuantumHooks {
  /**
   * One run of the guest with these options (`vm.runUntil`, with the host's fault handling
   * around it); undefined when the host stopped the guest (an emulator fault).
   */
  run(opts: RunOptions): RunOutcome | undefined;
  /**
   * What the host makes of a run (console, script, the end of the guest); true stops the
   * guest short of the boundary (it ended, failed, or the host paused it). `settled`: idle
   * with all input taken and no device work due, judged on guest state only, never on host
   * timing (where a finished script ends the run).
   */
  after(outcome: RunOutcome, settled: boolean): boolean;
  /** One turn of the host's event loop, while device work the guest started runs on the host. */
  turn(): Promise<void>;
}

/**
 * Runs `vm` until its guest time reaches `boundary`; false when a hook stopped it first
 * (call again with the same boundary to go on, e.g. after a debugger stop).
 */
export async function runToBoundary(vm: Vm, boundary: bigint, hooks: QuantumHooks): Promise<boolean> {
  const core = vm.core;
  const perTick = BigInt(core.insnsPerTick);
  while (core.mtime < boundary) {
    const maxInsns = (boundary - core.mtime) * perTick - (core.instructions % perTick);
    const outcome = hooks.run({ maxInsns, timeLimit: boundary });
    if (!outcome) return false;
    const settled = outcome.kind === 'idle' && !vm.hasPendingInput && vm.completions.pending === 0;
    if (hooks.after(outcome, settled)) return false;
    if (outcome.kind === 'idle' && outcome.wakeInMs === undefined) {
      // Waiting for disk work due on this instruction: let the host finish it.
      const work = vm.pendingWork();
      if (work) await work;
      // Nothing armed can wake the hart: its time moves on with the others'.
      else core.syncTime(boundary);
    } else if (outcome.kind === 'running' && vm.completions.pending > 0) {
      await hooks.turn();
    }
  }
  return true;
}
