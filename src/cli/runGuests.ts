/**
 * Several guests of one `romvisor boot SCENARIO.json` run at once, on one switch, in one
 * thread: each guest's card is a port, what it transmits goes to the switch and what the
 * switch forwards to it goes into its receive queue.
 *
 * - deterministic: lockstep (src/net/Lockstep.ts, the rule the page's scenario guests
 *   follow too): quanta of 1 ms of guest time, every guest runs to the quantum's end in the
 *   scenario's order, then the frames cross. Each guest sees each frame at a guest time
 *   fixed by the run, so every console replays byte for byte, whatever the host's speed.
 * - realtime: each guest runs a slice in turn; the switch moves frames a microtask after
 *   they are sent and wakes the guest they are for; idle guests sleep until their timer.
 *
 * A guest whose script has ended keeps running (it may serve the others) until every
 * guest's script has ended; the run then exits 0. A guest that fails (a script step, a
 * panic, a hang) ends the run with its exit code. Without scripts the run ends when every
 * guest has powered off.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GuestLoop } from '../machine/GuestLoop.ts';
import type { Vm } from '../machine/Vm.ts';
import { deliverFrames, EthernetSwitch, hostClockUs, Lockstep, runToBoundary, type LockstepPort, type QuantumHooks, type SwitchPort } from '../net/index.ts';
import { EXIT } from './CliIo.ts';
import type { GuestSession, GuestVerdict } from './GuestSession.ts';

/**
 * Realtime: one guest's turn before the next gets the thread, at most this much host time
 * and TURN_INSNS instructions (about 1 ms of the interpreter). Short: a frame waits for
 * the turn of the guest it is for, so a round of busy guests is added to every round trip
 * (with 5 ms turns and a flooding pair, a third guest's ping took 15x its idle time).
 */
const SLICE_MS = 1;
const TURN_INSNS = 100_000n;

export interface NetGuest {
  name: string;
  vm: Vm;
  session: GuestSession;
}

/**
 * Connects `vm`'s network card to a new port of the realtime switch `sw` named `name`.
 * `onFrame` is told when a frame went into the guest (to wake it).
 */
export function connectGuest(sw: EthernetSwitch, name: string, vm: Vm, onFrame: () => void = () => {}): SwitchPort {
  const nic = vm.netDevice;
  if (!nic) throw new RangeError(`${name}: the VM has no network card`);
  const port = sw.attach('vm', name, (frame) => {
    nic.receive(frame);
    onFrame();
  });
  nic.onTransmit = (frame) => port.send(frame);
  return port;
}

/** Connects `vm`'s card to lockstep run `ls` as `name`: what it sends crosses at the quantum's end. */
export function joinLockstep(ls: Lockstep, name: string, vm: Vm): LockstepPort {
  const nic = vm.netDevice;
  if (!nic) throw new RangeError(`${name}: the VM has no network card`);
  const lp = ls.join(name);
  nic.onTransmit = (frame) => lp.send(frame);
  return lp;
}

/** The realtime switch of a `romvisor boot` run: frames move at once, stamped with host time. */
export function realtimeSwitch(): EthernetSwitch {
  return new EthernetSwitch({ delivery: 'immediate', clockUs: hostClockUs });
}

/**
 * The hooks of one CLI guest in a quantum: it runs through its GuestSession, which judges
 * each run; `onVerdict` gets the verdict (an emulator fault's exit code included) and says
 * whether the guest stops short of the boundary.
 */
export function sessionHooks(session: GuestSession, onVerdict: (v: GuestVerdict | number) => boolean): QuantumHooks {
  return {
    run: (opts) => {
      const r = session.run(opts);
      if (typeof r !== 'number') return r;
      onVerdict(r);
      return undefined;
    },
    after: (outcome, settled) => onVerdict(session.judge(outcome, settled)),
    turn,
  };
}

/**
 * Console output of several guests on one terminal: whole lines, each behind `[name] `.
 * A line still open when the run ends is flushed with a newline.
 */
export class ConsolePrefixer {
  private partial = '';
  constructor(
    private readonly prefix: string,
    private readonly out: (s: string) => void,
  ) {}

  write(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    if (lines.length) this.out(lines.map((l) => `${this.prefix}${l}\n`).join(''));
  }

