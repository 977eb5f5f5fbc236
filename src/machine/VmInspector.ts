/**
 * The teaching views' window into one guest: the boot timeline with host times, trap
 * counters and the trap log, the hart's registers and CSRs, "where does this address go?",
 * and a debugger (step, run to the next trap or mode change, breakpoint). It lives next to
 * the Vm (in its Web Worker, or in node) and returns plain data only (see InspectorTypes.ts).
 *
 * The core records boot stages by instruction count; it has no clock. The inspector adds
 * host time: the host calls `afterSlice(now)` after every `vm.run()` (and, if it sleeps or
 * pauses between slices, `beforeSlice(now)` before the next), and a stage first seen after
 * a slice gets a time interpolated by instruction count between the slice's start and end.
 *
 * The debugger's operations run the guest through the Vm's own run loop (`Vm.runUntil`), so
 * console output goes to the Vm's listener and a disk request the guest makes while it is
 * stepped is served and completes; they are asynchronous because that work needs the
 * event loop. The inspector assumes it is the only user of the breakpoint.
 */
import { BOOT_STAGES, RAM_BASE, type Core, type HostTrigger, type TrapEvent } from './Core.ts';
import {
  csrNumber, decodeCsrFields, disassemble, explainTranslation, fRegName, xRegName,
  type AccessType, type CsrField, type Privilege, type Translation, type TranslationState,
} from '../inspect/index.ts';
import type {
  AddressReport, CodeLine, ControlResult, CsrView, FpRegisterValue, HartPosition, InspectorEvent,
  MachineSnapshot, NamedTrap, StepBackInfo, StopName, Timeline, TimelineStage, TrapCounter, TrapStats, VmInspectorApi,
} from './InspectorTypes.ts';
import {
  causeOfCounter, DEFAULT_TRAP_LOG_FILTER, keepsTrap, nameCause, returnMaskFor, ringMasksFor, type TrapLogFilter,
} from '../inspect/index.ts';
import { privilegeOf } from '../inspect/privilege.ts';
import { physicalRegion } from './physicalRegion.ts';
import { TrapRateWindow } from './TrapRateWindow.ts';
import type { RunOutcome, Vm } from './Vm.ts';
import type { Rewind } from './Rewind.ts';

export interface VmInspectorOptions {
  /** Host time of power-on, in ms (default: `clock()` now). Create the inspector before the first run. */
  startMs?: number;
  /** The host clock for stages and trap windows reached while the inspector itself runs the hart. */
  clock?: () => number;
  /** Step back (a deterministic machine run through it); without it, `unavailable` says why. */
  rewind?: Rewind;
  /** Why there is no `rewind`, for `stepBackInfo`. */
  noRewind?: string;
}

/** core.priv is the mode's encoding: 0 U, 1 S, 3 M. */
/** The core's privilege as a letter; the hart never holds the reserved level 2. */
const privName = (p: number): Privilege => privilegeOf(p)!;

/** The privilege each boot stage runs in: the reset ROM and OpenSBI in M, Linux in S, init and the shell in U. */
const STAGE_PRIV: Record<(typeof BOOT_STAGES)[number], Privilege> = {
  'power-on': 'M', firmware: 'M', kernel: 'S', paging: 'S', user: 'U', shell: 'U',
};

/** The CSRs the snapshot shows, in the order a student meets them. */
const SNAPSHOT_CSRS = [
  'mstatus', 'sstatus', 'satp', 'mip', 'mie', 'mideleg', 'medeleg',
  'mtvec', 'stvec', 'mepc', 'sepc', 'mcause', 'scause', 'mtval', 'stval',
] as const;

/** How many instructions the snapshot's code listing shows from pc on. */
const CODE_LINES = 8;
/** How many filtered trap-log entries the inspector keeps (the panel shows up to this many). */
const KEPT_TRAPS = 64;
/** The access a page fault's code names. */
const FAULT_ACCESS: Record<number, AccessType> = { 12: 'fetch', 13: 'load', 15: 'store' };

/** Default budget of stepUntilTrap / runUntilPrivChange: a few host seconds at most. */
const DEFAULT_MAX_INSNS = 200_000_000;

/** A slice boundary: host time and instruction count. */
interface Mark {
  ms: number;
  insns: bigint;
}

