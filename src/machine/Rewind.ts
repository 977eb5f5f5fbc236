/**
 * Step back for a deterministic machine: it takes checkpoints of the machine as it runs
 * (every `interval` instructions, bounded in memory, each with its disks' undo marks), logs
 * what the host gives the guest (console input, network frames) with the instruction count
 * it was given at, and goes back by restoring the nearest checkpoint at or before the target
 * and replaying forward with the logged inputs. In deterministic time the guest is a
 * function of its instruction count and its inputs, so the replayed machine is the one that
 * stood there: registers, CSRs, memory, devices and the console's bytes so far.
 *
 * After going back the log's later inputs are the machine's future: running forward feeds
 * each on its instruction again (the guest does what it did, the same page fault again),
 * until the host gives a new input, which ends that future. Until the machine is back where
 * it had been (the horizon) what it transmits is dropped: the network saw it once.
 *
 * The host runs the machine through this object's hooks: `runLimit()` bounds each run so an
 * input lands on its instruction, `afterRun()` feeds what is due and takes checkpoints, and
 * input goes through `sendInput`/`receiveFrame`; a guest in lockstep (src/net/Lockstep.ts)
 * says each quantum's guest-time limit with `setTimeLimit`, and a replay runs to the same
 * limits and idles to them as `runToBoundary` does. Behind its horizon the machine goes
 * forward only through `forward()`, which feeds the log's future as it passes. A shared folder is refused (its files live
 * in the host and do not go back), as is realtime (a guest there is not replayable).
 */
import type { UndoLogDisk } from '../disk/UndoLogDisk.ts';
import type { RunOutcome, Vm } from './Vm.ts';
import { RAM_PAGE, type VmState } from './VmState.ts';

export interface RewindOptions {
  /** Instructions between automatic checkpoints (default 20 million, about half a second of the interpreter: a step back replays at most that many). */
  interval?: bigint;
  /** Bytes the checkpoints and the disks' undo logs may hold together (default 128 MiB: a scenario may run four deterministic guests in one tab); the oldest checkpoints go first. */
  maxBytes?: number;
}

/** Why step back cannot be offered for a machine, or cannot go where it was asked. */
export class RewindError extends Error {
  override readonly name = 'RewindError';
}

/** What the host gave the guest, on which instruction: console input, a frame, a lockstep quantum's time limit. */
type LoggedInput = { at: bigint; input: Uint8Array } | { at: bigint; frame: Uint8Array } | { at: bigint; limit: bigint | undefined };

interface Checkpoint {
  at: bigint;
  /** The machine, its RAM as `pages` (page numbers) and `data` (one array per page, shared with older checkpoints where equal). */
  state: Omit<VmState, 'ram'>;
  pages: Uint32Array;
  data: Uint8Array[];
  disks: number[];
  /** Console bytes the guest had printed. */
  output: number;
  /** The lockstep quantum's time limit then. */
  limit: bigint | undefined;
  /** Traps taken since reset (core.trapCount) then. */
  traps: bigint;
  /** Bytes this checkpoint holds that no other does. */
  bytes: number;
}

/** A position in the run: instructions, and traps taken (two stops can share an instruction count). */
interface Position {
  at: bigint;
  traps: bigint;
}

const before = (a: Position, b: Position) => a.at < b.at || (a.at === b.at && a.traps < b.traps);

/** The most console output kept for redrawing a terminal after going back. */
const MAX_OUTPUT = 4 * 2 ** 20;

export class Rewind {
  private readonly interval: bigint;
  private readonly maxBytes: number;
  private checkpoints: Checkpoint[] = [];
  private log: LoggedInput[] = [];
  /** The next entry of `log` to feed (entries before it are the past). */
  private next = 0;
  /** The furthest instruction the machine ran to: before it, what it transmits was sent once already. */
  private horizon = 0n;
  /** Console output so far, its first byte being byte `outputStart` of everything printed. */
  private output: Uint8Array[] = [];
  private outputLength = 0;
  private outputStart = 0;
  /** Inside a replay to a target: output is counted, not shown. */
  private quiet = false;
  /** The time limit of the lockstep quantum the machine is in (undefined: none). */
  private limit: bigint | undefined;
  private listener: ((bytes: Uint8Array) => void) | undefined;
  /** What the guest transmits, when it is not a replay of what it sent already. */
  onTransmit: ((frame: Uint8Array) => void) | undefined;