  flush(): void {
    if (this.partial) this.out(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

/** `--console-log DIR`: DIR/NAME.log per guest, that guest's console bytes only. */
export class ConsoleLogs {
  private readonly fds = new Map<string, number>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** A writer for guest `name`'s file (created, or emptied if it exists). */
  open(name: string): (text: string) => void {
    const fd = openSync(join(this.dir, `${name}.log`), 'w');
    this.fds.set(name, fd);
    return (text) => writeSync(fd, Buffer.from(text, 'latin1'));
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

interface GuestState {
  g: NetGuest;
  /** Realtime: the guest's switch port. */
  port?: SwitchPort;
  /** Deterministic: the guest's place in the lockstep run. */
  lp?: LockstepPort;
  /** The script has ended and the guest settled: it runs on only to serve the others. */
  done: boolean;
  /** Powered off (or rebooted) without failing: no longer run. */
  ended: boolean;
  /** Realtime: host time before which an idle guest need not run, unless woken. */
  sleepUntil: number;
}

/** A zero-delay turn of node's event loop (stdout drains, disk promises settle). */
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Puts every guest on a new switch and runs them all until the run ends; returns its exit
 * code. `capture` is told the switch first (to tap it for --pcap); it returns its closer.
 */
export async function runGuests(guests: NetGuest[], deterministic: boolean, capture?: (sw: EthernetSwitch) => () => void): Promise<number> {
  const loop = new GuestLoop();
  let start = 0n;
  for (const g of guests) if (g.vm.core.mtime > start) start = g.vm.core.mtime;
  const ls = deterministic ? new Lockstep(start) : undefined;
  const sw = ls?.sw ?? realtimeSwitch();
  const stopCapture = capture?.(sw);
  const states: GuestState[] = guests.map((g) => {
    const s: GuestState = { g, done: false, ended: false, sleepUntil: 0 };
    if (ls) s.lp = joinLockstep(ls, g.name, g.vm);
    else {
      // Realtime: a frame for an idle guest wakes it now rather than at its next timer.
      s.port = connectGuest(sw, g.name, g.vm, () => {
        s.sleepUntil = 0;
        loop.wake();
      });
    }
    return s;
  });
  const leave = (s: GuestState) => {
    s.port?.detach();
    s.lp?.detach();
  };
  const scripted = states.filter((s) => s.g.session.player !== undefined);
  const finished = () => (scripted.length > 0 ? scripted.every((s) => s.done || s.ended) : states.every((s) => s.ended));
  /** Applies a verdict; returns an exit code when it ends the whole run. */
  const apply = (s: GuestState, v: GuestVerdict | number): number | undefined => {
    if (v === 'done') s.done = true;
    else if (typeof v === 'number') {
      if (v !== EXIT.ok) return v;
      s.ended = true;
      leave(s);
    }
    return undefined;
  };
  try {
    if (ls) return await lockstep(states, ls, apply, finished);
    return await realtime(states, sw, apply, finished, loop);
  } finally {
    for (const s of states) leave(s);
    stopCapture?.();
  }
}

type Apply = (s: GuestState, v: GuestVerdict | number) => number | undefined;

async function lockstep(states: GuestState[], ls: Lockstep, apply: Apply, finished: () => boolean): Promise<number> {
  for (;;) {
    for (const s of states) {
      if (s.ended) continue;
      let code: number | undefined;
      deliverFrames(s.g.vm, s.lp!.takeInbox());
      await runToBoundary(
        s.g.vm,
        ls.boundary,
        sessionHooks(s.g.session, (v) => {
          code = apply(s, v);
          return code !== undefined || s.ended;
        }),
      );
      if (code !== undefined) return code;
    }
    // Frames sent during the quantum cross the switch now, at its end, in port order.
    ls.cross();
    if (finished()) return EXIT.ok;
    await turn();
  }
}

async function realtime(states: GuestState[], sw: EthernetSwitch, apply: Apply, finished: () => boolean, loop: GuestLoop): Promise<number> {
  for (;;) {
    const now = performance.now();
    let busy = false;
    for (const s of states) {
      if (s.ended) continue;
      if (s.sleepUntil > now && !s.g.vm.hasPendingInput) continue;
      const outcome = s.g.session.run({ maxMs: SLICE_MS, maxInsns: TURN_INSNS });
      if (typeof outcome === 'number') return outcome;
      // What it sent crosses now, so a guest later in this round sees it in its turn. The
      // guests run back to back without yielding: the switch's own microtask would wait for
      // the whole round, and every round trip between two busy guests took two rounds.
      sw.pump();
      const code = apply(s, s.g.session.judge(outcome));
      if (code !== undefined) return code;
      if (outcome.kind === 'idle' && !s.g.vm.hasPendingInput) {
        s.sleepUntil = performance.now() + Math.min(outcome.wakeInMs ?? 100, 100);
      } else {
        s.sleepUntil = 0;
        busy = true;
      }
    }
    if (finished()) return EXIT.ok;
    if (busy) {
      await turn();
      continue;
    }
    // Everyone idle: sleep until the first timer, a frame for someone (wake), or disk work.
    const live = states.filter((s) => !s.ended);
    const until = Math.min(...live.map((s) => s.sleepUntil));
    const work = live.map((s) => s.g.vm.pendingWork()).filter((w) => w !== undefined);
    const nap = loop.sleep(Math.max(0, until - performance.now()));
    await (work.length ? Promise.race([nap, ...work]) : nap);
    loop.wake();
  }
}