export class VmInspector implements VmInspectorApi {
  private readonly clock: () => number;
  private readonly startMs: number;
  private readonly core: Core;
  /** Host time (ms since power-on) at which each stage was first seen. */
  private readonly stageMs: (number | undefined)[] = BOOT_STAGES.map(() => undefined);
  private sliceStart: Mark;
  private lastMs: number;
  private readonly window: TrapRateWindow;
  private breakpoint: bigint | undefined;
  /** The last run stopped before an instruction or access that must now run once. */
  private stoppedBefore = false;
  private readonly ramView: DataView;
  private filter: TrapLogFilter = { ...DEFAULT_TRAP_LOG_FILTER };
  /** The trap log as the filter kept it, oldest first (at most KEPT_TRAPS). */
  private kept: NamedTrap[] = [];
  /** The core's trap-log position collected up to, and records lost before collection. */
  private logNext = 0;
  private lost = 0;
  /** By privilege: whether the latest followed trap from it was kept (so its return is). */
  private readonly awaitingReturn = new Map<Privilege, NamedTrap | undefined>();

  private readonly rewind: Rewind | undefined;
  private readonly noRewind: string;
  /** Inside a step back: the core's trap log is being replayed, not collected. */
  private rewinding = false;

  constructor(private readonly vm: Vm, options: VmInspectorOptions = {}) {
    const core = vm.core;
    this.rewind = options.rewind;
    this.noRewind = options.noRewind ?? 'step back is not offered for this machine';
    this.core = core;
    this.clock = options.clock ?? (() => performance.now());
    this.startMs = options.startMs ?? this.clock();
    this.sliceStart = { ms: this.startMs, insns: core.instructions };
    this.lastMs = this.startMs;
    this.window = new TrapRateWindow(this.startMs, 32);
    this.ramView = new DataView(core.ram.buffer, core.ram.byteOffset, core.ram.byteLength);
    this.stageMs[0] = 0; // power-on is the inspector's own start
    this.afterSlice(this.startMs);
  }

  /** Clears the breakpoint; the Vm is its owner's, not ours. */
  dispose(): void {
    if (this.breakpoint !== undefined) this.setBreakpoint(undefined);
  }

  // --- slice bookkeeping (called by the host's run loop, not over comlink) ---

  /** The next slice starts now (call after a sleep or pause, so it is not counted as running time). */
  beforeSlice(nowMs: number): void {
    this.sliceStart = { ms: nowMs, insns: this.core.instructions };
  }

  /**
   * Records what the slice that just ended reached. Returns stages first seen in it, and a
   * breakpoint stop (the core sits before the breakpoint's instruction until
   * `continuePastBreakpoint()`): the host should pause its loop on that.
   */
  afterSlice(nowMs: number): InspectorEvent[] {
    const events: InspectorEvent[] = [];
    const core = this.core;
    const end: Mark = { ms: nowMs, insns: core.instructions };
    const start = this.sliceStart;
    const stages = core.bootStages();
    for (let i = 0; i < BOOT_STAGES.length; i++) {
      const at = stages[i];
      if (at === undefined || this.stageMs[i] !== undefined) continue;
      const ms = interpolate(start, end, at) - this.startMs;
      this.stageMs[i] = ms;
      events.push({ kind: 'stage', stage: BOOT_STAGES[i], instructions: at, wallMs: ms });
    }
    const counts = core.trapCounts();
    this.window.record(nowMs, [...counts.exceptions, ...counts.interrupts].map(Number));
    this.collectTraps();
    this.sliceStart = end;
    this.lastMs = nowMs;
    if (this.breakpoint !== undefined && core.pc === this.breakpoint) {
      events.push({ kind: 'breakpoint', pc: core.pc, priv: privName(core.priv) });
    }
    return events;
  }

  // --- views ---

  timeline(): Timeline {
    const at = this.core.bootStages();
    const stages = BOOT_STAGES.map((stage, i): TimelineStage => {
      const s: TimelineStage = { stage, priv: STAGE_PRIV[stage] };
      if (at[i] !== undefined) s.instructions = at[i];
      if (at[i] !== undefined && this.stageMs[i] !== undefined) s.wallMs = this.stageMs[i];
      return s;
    });
    return { stages, instructions: this.core.instructions, wallMs: this.lastMs - this.startMs };
  }