  constructor(
    readonly vm: Vm,
    private readonly disks: UndoLogDisk[],
    options: RewindOptions = {},
  ) {
    if (vm.timeMode !== 'deterministic') throw new RewindError('step back needs deterministic time: a realtime guest does not run the same way twice');
    if (vm.shareDevice) throw new RewindError('step back cannot take a shared folder back: its files live in the host');
    if (disks.length !== vm.blockDevices.length) throw new RewindError(`step back needs every disk behind an undo log (${disks.length} of ${vm.blockDevices.length})`);
    this.interval = options.interval ?? 20_000_000n;
    this.maxBytes = options.maxBytes ?? 128 * 2 ** 20;
    vm.onConsole((bytes) => this.printed(bytes));
    if (vm.netDevice) vm.netDevice.onTransmit = (frame) => {
      if (this.vm.core.instructions >= this.horizon) this.onTransmit?.(frame);
    };
    this.horizon = vm.core.instructions;
  }

  /** Where the guest's console output goes (instead of `vm.onConsole`). */
  onConsole(listener: (bytes: Uint8Array) => void): void {
    this.listener = listener;
  }

  /** The instruction count of the oldest checkpoint: step back goes no further. */
  get oldest(): bigint | undefined {
    return this.checkpoints[0]?.at;
  }

  /** Checkpoints held, and the bytes they and the undo logs hold. */
  get stats(): { checkpoints: number; bytes: number } {
    return { checkpoints: this.checkpoints.length, bytes: this.heldBytes() };
  }

  /** The console output up to now (the last MAX_OUTPUT bytes), for redrawing a terminal after going back. */
  consoleOutput(): Uint8Array {
    const out = new Uint8Array(this.outputLength);
    let n = 0;
    for (const c of this.output) {
      out.set(c, n);
      n += c.length;
    }
    return out;
  }

  /** Console input from the host: logged on this instruction, then queued for the guest. */
  sendInput(bytes: Uint8Array): void {
    this.diverge();
    this.log.push({ at: this.vm.core.instructions, input: bytes.slice() });
    this.next = this.log.length;
    this.vm.sendInput(bytes);
  }

  /** A frame from the switch for the guest's card: logged, then received. Returns what `receive` says. */
  receiveFrame(frame: Uint8Array): boolean {
    this.diverge();
    this.log.push({ at: this.vm.core.instructions, frame: frame.slice() });
    this.next = this.log.length;
    return this.vm.netDevice?.receive(frame) ?? false;
  }

  /**
   * A guest in lockstep: the guest-time limit of the quantum that starts now (its runs get
   * it as `timeLimit`). Logged like an input; ignored behind the horizon, where the log's own
   * limits hold.
   */
  setTimeLimit(limit: bigint | undefined): void {
    if (this.behind || limit === this.limit) return;
    this.log.push({ at: this.vm.core.instructions, limit });
    this.next = this.log.length;
    this.limit = limit;
  }

  /** The machine went back and has not yet come again to where it had been: go forward with `forward()`. */
  get behind(): boolean {
    return this.vm.core.instructions < this.horizon;
  }

  /**
   * Runs the machine forward from behind its horizon, visibly (its output shown), feeding
   * the log's inputs and quantum limits as it passes them, up to instruction `limit` or the
   * horizon, whichever comes first, or to the first stop of `stopOn`. Says which.
   */
  async forward(limit: bigint, stopOn?: 'trap' | 'priv'): Promise<'stop' | 'limit' | 'horizon'> {
    const target = limit < this.horizon ? limit : this.horizon;
    let stopped = false;
    await this.replay(target, stopOn, () => (stopped = true), false);
    if (stopped) return 'stop';
    return this.vm.core.instructions >= this.horizon ? 'horizon' : 'limit';
  }

