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
 * The inspector assumes it is the only user of the core's debugger switches (stopOnTrap,
 * stopOnPrivChange, the breakpoint): it sets them for an operation and clears them after.
 */
import { BOOT_STAGES, RAM_BASE, StopReason, type Core } from './Core.ts';
import {
  csrNumber, decodeCsrFields, disassemble, explainTranslation, fRegName, xRegName,
  type AccessType, type CsrField, type Privilege, type TranslationState,
} from '../inspect/index.ts';
import type {
  AddressReport, CodeLine, ControlResult, CsrView, FpRegisterValue, HartPosition, InspectorEvent,
  MachineSnapshot, NamedTrap, StopName, Timeline, TimelineStage, TrapCounter, TrapStats, VmInspectorApi,
} from './InspectorTypes.ts';
import { causeOfCounter, nameCause } from './nameCause.ts';
import { physicalRegion } from './physicalRegion.ts';
import { TrapRateWindow } from './TrapRateWindow.ts';

export interface VmInspectorOptions {
  /** Host time of power-on, in ms (default: `clock()` now). Create the inspector before the first run. */
  startMs?: number;
  /** The host clock for stages and trap windows reached while the inspector itself runs the hart. */
  clock?: () => number;
  /**
   * Receives console bytes the guest prints while the inspector runs it (stepping to a trap
   * can run millions of instructions): give it the sink that `vm.onConsole` feeds.
   */
  onConsole?: (bytes: Uint8Array) => void;
}