  traps(maxRecent = 64): TrapStats {
    const core = this.core;
    const c = core.trapCounts();
    const now = [...c.exceptions, ...c.interrupts].map(Number);
    const base = this.window.base(this.lastMs);
    const counters: TrapCounter[] = [];
    let totalSinceBoot = 0;
    let totalLastSecond = 0;
    for (let i = 0; i < now.length; i++) {
      if (now[i] === 0) continue;
      const lastSecond = now[i] - (base.counts[i] ?? 0);
      counters.push({ ...nameCause(causeOfCounter(i)), sinceBoot: now[i], lastSecond });
      totalSinceBoot += now[i];
      totalLastSecond += lastSecond;
    }
    this.collectTraps();
    const recent = this.kept.slice(Math.max(0, this.kept.length - maxRecent)).map((t) => this.withHandler(t));
    return {
      priv: privName(core.priv),
      instructions: core.instructions,
      counters,
      totalSinceBoot,
      totalLastSecond,
      windowMs: base.windowMs,
      recent,
      filter: { ...this.filter, kinds: [...this.filter.kinds], from: [...this.filter.from] },
      lost: this.lost,
    };
  }

  snapshot(): MachineSnapshot {
    const core = this.core;
    // x0's slot can hold what an instruction with rd = 0 just wrote (the core zeroes it before
    // each instruction instead of guarding every write); architecturally it is always 0.
    const x = Array.from({ length: 32 }, (_, i) => ({ index: i, name: xRegName(i), value: i === 0 ? 0n : core.getX(i) }));
    const f = Array.from({ length: 32 }, (_, i): FpRegisterValue => {
      const value = core.getF(i);
      const reg: FpRegisterValue = { index: i, name: fRegName(i), value, double: bitsToDouble(value) };
      // Single-precision values live NaN-boxed: the upper 32 bits all ones (spec, "NaN Boxing").
      if (value >> 32n === 0xffff_ffffn) reg.single = bitsToFloat(Number(value & 0xffff_ffffn));
      return reg;
    });
    const csrs: CsrView[] = [];
    for (const name of SNAPSHOT_CSRS) {
      const number = csrNumber(name)!;
      const value = core.csr(number);
      if (value === undefined) continue;
      csrs.push({ name, number, value, fields: csrFields(name, value) });
    }
    const tlb = core.tlbEntries().map((e) => {
      const v: MachineSnapshot['tlb'][number] = { tlb: e.tlb, vpage: e.vpage };
      if (e.ramOffset !== undefined) v.ppage = RAM_BASE + BigInt(e.ramOffset);
      return v;
    });
    const harts = core.hartStates().map((h) => ({ id: h.id, pc: h.pc, priv: privName(h.priv), sleeping: h.sleeping }));
    const snap: MachineSnapshot = {
      pc: core.pc, priv: privName(core.priv), instructions: core.instructions, hart: core.currentHart, harts,
      x, f, csrs, tlb, code: this.codeAt(core.pc, CODE_LINES),
    };
    if (this.breakpoint !== undefined) snap.breakpoint = this.breakpoint;
    return snap;
  }

  explain(va: bigint, access: AccessType, priv?: Privilege): AddressReport {
    const translation = explainTranslation(va, access, this.translationState(priv), (pa) => this.readPhys64(pa));
    const report: AddressReport = { translation };
    if (translation.pa !== undefined) {
      report.region = physicalRegion(translation.pa, this.core.ramBytes);
      const value = this.readPhys64(translation.pa);
      if (value !== undefined) report.value = value;
    }
    return report;
  }

  // --- control ---

  /**
   * Runs exactly one instruction, stopping at a trap's handler if the instruction traps.
   * An interrupt pending before it is taken first and nothing else runs (stop = 'trap',
   * executed = 0): stepping again runs the handler's first instruction.
   */
  async step(): Promise<ControlResult> {
    const core = this.core;
    const disassembly = this.codeAt(core.pc, 1)[0]?.text;
    const traps = core.lastTrap.count;
    const result = await this.runFor(1n, 'trap');
    if (core.lastTrap.count !== traps) result.stop = 'trap';
    else if (result.stop === 'budget') result.stop = 'step';
    this.describeTrap(result);
    if (disassembly !== undefined) result.disassembly = disassembly;
    return result;
  }

  /** Runs until a trap is taken (pc at its handler), the breakpoint, or `maxInsns`; WFI jumps to the timer. */
  async stepUntilTrap(maxInsns = DEFAULT_MAX_INSNS): Promise<ControlResult> {
    return this.describeTrap(await this.runFor(insnBudget(maxInsns), 'trap'));
  }