  /** How many instructions the next run may take, so that a logged input lands on its instruction (undefined: no limit). */
  runLimit(): bigint | undefined {
    const e = this.log[this.next];
    return e === undefined ? undefined : e.at - this.vm.core.instructions;
  }

  /** After every run: feeds the inputs due now, and takes a checkpoint when one is due. */
  async afterRun(): Promise<void> {
    this.feedDue();
    const now = this.vm.core.instructions;
    if (now > this.horizon) this.horizon = now;
    const last = this.checkpoints.at(-1);
    if (last === undefined || now - last.at >= this.interval) await this.checkpoint();
  }

  /** Takes a checkpoint now (the host calls it once before the first run; `afterRun` after). */
  async checkpoint(): Promise<void> {
    const vm = this.vm;
    const { ram, ...state } = await vm.captureState();
    const prev = this.checkpoints.at(-1);
    // Pages equal to the previous checkpoint's are shared with it (a quiet guest changes
    // few); the others are copied out of the capture into one buffer of their own, so the
    // capture's buffer is not kept alive by a few views into it.
    const data: (Uint8Array | number)[] = [];
    let fresh = 0;
    let k = 0;
    for (let i = 0; i < ram.pages.length; i++) {
      const page = ram.pages[i]!;
      if (prev) {
        while (k < prev.pages.length && prev.pages[k]! < page) k++;
        if (prev.pages[k] === page && samePage(prev.data[k]!, ram.data.subarray(i * RAM_PAGE, (i + 1) * RAM_PAGE))) {
          data.push(prev.data[k]!);
          continue;
        }
      }
      data.push(i);
      fresh++;
    }
    const own = new Uint8Array(fresh * RAM_PAGE);
    let n = 0;
    const pages = data.map((d) => {
      if (typeof d !== 'number') return d;
      const view = own.subarray(n * RAM_PAGE, ++n * RAM_PAGE);
      view.set(ram.data.subarray(d * RAM_PAGE, (d + 1) * RAM_PAGE));
      return view;
    });
    const bytes = own.length;
    const cp: Checkpoint = { at: vm.core.instructions, state, pages: ram.pages, data: pages, disks: this.disks.map((d) => d.mark), output: this.outputStart + this.outputLength, limit: this.limit, traps: vm.core.trapCount, bytes };
    if (prev?.at === cp.at) this.checkpoints.pop();
    this.checkpoints.push(cp);
    this.trim();
  }

  /**
   * Goes back to instruction `target` (at or after the oldest checkpoint, not after now):
   * the nearest checkpoint at or before it is restored and the machine replayed to it.
   */
  async rewindTo(target: bigint): Promise<void> {
    const now = this.position();
    if (target > now.at) throw new RangeError(`Rewind.rewindTo: ${target} is after the machine's ${now.at}`);
    const cp = this.checkpointBefore({ at: target, traps: -1n }, true);
    await this.restore(cp);
    await this.replay(target);
  }

  /**
   * Goes back to just after trap `seq` (its trap log record's sequence number: the
   * `seq + 1`th trap since reset) was taken, pc at its handler: restores the newest
   * checkpoint from before it and replays, stopping on traps, until it is taken.
   */
  async rewindToTrap(seq: number): Promise<void> {
    const now = this.position();
    const count = BigInt(seq) + 1n;
    if (count > now.traps) throw new RangeError(`Rewind.rewindToTrap: trap ${seq} has not been taken yet`);
    const cp = [...this.checkpoints].reverse().find((c) => c.traps < count);
    if (!cp) throw new RewindError(`trap #${seq} was taken before the oldest checkpoint${this.checkpoints[0] ? ` (instruction ${this.checkpoints[0].at})` : ''}; older ones were dropped to stay within memory`);
    await this.restore(cp);
    await this.replay(now.at, 'trap', () => this.vm.core.trapCount >= count);
    if (this.vm.core.trapCount !== count) throw new RewindError(`the replay did not take trap #${seq} again (it stands at ${this.vm.core.trapCount} traps)`);
  }