/** core.priv is the mode's encoding: 0 U, 1 S, 3 M. */
const privName = (p: number): Privilege => (p === 0 ? 'U' : p === 1 ? 'S' : 'M');

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
  private readonly onConsole: ((bytes: Uint8Array) => void) | undefined;
  /** Host time (ms since power-on) at which each stage was first seen. */
  private readonly stageMs: (number | undefined)[] = BOOT_STAGES.map(() => undefined);
  private sliceStart: Mark;
  private lastMs: number;
  private readonly window: TrapRateWindow;
  private breakpoint: bigint | undefined;
  private readonly ramView: DataView;
  private disposed = false;

  constructor(private readonly core: Core, options: VmInspectorOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.startMs = options.startMs ?? this.clock();
    this.onConsole = options.onConsole;
    this.sliceStart = { ms: this.startMs, insns: core.instructions };
    this.lastMs = this.startMs;
    this.window = new TrapRateWindow(this.startMs, 32);
    this.ramView = new DataView(core.ram.buffer, core.ram.byteOffset, core.ram.byteLength);
    this.stageMs[0] = 0; // power-on is the inspector's own start
    this.afterSlice(this.startMs);
  }

  /** Drops the references to the host's callbacks; the core is the Vm's, not ours. */
  dispose(): void {
    this.disposed = true;
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
    const recent = core.trapLog(maxRecent).map((t) => this.nameTrap(t));
    return {
      priv: privName(core.priv),
      instructions: core.instructions,
      counters,
      totalSinceBoot,
      totalLastSecond,
      windowMs: base.windowMs,
      recent,
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
    const snap: MachineSnapshot = {
      pc: core.pc, priv: privName(core.priv), instructions: core.instructions, x, f, csrs, tlb, code: this.codeAt(core.pc, CODE_LINES),
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
  step(): ControlResult {
    const core = this.core;
    this.beforeSlice(this.clock());
    const from = this.position();
    const disassembly = this.codeAt(from.pc, 1)[0]?.text;
    const traps = core.lastTrap.count;
    const before = core.instructions;
    if (from.pc === this.breakpoint) core.resumeFromBreakpoint();
    core.stopOnTrap = true;
    let reason: StopReason;
    try {
      reason = core.run(1);
    } finally {
      core.stopOnTrap = false;
    }
    this.flushConsole();
    const trapped = core.lastTrap.count !== traps;
    let stop: StopName = trapped ? 'trap' : 'step';
    // Budget, Console and Device all mean the one instruction ran; WFI, poweroff and the like say more.
    if (!trapped && reason !== StopReason.Budget && reason !== StopReason.Console && reason !== StopReason.Device) stop = stopName(reason);
    const result = this.result(stop, from, before);
    if (disassembly !== undefined) result.disassembly = disassembly;
    return result;
  }

  /** Runs until a trap is taken (pc at its handler), the breakpoint, or `maxInsns`; WFI jumps to the timer. */
  stepUntilTrap(maxInsns = DEFAULT_MAX_INSNS): ControlResult {
    return this.runWith((on) => (this.core.stopOnTrap = on), maxInsns);
  }

  /** Runs until the privilege mode changes (by a trap or an xRET), the breakpoint, or `maxInsns`. */
  runUntilPrivChange(maxInsns = DEFAULT_MAX_INSNS): ControlResult {
    return this.runWith((on) => (this.core.stopOnPrivChange = on), maxInsns);
  }

  setBreakpoint(pc: bigint | undefined): void {
    this.breakpoint = pc === undefined ? undefined : BigInt.asUintN(64, pc);
    this.core.setBreakpoint(this.breakpoint);
  }

  continuePastBreakpoint(): void {
    if (this.breakpoint !== undefined && this.core.pc === this.breakpoint) this.core.resumeFromBreakpoint();
  }

  // --- internals ---

  private runWith(stopOn: (on: boolean) => void, maxInsns: number): ControlResult {
    const core = this.core;
    this.beforeSlice(this.clock());
    const from = this.position();
    const before = core.instructions;
    const limit = before + BigInt(Math.max(0, Math.floor(maxInsns)));
    if (from.pc === this.breakpoint) core.resumeFromBreakpoint();
    let stop: StopName = 'budget';
    stopOn(true);
    try {
      while (core.instructions < limit) {
        const reason = core.run(limit - core.instructions);
        this.flushConsole();
        if (reason === StopReason.Wfi) {
          // The hart sleeps until an interrupt: move guest time to the timer deadline, as
          // the deterministic mode does, so stepping does not wait on the host clock.
          if (!core.skipToTimer()) {
            stop = 'wfi';
            break;
          }
          continue;
        }
        // Console: drained above. Device: a virtqueue kick, which the Vm's next slice hands to
        // the device; the guest waits for the completion meanwhile, as it would on a slow disk.
        if (reason === StopReason.Budget || reason === StopReason.Console || reason === StopReason.Device) continue;
        stop = stopName(reason);
        break;
      }
    } finally {
      stopOn(false);
    }
    return this.result(stop, from, before);
  }

  private result(stop: StopName, from: HartPosition, before: bigint): ControlResult {
    const core = this.core;
    // Stages reached and traps taken while stepping get host times too (the operation was the slice).
    this.afterSlice(this.clock());
    const result: ControlResult = {
      stop, from, to: this.position(), executed: core.instructions - before, instructions: core.instructions,
    };
    if (stop === 'trap') {
      const t = core.trapLog(1)[0];
      if (t !== undefined) result.trap = this.nameTrap(t);
    }
    return result;
  }

  private position(): HartPosition {
    return { pc: this.core.pc, priv: privName(this.core.priv) };
  }

  private flushConsole(): void {
    const bytes = this.core.drainConsole();
    if (bytes.length > 0 && !this.disposed) this.onConsole?.(bytes);
  }

  private nameTrap(t: { seq: number; pc: bigint; cause: bigint; tval: bigint; handler: bigint }): NamedTrap {
    const named: NamedTrap = { ...nameCause(t.cause), seq: t.seq, pc: t.pc, tval: t.tval, handler: t.handler };
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

function stopName(reason: StopReason): StopName {
  switch (reason) {
    case StopReason.Trap: return 'trap';
    case StopReason.Priv: return 'priv';
    case StopReason.Breakpoint: return 'breakpoint';
    case StopReason.Wfi: return 'wfi';
    case StopReason.Poweroff: case StopReason.Fail: case StopReason.Htif: return 'poweroff';
    case StopReason.Reboot: return 'reboot';
    default: return 'budget'; // Budget, and Console (the ring was drained; the caller goes on)
  }
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