  /** Runs until the privilege mode changes (by a trap or an xRET), the breakpoint, or `maxInsns`. */
  async runUntilPrivChange(maxInsns = DEFAULT_MAX_INSNS): Promise<ControlResult> {
    return this.describeTrap(await this.runFor(insnBudget(maxInsns), 'priv'));
  }

  async stepBack(): Promise<ControlResult> {
    return this.goBack('instruction', (r) => r.rewindTo(this.core.instructions - 1n));
  }

  async runBackToTrap(): Promise<ControlResult> {
    return this.goBack('trap', (r) => r.runBack('trap'));
  }

  async runBackToPrivChange(): Promise<ControlResult> {
    return this.goBack('priv', (r) => r.runBack('priv'));
  }

  async backToTrap(seq: number): Promise<ControlResult> {
    return this.goBack('trap', (r) => r.rewindToTrap(seq));
  }

  stepBackInfo(): StepBackInfo {
    const r = this.rewind;
    if (!r) return { unavailable: this.noRewind, checkpoints: 0, bytes: 0 };
    const info: StepBackInfo = r.stats;
    if (r.oldest !== undefined) info.oldest = r.oldest;
    return info;
  }

  /**
   * Goes back through the rewind and says where to, as a control result. The trap log is
   * collected up to the point gone back to: what the machine does from there is logged
   * again as it happens again.
   */
  private async goBack(back: 'instruction' | 'trap' | 'priv', go: (r: Rewind) => Promise<unknown>): Promise<ControlResult> {
    const r = this.rewind;
    if (!r) throw new Error(this.noRewind);
    const core = this.core;
    const from = this.position();
    const before = core.instructions;
    this.collectTraps();
    // A view asking for traps meanwhile (the worker answers between the replay's awaits) gets the log as it was.
    this.rewinding = true;
    let found: unknown;
    try {
      found = await go(r);
    } finally {
      this.rewinding = false;
    }
    if (found === false) throw new Error(back === 'trap' ? 'no trap was taken since the oldest checkpoint' : 'no privilege change since the oldest checkpoint');
    // Traps logged after the point gone back to have not happened (yet). A record's seq is
    // the traps taken before it; ring positions are no guide (the returns a replay logs can
    // differ from the first run's, which followed traps taken before the checkpoint). A return
    // after the last trap taken is dropped too: whether it happened yet the seq cannot tell.
    const taken = Number(core.trapCount);
    this.kept = this.kept.filter((t) => (t.returnTo === undefined ? t.seq < taken : t.seq < taken - 1));
    this.logNext = core.trapEvents(Number.MAX_SAFE_INTEGER).next;
    this.awaitingReturn.clear();
    this.stoppedBefore = false;
    this.sliceStart = { ms: this.clock(), insns: core.instructions };
    const result: ControlResult = { stop: 'back', back, from, to: this.position(), executed: core.instructions - before, instructions: core.instructions };
    const trap = back === 'trap' ? core.trapLog(1)[0] : undefined;
    if (trap) result.trap = this.nameTrap(trap);
    return result;
  }

  setBreakpoint(pc: bigint | undefined): void {
    this.breakpoint = pc === undefined ? undefined : BigInt.asUintN(64, pc);
    this.core.setBreakpoint(this.breakpoint);
  }

  continuePastBreakpoint(): void {
    if (this.stoppedBefore || (this.breakpoint !== undefined && this.core.pc === this.breakpoint)) this.core.resumeFromBreakpoint();
    this.stoppedBefore = false;
  }

  /** A hardware breakpoint or watchpoint in host trigger `slot` (undefined clears it): see Core.setHostTrigger. */
  setHostTrigger(slot: number, trigger: HostTrigger | undefined): void {
    this.core.setHostTrigger(slot, trigger);
  }

  setTrapLogFilter(filter: TrapLogFilter): void {
    this.collectTraps(); // what ran so far is collected under the old filter
    this.filter = { ...filter, kinds: [...filter.kinds], from: [...filter.from] };
    this.core.setTrapReturnMask(returnMaskFor(this.filter));
    this.core.setTrapRingMask(...ringMasksFor(this.filter));
    this.awaitingReturn.clear();
    this.lost = 0; // counted from here: what the new filter could not see
    this.kept = this.kept.filter((t) => (t.returnTo !== undefined ? this.filter.returns : keepsTrap(this.filter, t.kind, t.from)));
  }