  /**
   * Goes back to the last stop of `stopOn` (a trap taken, or a privilege change) before the
   * machine's position now; false (nothing changed) when there is none since the oldest checkpoint.
   */
  async runBack(stopOn: 'trap' | 'priv'): Promise<boolean> {
    const now = this.position();
    // Restoring one drops those after it: the spans to search are fixed first.
    const spans = this.checkpoints.filter((c) => c.at <= now.at).map((cp, i, all) => ({ cp, end: all[i + 1]?.at ?? now.at }));
    for (let i = spans.length - 1; i >= 0; i--) {
      const { cp, end } = spans[i]!;
      // The stops from this checkpoint to the next (to now for the newest), before now.
      await this.restore(cp);
      let stops = 0;
      await this.replay(end, stopOn, (p) => {
        if (before(p, now)) stops++;
        return false;
      });
      if (stops === 0) continue;
      await this.restore(cp);
      let seen = 0;
      await this.replay(now.at, stopOn, () => ++seen === stops);
      return true;
    }
    // None since the oldest checkpoint: back where it was (the log holds the way).
    await this.replay(now.at);
    return false;
  }

  private position(): Position {
    return { at: this.vm.core.instructions, traps: this.vm.core.trapCount };
  }

  /** The newest checkpoint at or before `p`. */
  private checkpointBefore(p: Position, inclusive: boolean): Checkpoint {
    for (let i = this.checkpoints.length - 1; i >= 0; i--) {
      const cp = this.checkpoints[i]!;
      if (cp.at < p.at || (inclusive && cp.at === p.at)) return cp;
    }
    const oldest = this.checkpoints[0];
    throw new RewindError(oldest === undefined ? 'no checkpoint has been taken yet' : `instruction ${p.at} is before the oldest checkpoint (${oldest.at}); older ones were dropped to stay within memory`);
  }

  /** Puts the machine, its disks and its console output back as they were at `cp`; later checkpoints go. */
  private async restore(cp: Checkpoint): Promise<void> {
    const vm = this.vm;
    await vm.completions.settleAll();
    for (const [i, d] of this.disks.entries()) await d.rollback(cp.disks[i]!);
    const data = new Uint8Array(cp.pages.length * RAM_PAGE);
    cp.data.forEach((page, i) => data.set(page, i * RAM_PAGE));
    vm.applyState({ ...cp.state, ram: { bytes: vm.core.ramBytes, pages: cp.pages, data } });
    this.checkpoints = this.checkpoints.filter((c) => c.at <= cp.at);
    this.truncateOutput(cp.output);
    this.limit = cp.limit;
    this.next = this.log.findIndex((e) => e.at >= cp.at);
    if (this.next < 0) this.next = this.log.length;
  }

  /**
   * Runs the restored machine quietly to instruction `target`, feeding the logged inputs on
   * their instructions. With `stopOn`, each stop is reported; `atStop` returning true ends
   * the replay there.
   */
  private async replay(target: bigint, stopOn?: 'trap' | 'priv', atStop?: (p: Position) => boolean, quiet = true): Promise<void> {
    const vm = this.vm;
    const core = vm.core;
    this.quiet = quiet;
    try {
      for (;;) {
        this.feedDue();
        const now = core.instructions;
        if (now >= target) return;
        const until = this.log[this.next]?.at;
        const limit = until !== undefined && until < target ? until : target;
        // Idle as a host's run loop is (not 'skip'): a deterministic WFI does the same either way.
        const o: RunOutcome = vm.runUntil({ maxInsns: limit - now, maxMs: Infinity, ...(stopOn ? { stopOn } : {}), ...(this.limit !== undefined ? { timeLimit: this.limit } : {}) });
        switch (o.kind) {
          case 'budget':
            continue;
          case 'running':
            await vm.pendingWork();
            continue;
          case 'idle': {
            if (o.wakeInMs !== undefined) continue; // guest time jumped to its timer
            const work = vm.pendingWork();
            if (work) await work;
            // In lockstep nothing armed can wake the hart: its time moves to the quantum's end (runToBoundary).
            else if (this.limit !== undefined && core.mtime < this.limit) core.syncTime(this.limit);
            else if (this.log[this.next]?.at !== core.instructions) {
              throw new RewindError(`the replay stopped at instruction ${core.instructions}, before ${target}: the guest waits for an input the log does not have`);
            }
            continue;
          }
          case 'debug':
            if (o.reason === 'trap' || o.reason === 'priv') {
              if (atStop?.(this.position())) return;
            } else core.resumeFromBreakpoint(); // the debugger's breakpoint is no stop of a replay
            continue;
          default:
            throw new RewindError(`the replay ended at instruction ${core.instructions}, before ${target} (${o.kind})`);
        }
      }
    } finally {
      this.quiet = false;
    }
  }