  // --- internals ---

  /**
   * Moves the core's new trap-log records through the filter into `kept`. The core's ring
   * holds TRAP_LOG_ENTRIES records, many slices' worth; a record overwritten before this
   * runs is counted in `lost`.
   */
  private collectTraps(): void {
    if (this.rewinding) return;
    const { events, next, lost } = this.core.trapEvents(this.logNext);
    this.logNext = next;
    this.lost += lost;
    for (const ev of events) {
      const t = this.keepEvent(ev);
      if (t !== undefined) this.kept.push(t);
    }
    if (this.kept.length > KEPT_TRAPS) this.kept.splice(0, this.kept.length - KEPT_TRAPS);
  }

  private keepEvent(ev: TrapEvent): NamedTrap | undefined {
    const named = this.nameEvent(ev);
    if (named && this.core.hartStates().length > 1) named.hart = ev.hart;
    return named;
  }

  private nameEvent(ev: TrapEvent): NamedTrap | undefined {
    const from = privName(ev.from);
    if (ev.isReturn) {
      // The core logs the return of every followed trap; keep those whose trap was kept.
      const to = privName(ev.to);
      const trap = this.awaitingReturn.get(to);
      if (!this.filter.returns || trap === undefined) return undefined;
      this.awaitingReturn.delete(to);
      // Named as the trap it returns from (kind, cause), so views can tell a system call's result.
      const named: NamedTrap = { ...nameCause(trap.cause), seq: ev.seq, pc: ev.pc, tval: ev.tval, handler: ev.handler, from, returnTo: to };
      named.short = `${from === 'M' ? 'mret' : 'sret'} to ${to}`;
      named.name = `Return from the trap to ${to}-mode (${from === 'M' ? 'mret' : 'sret'}), a0 = ${ev.tval}`;
      const walk = this.replayWalk(ev, this.lastFaultAccess.get(to), to);
      if (walk) named.walk = walk;
      return named;
    }
    const named: NamedTrap = { ...nameCause(ev.cause), seq: ev.seq, pc: ev.pc, tval: ev.tval, handler: ev.handler, from };
    const followed = !named.interrupt && ((returnMaskFor(this.filter) >>> named.code) & 1) === 1;
    const keep = keepsTrap(this.filter, named.kind, from);
    if (followed) this.awaitingReturn.set(from, keep ? named : undefined);
    if (!keep) return undefined;
    if (named.kind === 'syscall') named.a7 = ev.a7;
    const access = named.interrupt ? undefined : FAULT_ACCESS[named.code];
    if (access) {
      this.lastFaultAccess.set(from, access);
      const walk = this.replayWalk(ev, access, from);
      if (walk) named.walk = walk;
    }
    return named;
  }

  /** The access of the latest page fault from each privilege, for its return's walk. */
  private readonly lastFaultAccess = new Map<Privilege, AccessType>();

  /** A page fault's (or its return's) walk of the faulting address, over the PTEs the core read then. */
  private replayWalk(ev: TrapEvent, access: AccessType | undefined, priv: Privilege): Translation | undefined {
    if (ev.walk === undefined || access === undefined) return undefined;
    const ptes = new Map(ev.walk.ptes.map((p) => [p.addr, p.value]));
    // A return's tval is a0; the fault's address is the walk's: the kept fault's tval.
    const va = ev.isReturn ? this.faultAddress(priv) : ev.tval;
    if (va === undefined) return undefined;
    // mstatus 0: SUM and MXR clear, as for a user access; the walk reads only the snapshot.
    return explainTranslation(va, access, { satp: ev.walk.satp, priv, mstatus: 0n }, (pa) => ptes.get(pa));
  }

  /** The address of the latest kept page fault from `priv`. */
  private faultAddress(priv: Privilege): bigint | undefined {
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const t = this.kept[i];
      if (t.returnTo === undefined && t.from === priv && t.kind === 'page-fault') return t.tval;
    }
    return undefined;
  }

  /** Names the layer that handled a trap by today's trap vectors (they can change, so not at collection). */
  private withHandler(t: NamedTrap): NamedTrap {
    if (t.returnTo !== undefined) return t;
    const layer = this.handlerLayer(t.handler, t.interrupt, t.code);
    if (layer === undefined) return t;
    return { ...t, handledIn: layer };
  }

  /**
   * Runs up to `maxInsns` instructions through the Vm, stopping on `stopOn`, the breakpoint
   * or the guest's end; an idle hart jumps to its timer, as in deterministic time, so
   * stepping does not wait on the host clock. Device work the guest started (a disk read)
   * is awaited whenever it is in flight, so the guest sees it complete as it would running.
   */
  private async runFor(maxInsns: bigint, stopOn: 'trap' | 'priv'): Promise<ControlResult> {
    const vm = this.vm;
    const core = this.core;
    this.beforeSlice(this.clock());
    // Paused, the guest's clock stood still (realtime): a step after a long look at the
    // registers is one instruction of guest time, not the look's length, which would bring
    // every timer due meanwhile into the step.
    vm.resumeClock();
    const from = this.position();
    const before = core.instructions;
    const limit = before + maxInsns;
    if (this.stoppedBefore || from.pc === this.breakpoint) core.resumeFromBreakpoint();
    this.stoppedBefore = false;
    let stop: StopName | undefined;
    let watchAddress: bigint | undefined;
    while (stop === undefined) {
      const left = limit - core.instructions;
      if (left <= 0n) {
        stop = 'budget';
        break;
      }
      if (this.rewind?.behind) {
        // Gone back and not yet where it had been: forward through the log (its inputs and
        // quantum limits on their instructions), as the machine went the first time.
        if ((await this.rewind.forward(limit, stopOn)) === 'stop') stop = stopOn;
        continue;
      }
      // In lockstep the inspector's runs have no quantum limit (the time it skips is its own): the log says so.
      this.rewind?.setTimeLimit(undefined);
      // With step back, a run ends where the log's next input is due (after going back: the future).
      const due = this.rewind?.runLimit();
      const o = vm.runUntil({ maxInsns: due !== undefined && due < left ? due : left, maxMs: Infinity, stopOn, idle: 'skip' });
      await this.rewind?.afterRun();
      if (o.kind === 'budget' && core.instructions < limit) continue;
      if (o.kind === 'running' || (o.kind === 'idle' && vm.completions.pending > 0)) {
        // Device work in flight: let it settle, and go on (the guest sees it complete).
        await vm.pendingWork();
        continue;
      }
      stop = stopName(o);
      if (o.kind === 'debug' && o.reason === 'watchpoint') watchAddress = o.address;
    }
    this.stoppedBefore = stop === 'breakpoint' || stop === 'watchpoint';
    // Stages reached and traps taken while stepping get host times too (the operation was the slice).
    this.afterSlice(this.clock());
    const result: ControlResult = { stop, from, to: this.position(), executed: core.instructions - before, instructions: core.instructions };
    if (watchAddress !== undefined) result.watchAddress = watchAddress;
    return result;
  }

  /** A trap stop names the trap it stopped at. */
  private describeTrap(result: ControlResult): ControlResult {
    if (result.stop === 'trap') {
      const t = this.core.trapLog(1)[0];
      if (t !== undefined) result.trap = this.nameTrap(t);
    }
    return result;
  }

  private position(): HartPosition {
    return { pc: this.core.pc, priv: privName(this.core.priv) };
  }

  private nameTrap(t: TrapEvent): NamedTrap {
    const named: NamedTrap = { ...nameCause(t.cause), seq: t.seq, pc: t.pc, tval: t.tval, handler: t.handler, from: privName(t.from) };
    const layer = this.handlerLayer(t.handler, named.interrupt, named.code);
    if (layer !== undefined) named.handledIn = layer;
    return named;
  }

  /** M or S, by which trap vector (direct, or vectored for interrupts) points at `handler`. */
  private handlerLayer(handler: bigint, interrupt: boolean, code: number): 'M' | 'S' | undefined {
    for (const [layer, csr] of [['S', 0x105], ['M', 0x305]] as const) {
      const tvec = this.core.csr(csr);
      if (tvec === undefined) continue;
      const base = tvec & ~3n;
      const vectored = (tvec & 3n) === 1n && interrupt;
      if (handler === (vectored ? base + 4n * BigInt(code) : base)) return layer;
    }
    return undefined;
  }

  private translationState(priv?: Privilege): TranslationState {
    const core = this.core;
    return { satp: core.csr(0x180) ?? 0n, priv: priv ?? privName(core.priv), mstatus: core.csr(0x300) ?? 0n };
  }

  /** An 8-byte little-endian read of RAM; undefined anywhere else (a PTE there is an access fault). */
  private readPhys64(pa: bigint): bigint | undefined {
    const off = pa - RAM_BASE;
    if (off < 0n || off + 8n > BigInt(this.core.ramBytes)) return undefined;
    return this.ramView.getBigUint64(Number(off), true);
  }

  /** A 16-bit parcel of instruction memory at physical `pa` (RAM or the reset ROM). */
  private readParcel(pa: bigint): number | undefined {
    const core = this.core;
    const off = pa - RAM_BASE;
    if (off >= 0n && off + 2n <= BigInt(core.ramBytes)) return this.ramView.getUint16(Number(off), true);
    if (pa >= 0x1000n && pa + 2n <= BigInt(core.rom.length)) return core.rom[Number(pa)] | (core.rom[Number(pa) + 1] << 8);
    return undefined;
  }

  /** The parcel at virtual `va` as the hart would fetch it now. */
  private fetchParcel(va: bigint): number | undefined {
    const t = explainTranslation(va, 'fetch', this.translationState(), (pa) => this.readPhys64(pa));
    return t.pa === undefined ? undefined : this.readParcel(t.pa);
  }

  /** Up to `n` instructions laid out from `pc`, stopping at the first that cannot be fetched. */
  private codeAt(pc: bigint, n: number): CodeLine[] {
    const out: CodeLine[] = [];
    let at = BigInt.asUintN(64, pc);
    for (let i = 0; i < n; i++) {
      const lo = this.fetchParcel(at);
      if (lo === undefined) break;
      let bits = lo;
      if ((lo & 3) === 3) {
        const hi = this.fetchParcel(BigInt.asUintN(64, at + 2n));
        if (hi === undefined) break;
        bits = (lo | (hi << 16)) >>> 0;
      }
      const d = disassemble(bits, at, { aliases: true });
      out.push({ pc: at, bits: d.length === 2 ? bits & 0xffff : bits, length: d.length, text: d.text });
      at = BigInt.asUintN(64, at + BigInt(d.length));
    }
    return out;
  }
}