  /** Feeds the logged inputs due on this instruction. */
  private feedDue(): void {
    const now = this.vm.core.instructions;
    for (; this.next < this.log.length && this.log[this.next]!.at <= now; this.next++) {
      const e = this.log[this.next]!;
      if ('input' in e) this.vm.sendInput(e.input);
      else if ('frame' in e) this.vm.netDevice?.receive(e.frame);
      else this.limit = e.limit;
    }
  }

  /** A new input while the log has a future: that future is no longer what will happen. */
  private diverge(): void {
    if (this.next < this.log.length) this.log.length = this.next;
    this.horizon = this.vm.core.instructions;
  }

  private printed(bytes: Uint8Array): void {
    this.output.push(bytes.slice());
    this.outputLength += bytes.length;
    while (this.outputLength - this.output[0]!.length >= MAX_OUTPUT) {
      const dropped = this.output.shift()!;
      this.outputLength -= dropped.length;
      this.outputStart += dropped.length;
    }
    if (!this.quiet) this.listener?.(bytes);
  }

  /** Keeps the console output up to byte `end` of everything printed. */
  private truncateOutput(end: number): void {
    let keep = Math.max(0, end - this.outputStart);
    const kept: Uint8Array[] = [];
    for (const c of this.output) {
      if (keep <= 0) break;
      kept.push(c.length <= keep ? c : c.subarray(0, keep));
      keep -= c.length;
    }
    this.output = kept;
    this.outputLength = kept.reduce((n, c) => n + c.length, 0);
  }

  private heldBytes(): number {
    return this.checkpoints.reduce((n, c) => n + c.bytes, 0) + this.disks.reduce((n, d) => n + d.heldBytes, 0) + this.log.reduce((n, e) => n + ('input' in e ? e.input.length : 'frame' in e ? e.frame.length : 16), 0);
  }

  /** Drops the oldest checkpoints (never the newest) until within `maxBytes`, and what only they needed. */
  private trim(): void {
    while (this.checkpoints.length > 1 && this.heldBytes() > this.maxBytes) {
      const dropped = this.checkpoints.shift()!;
      const oldest = this.checkpoints[0]!;
      // Pages the dropped one shared with its successor now belong to the successor alone.
      const own = new Set(dropped.data);
      oldest.bytes += oldest.data.filter((p) => own.has(p)).length * RAM_PAGE;
      for (const [i, d] of this.disks.entries()) d.forgetBefore(oldest.disks[i]!);
      const past = this.log.findIndex((e) => e.at >= oldest.at);
      const cut = past < 0 ? this.log.length : past;
      this.log.splice(0, Math.min(cut, this.next));
      this.next -= Math.min(cut, this.next);
    }
  }
}

/** Two 4 KiB pages compared 8 bytes at a time. */
function samePage(a: Uint8Array, b: Uint8Array): boolean {
  const x = new BigUint64Array(a.buffer, a.byteOffset, RAM_PAGE / 8);
  const y = new BigUint64Array(b.buffer, b.byteOffset, RAM_PAGE / 8);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