/** Host time at instruction `at`, between two slice boundaries (clamped to the slice). */
function interpolate(start: Mark, end: Mark, at: bigint): number {
  const span = end.insns - start.insns;
  if (span <= 0n || at >= end.insns) return end.ms;
  if (at <= start.insns) return start.ms;
  return start.ms + (Number(at - start.insns) / Number(span)) * (end.ms - start.ms);
}

/** The debugger's name for why a run through the Vm ended. */
function stopName(o: Exclude<RunOutcome, { kind: 'running' }>): StopName {
  switch (o.kind) {
    case 'budget': return 'budget';
    case 'debug': return o.reason;
    case 'idle': return 'wfi'; // nothing can wake the hart, or a step ended on its WFI
    case 'poweroff': return 'poweroff';
    case 'reboot': return 'reboot';
    // XXX: a hart repeating one fault shows as a stop at that trap; a full version would name it.
    case 'crashed': return 'trap';
  }
}

/** A debugger budget as an instruction count (negative and fractional counts clamped). */
function insnBudget(maxInsns: number): bigint {
  return BigInt(Math.max(0, Math.floor(maxInsns)));
}

/** Fields of a CSR: the inspector's layouts, plus the trap vectors' BASE and MODE. */
function csrFields(name: string, value: bigint): CsrField[] {
  const decoded = decodeCsrFields(name, value);
  if (decoded !== undefined) return decoded.fields;
  if (name === 'mtvec' || name === 'stvec') {
    const mode = value & 3n;
    return [
      { name: 'BASE', hi: 63, lo: 2, value: value >> 2n, meaning: `handler at 0x${(value & ~3n).toString(16)}` },
      { name: 'MODE', hi: 1, lo: 0, value: mode, meaning: mode === 0n ? 'Direct' : mode === 1n ? 'Vectored' : 'reserved' },
    ];
  }
  return [];
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bitsToDouble(bits: bigint): number {
  u64[0] = bits;
  return f64[0];
}

function bitsToFloat(bits: number): number {
  u32[0] = bits;
  return f32[0];
}
