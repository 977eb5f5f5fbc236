/**
 * The TypeScript side of the wasm core: instantiates it with a memory sized for the
 * guest's RAM, and wraps its exports in a typed API. The layout numbers (register file,
 * rings, RAM offset) come from the module's own exported globals, never from a copy; the
 * machine's map and run() protocol come from wasm/machineMap.ts, which the core compiles too.
 */
import {
  BootStageId, HOST_TRIGGERS, RAM_BASE as RAM_BASE_NUMBER, SMP_MAX_HARTS, StopReason, TriggerKind, TRAP_INFO_FROM_SHIFT, TRAP_INFO_HART_SHIFT, TRAP_INFO_RETURN, TRAP_INFO_TO_SHIFT,
  TRAP_INFO_WALK_SHIFT, TRAP_RECORD_WORDS, TrapRecordWord as W,
} from '../../wasm/machineMap.ts';
// Generated from the core by wasm/build.mjs (asc's bindings), never typed by hand.
import type { CoreExports } from './CoreExports.ts';
import { defaultJitMode, Jit, type JitMode, type JitStats } from '../jit/Jit.ts';

export { StopReason, HOST_TRIGGERS, SMP_MAX_HARTS };

/** One hart as the teaching views and a debugger see it. */
export interface HartState {
  id: number;
  pc: bigint;
  /** 0 = U, 1 = S, 3 = M. */
  priv: number;
  /** Asleep in WFI, waiting for an interrupt it enables. */
  sleeping: boolean;
}

/**
 * A debugger's hardware breakpoint or watchpoint (a host trigger): which accesses match,
 * over the bytes address .. address + length - 1 (length 1 by default), in every mode.
 */
export interface HostTrigger {
  execute?: boolean;
  load?: boolean;
  store?: boolean;
  address: bigint;
  length?: number;
}

/** The host's names of the boot stages; the compiler checks there is one per BootStageId. */
const STAGE_NAMES = {
  [BootStageId.PowerOn]: 'power-on',
  [BootStageId.Firmware]: 'firmware',
  [BootStageId.Kernel]: 'kernel',
  [BootStageId.Paging]: 'paging',
  [BootStageId.User]: 'user',
  [BootStageId.IdleUser]: 'shell',
} as const satisfies Record<BootStageId, string>;
export type BootStage = (typeof STAGE_NAMES)[BootStageId];
/** Boot stages in the order the core records them, indexed by BootStageId (an object's
 *  integer keys enumerate in ascending order). */
export const BOOT_STAGES: readonly BootStage[] = Object.values(STAGE_NAMES);

export interface TrapRecord {
  /** Position in the whole sequence of traps since reset. */
  seq: number;
  pc: bigint;
  /** With bit 63 set for interrupts. */
  cause: bigint;
  tval: bigint;
  /** Where the trap sent the hart (mtvec/stvec, vectored if so). */
  handler: bigint;
}

/** A page walk as the core read it at an event: satp and the PTEs, top level first. */
export interface WalkSnapshot {
  satp: bigint;
  ptes: { addr: bigint; value: bigint }[];
}

/**
 * One record of the core's trap log. A trap, or (`isReturn`) the xRET back to the privilege
 * a followed trap came from: then `pc` is the xRET's, `handler` where it resumes, `tval`
 * a0 (a system call's result) and `seq` the latest trap's number.
 */
export interface TrapEvent extends TrapRecord {
  /** Ring position (free-running). */
  index: number;
  /** Privilege encodings (0 U, 1 S, 3 M): before and after. */
  from: number;
  to: number;
  isReturn: boolean;
  /** The hart that took the trap or made the return (mhartid). */
  hart: number;
  /** a7 at the event: the system call's number at a U-mode ecall. */
  a7: bigint;
  /** A page fault's walk of its address (a return's: of its fault's address), as it was then. */
  walk?: WalkSnapshot;
}

/** The shape of the core's state besides RAM: CoreScalar's count and the regions' places. */
export interface CoreStateShape {
  scalars: number;
  regions: { offset: number; length: number }[];
}

/** The core's state besides RAM: the scalars in CoreScalar order and the regions' bytes. */
export interface CoreState {
  scalars: BigUint64Array;
  regions: Uint8Array[];
}

/** Devices the host implements behind MMIO (virtio-mmio), called synchronously. */
export interface MmioHandler {
  read(pa: bigint, size: number): bigint;
  write(pa: bigint, size: number, value: bigint): void;
}

export type { CoreExports };

export const RAM_BASE = BigInt(RAM_BASE_NUMBER);

/** wasm i64 results arrive as signed BigInts; the core's values are unsigned. */
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const WASM_PAGE = 65536;

/** No device behind an address: reads as zero, writes vanish (QEMU's unassigned I/O). */
const NO_MMIO: MmioHandler = { read: () => 0n, write: () => {} };

export interface CoreOptions {
  ramBytes: number;
  /** Harts, 1..SMP_MAX_HARTS (default 1), interleaved on the one core (wasm/cpu/harts.ts). */
  harts?: number;
  mmio?: MmioHandler;
  /** The JIT tier (src/jit): off, auto (hot pages; the default), eager (every page on first run). */
  jit?: JitMode;
}

export class Core {
  readonly ramBytes: number;
  /** Guest RAM, physical 0x8000_0000 upwards. */
  readonly ram: Uint8Array;
  /** Reset ROM, physical 0x1000..0x10000 (indexed by physical address). */
  readonly rom: Uint8Array;
  readonly timebaseHz: number;
  private readonly x: BigUint64Array;
  private readonly f: BigUint64Array;
  private readonly tx: Uint8Array;

  private constructor(
    private readonly exports: CoreExports,
    readonly memory: WebAssembly.Memory,
    ramBytes: number,
    /** The JIT tier's host side (its mode may be 'off'). */
    readonly jit: Jit,
  ) {
    const e = exports;
    const buf = memory.buffer;
    this.ramBytes = ramBytes;
    this.ram = new Uint8Array(buf, e.RAM_OFFSET.value, ramBytes);
    this.rom = new Uint8Array(buf, e.ROM_OFFSET.value, Number(e.ROM_END.value));
    this.x = new BigUint64Array(buf, e.REGS_OFFSET.value, 32);
    this.f = new BigUint64Array(buf, e.FREGS_OFFSET.value, 32);
    this.tx = new Uint8Array(buf, e.UART_TX_OFFSET.value, e.UART_TX_SIZE.value);
    this.timebaseHz = Number(e.TIMEBASE_HZ.value);
  }

  /** Instructions per tick of mtime's instruction share: 10 (deterministic), 1024 (realtime). */
  get insnsPerTick(): number {
    return Number(this.exports.getInsnsPerTick());
  }

  /**
   * Realtime machines: mtime's instruction share ticks slowly and the host's syncTime keeps it
   * level with the host clock, so a fast guest's clock does not run ahead (wasm/dev/clint.ts).
   * mtime reads the same across the switch; a machine state's scalars are the deterministic kind's.
   */
  setRealtimeClock(on: boolean): void {
    this.exports.setRealtimeClock(on ? 1 : 0);
  }

  /** Instantiates a compiled core module for a guest with `ramBytes` of RAM. */
  static async instantiate(module: WebAssembly.Module, options: CoreOptions): Promise<Core> {
    const { ramBytes } = options;
    if (!Number.isInteger(ramBytes) || ramBytes < 1 << 20 || ramBytes % 4096 !== 0) {
      throw new RangeError(`RAM size ${ramBytes} must be a whole number of 4 KiB pages, at least 1 MiB`);
    }
    const harts = options.harts ?? 1;
    if (!Number.isInteger(harts) || harts < 1 || harts > SMP_MAX_HARTS) {
      throw new RangeError(`${harts} harts: a machine has 1 to ${SMP_MAX_HARTS}`);
    }
    const mmio = options.mmio ?? NO_MMIO;
    const memory = new WebAssembly.Memory({ initial: 16 });
    // The core's function table: compiled pages are installed in it (src/jit/Jit.ts).
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
    const jit = new Jit(options.jit ?? defaultJitMode(), memory, table);
    const imports: WebAssembly.Imports = {
      env: {
        memory,
        table,
        jitCompile: (page: number, off: number) => jit.compile(page, off),
        jitNote: (page: number, off: number) => jit.note(page, off),
        mmioRead: (pa: bigint, size: number) => BigInt.asUintN(64, mmio.read(pa, size)),
        mmioWrite: (pa: bigint, size: number, value: bigint) => mmio.write(pa, size, value),
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`wasm core assertion failed at line ${line}:${col}`);
        },
      },
    };
    // Synchronously where allowed (node, a worker): after compiled JIT code has run, V8
    // resolves an async instantiate only once its background compile queue drains, seconds
    // later. A page's main thread must use the async form.
    const instance = typeof document === 'undefined' ? new WebAssembly.Instance(module, imports) : await WebAssembly.instantiate(module, imports);
    const e = instance.exports as unknown as CoreExports;
    const needed = e.RAM_OFFSET.value + ramBytes + e.RAM_GUARD.value + e.jitRecordBytes(BigInt(ramBytes));
    const pages = Math.ceil(needed / WASM_PAGE);
    const have = memory.buffer.byteLength / WASM_PAGE;
    if (pages > have) memory.grow(pages - have);
    e.init(BigInt(ramBytes), harts);
    jit.attach(e);
    return new Core(e, memory, ramBytes, jit);
  }

  reset(): void {
    this.exports.reset();
    this.jit.reset();
  }

  /**
   * The host wrote guest RAM at byte offsets [offset, offset + length) behind the hart's
   * back (virtio DMA, a loader): compiled code translated from those bytes must go.
   */
  ramWritten(offset: number, length: number): void {
    this.jit.invalidate(offset, length);
  }

  /** The JIT's counters (compiles, code cache, entries, ...). */
  jitStats(): JitStats {
    return this.jit.stats();
  }

  /** Runs at most `budget` instructions; see StopReason for why it returned. */
  run(budget: number | bigint): StopReason {
    return this.exports.run(BigInt(budget)) as StopReason;
  }

  /** The pc of the live hart (the one that ran last; see `currentHart`). */
  get pc(): bigint {
    return u64(this.exports.getPc());
  }
  set pc(v: bigint) {
    this.exports.setPc(v);
  }
  /** 0 = U, 1 = S, 3 = M. */
  get priv(): number {
    return this.exports.getPriv();
  }
  /** How many harts the machine has. */
  get harts(): number {
    return this.exports.getHartCount();
  }
  /** The hart whose registers and CSRs `pc`, `getX`, `csr` show: the one that ran last. */
  get currentHart(): number {
    return this.exports.getCurrentHart();
  }
  /** Every hart's pc, privilege and sleep state. */
  hartStates(): HartState[] {
    const e = this.exports;
    return Array.from({ length: e.getHartCount() }, (_, id) => ({
      id, pc: u64(e.getHartPc(id)), priv: e.getHartPriv(id), sleeping: e.isHartSleeping(id) !== 0,
    }));
  }
  /**
   * Whether some hart went to sleep in WFI since the last call. With several harts run()
   * reports StopReason.Wfi only when all sleep; one hart idling already says the guest
   * is waiting (for input, say) while another keeps running.
   */
  takeHartIdled(): boolean {
    return this.exports.takeHartIdled() !== 0;
  }
  /**
   * A debugger runs only these harts (gdb's `vCont;c:N`, a step of one hart); the others
   * wait where they are, neither running nor sleeping. Undefined (or every hart) runs all
   * again. The first of them becomes the live hart at once if the live one is held.
   */
  setRunnableHarts(harts: readonly number[] | undefined): void {
    this.exports.setRunnableHarts(harts === undefined ? 0 : harts.reduce((m, h) => m | (1 << h), 0));
  }
  /** A debugger's single step takes no interrupt (QEMU's default), while this is set. */
  set interruptsHeld(on: boolean) {
    this.exports.setInterruptsHeld(on ? 1 : 0);
  }
  /** A loader starts hart `h` at `pc` (QEMU's virt starts every hart alike). */
  setHartPc(h: number, pc: bigint): void {
    this.exports.setHartPc(h, pc);
  }
  /** A loader sets integer register `r` of hart `h` (a0 = hartid, a1 = device tree, ...). */
  setHartX(h: number, r: number, v: bigint): void {
    this.exports.setHartX(h, r, BigInt.asUintN(64, v));
  }
  /** Instructions executed since reset, by all harts together (mtime follows this count). */
  get instructions(): bigint {
    return u64(this.exports.getIcount());
  }
  get stopValue(): bigint {
    return u64(this.exports.stopValue.value as bigint);
  }
  /** Traps taken since reset (cheaper than lastTrap when only the count matters). */
  get trapCount(): bigint {
    return u64(this.exports.getTrapCount());
  }
  get lastTrap(): { cause: bigint; pc: bigint; tval: bigint; count: bigint } {
    const e = this.exports;
    return { cause: u64(e.getLastTrapCause()), pc: u64(e.getLastTrapPc()), tval: u64(e.getLastTrapTval()), count: u64(e.getTrapCount()) };
  }

  getX(r: number): bigint {
    return this.x[r];
  }
  setX(r: number, v: bigint): void {
    if (r !== 0) this.x[r] = BigInt.asUintN(64, v);
  }
  getF(r: number): bigint {
    return this.f[r];
  }
  /** A CSR as M-mode would read it, or undefined if the hart has no such CSR. */
  csr(num: number): bigint | undefined {
    return this.hartCsr(this.currentHart, num);
  }

  // A debugger's view of any hart, live or waiting its turn (gdb's threads).
  /** Integer register r of hart h (x0 reads 0). */
  hartX(h: number, r: number): bigint {
    return u64(this.exports.getHartX(h, r));
  }
  /** FP register r of hart h (the raw 64 bits; a single is NaN-boxed). */
  hartF(h: number, r: number): bigint {
    return u64(this.exports.getHartF(h, r));
  }
  /** Writes FP register r of hart h; mstatus.FS becomes Dirty, as after an FP instruction, unless it is Off. */
  setHartF(h: number, r: number, v: bigint): void {
    this.exports.setHartF(h, r, BigInt.asUintN(64, v));
  }
  /** A CSR of hart h as M-mode would read it, or undefined if it has no such CSR (or it is unreadable now). */
  hartCsr(h: number, num: number): bigint | undefined {
    const v = u64(this.exports.peekHartCsr(h, num));
    return v === 0xffff_ffff_ffff_ffffn && this.exports.peekCsrFailed() !== 0 ? undefined : v;
  }
  /**
   * Writes a CSR of hart h without privilege checks, with a guest write's effects (satp
   * flushes the TLBs, ...); false if the hart has no such writable CSR now.
   */
  setHartCsr(h: number, num: number, v: bigint): boolean {
    return this.exports.pokeHartCsr(h, num, BigInt.asUintN(64, v)) !== 0;
  }
  /** Sets hart h's privilege (0 = U, 1 = S, 3 = M); false for another value. */
  setHartPriv(h: number, p: number): boolean {
    return this.exports.setHartPriv(h, p) !== 0;
  }

  /** From inside an MMIO callback: end run() after the current instruction (StopReason.Device). */
  stopSoon(): void {
    this.exports.stopSoon();
  }

  /** Ends a program when it writes its HTIF `tohost` word (0 = no such word). */
  setTohost(pa: bigint): void {
    this.exports.setTohost(pa);
  }

  // --- time ---
  /** What the goldfish RTC reads at mtime 0, in nanoseconds since 1970. */
  setRtcBase(ns: bigint): void {
    this.exports.setRtcBase(ns);
  }
  /** Deterministic idle: jumps mtime to the timer deadline; false if no timer is armed. */
  skipToTimer(): boolean {
    return this.exports.skipToTimer() !== 0;
  }
  /** Realtime: moves mtime forward to `ticks` of the 10 MHz timebase. */
  syncTime(ticks: bigint): void {
    this.exports.syncTime(ticks);
  }
  get mtime(): bigint {
    return u64(this.exports.getMtime());
  }
  /** Instructions until the timer interrupt line rises (huge when not armed). */
  get timerDistance(): bigint {
    return u64(this.exports.timerDistance());
  }

  // --- console (UART) ---
  /** Takes the bytes the guest has transmitted since the last call. */
  drainConsole(): Uint8Array {
    const e = this.exports;
    const head = e.txHead.value as number;
    const tail = e.txTail.value as number;
    const count = (head - tail) >>> 0;
    if (count === 0) return new Uint8Array(0);
    const size = this.tx.length;
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.tx[(tail + i) & (size - 1)];
    e.uartTxConsume(count);
    return out;
  }
  /** Queues bytes for the guest's UART; returns how many fit. */
  sendConsole(bytes: Uint8Array): number {
    let i = 0;
    for (; i < bytes.length; i++) if (!this.exports.uartPush(bytes[i])) break;
    return i;
  }
  /** Bytes the UART's receive ring can take now: 0 until the guest's driver listens. */
  get consoleRxFree(): number {
    return this.exports.uartRxReady() ? this.exports.uartRxFree() : 0;
  }

  // --- what the teaching views read ---

  /** Instruction count at which each boot stage (BootStage order) was first reached. */
  bootStages(): (bigint | undefined)[] {
    const e = this.exports;
    const v = new BigUint64Array(this.memory.buffer, e.STAGE_OFFSET.value, e.STAGE_COUNT.value);
    return Array.from(v, (x) => (x === 0xffff_ffff_ffff_ffffn ? undefined : x));
  }

  /** Traps taken since reset, by cause: `exceptions[code]`, `interrupts[code]`. */
  trapCounts(): { exceptions: bigint[]; interrupts: bigint[] } {
    const v = new BigUint64Array(this.memory.buffer, this.exports.TRAP_COUNT_OFFSET.value, 32);
    return { exceptions: Array.from(v.subarray(0, 16)), interrupts: Array.from(v.subarray(16, 32)) };
  }

  /** The most recent traps, oldest first (at most TRAP_LOG_ENTRIES; the returns the ring also holds are left out). */
  trapLog(max = Infinity): TrapEvent[] {
    const { events } = this.trapEvents(0);
    const traps = events.filter((t) => !t.isReturn);
    return traps.slice(Math.max(0, traps.length - max));
  }

  /**
   * The trap log's events (traps, and the returns `setTrapReturnMask` follows) written since
   * ring position `since`, oldest first; `next` is the position to pass next time and
   * `lost` how many were overwritten before they could be read.
   */
  trapEvents(since: number): { events: TrapEvent[]; next: number; lost: number } {
    const e = this.exports;
    const entries = e.TRAP_LOG_ENTRIES.value as number;
    const head = e.getTrapLogHead() >>> 0;
    const from = Math.max(since, head - entries, 0);
    const v = new BigUint64Array(this.memory.buffer, e.TRAP_LOG_OFFSET.value, entries * TRAP_RECORD_WORDS);
    const events: TrapEvent[] = [];
    for (let i = from; i < head; i++) {
      const j = (i % entries) * TRAP_RECORD_WORDS;
      const info = v[j + W.Info];
      const walkLength = Number((info >> BigInt(TRAP_INFO_WALK_SHIFT)) & 3n);
      const ev: TrapEvent = {
        index: i,
        seq: Number(v[j + W.Seq]),
        pc: v[j + W.Pc],
        cause: v[j + W.Cause],
        tval: v[j + W.Tval],
        handler: v[j + W.Handler],
        from: Number((info >> BigInt(TRAP_INFO_FROM_SHIFT)) & 3n),
        to: Number((info >> BigInt(TRAP_INFO_TO_SHIFT)) & 3n),
        isReturn: (info & BigInt(TRAP_INFO_RETURN)) !== 0n,
        hart: Number((info >> BigInt(TRAP_INFO_HART_SHIFT)) & 0xffn),
        a7: v[j + W.A7],
      };
      if (walkLength > 0) {
        ev.walk = { satp: v[j + W.Satp], ptes: [] };
        for (let k = 0; k < walkLength; k++) ev.walk.ptes.push({ addr: v[j + W.PteAddr0 + k], value: v[j + W.Pte0 + k] });
      }
      events.push(ev);
    }
    return { events, next: head, lost: from - Math.min(since, from) };
  }

  /**
   * Which interrupts and ecalls the trap log records, by the privilege trapped from: bit n
   * for exception code n, 16 + n for interrupt n (other exceptions are always recorded).
   */
  setTrapRingMask(u: number, s: number, m: number): void {
    this.exports.setTrapRingMask(u >>> 0, s >>> 0, m >>> 0);
  }

  /** Exception codes (bit n = code n) whose return the trap log records, with a page fault's walk then. */
  setTrapReturnMask(mask: number): void {
    this.exports.setTrapReturnMask(mask >>> 0);
  }

  /** The TLBs' valid entries: virtual page and host address (the core's own view). */
  tlbEntries(): { tlb: 'fetch' | 'load' | 'store'; vpage: bigint; ramOffset: number | undefined }[] {
    const e = this.exports;
    const n = e.TLB_ENTRIES.value as number;
    const v = new BigUint64Array(this.memory.buffer, e.TLB_OFFSET.value, n * 2 * 3);
    const ramOffset = BigInt(e.RAM_OFFSET.value);
    const out: ReturnType<Core['tlbEntries']> = [];
    (['fetch', 'load', 'store'] as const).forEach((tlb, t) => {
      for (let i = 0; i < n; i++) {
        const tag = v[(t * n + i) * 2];
        if (tag === 0xffff_ffff_ffff_ffffn) continue;
        const host = BigInt.asUintN(32, tag + v[(t * n + i) * 2 + 1]);
        out.push({ tlb, vpage: tag, ramOffset: host >= ramOffset ? Number(host - ramOffset) : undefined });
      }
    });
    return out;
  }

  // --- debugger ---
  /** Stops run() before the instruction at `pc` (undefined clears it). */
  setBreakpoint(pc: bigint | undefined): void {
    this.exports.setBreakpoint(pc ?? 0xffff_ffff_ffff_ffffn);
  }
  /**
   * Lets the instruction stopped at (a breakpoint, a hardware breakpoint or a watchpoint)
   * run once, to continue past it; without such a stop it changes nothing.
   */
  resumeFromBreakpoint(): void {
    this.exports.resumeFromBreakpoint();
  }
  /**
   * Sets host trigger `slot` (0 .. HOST_TRIGGERS - 1), or clears it with undefined. An
   * execute trigger stops run() before the instruction (StopReason.Breakpoint), a load or
   * store trigger before the access (StopReason.Watchpoint, `stopValue` = the accessed
   * address). The guest's own triggers (tselect/tdata) are separate and unaffected.
   */
  setHostTrigger(slot: number, t: HostTrigger | undefined): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= HOST_TRIGGERS) throw new RangeError(`host trigger slot ${slot} is not 0..${HOST_TRIGGERS - 1}`);
    let kinds = 0;
    let lo = 0n;
    let hi = 0n;
    if (t) {
      const length = t.length ?? 1;
      if (!Number.isInteger(length) || length < 1) throw new RangeError(`host trigger length ${length} is not a positive whole number`);
      kinds = (t.load ? TriggerKind.Load : 0) | (t.store ? TriggerKind.Store : 0) | (t.execute ? TriggerKind.Execute : 0);
      lo = BigInt.asUintN(64, t.address);
      hi = BigInt.asUintN(64, lo + BigInt(length) - 1n);
      if (hi < lo) hi = 0xffff_ffff_ffff_ffffn; // clamped at the top of the address space
    }
    this.exports.setHostTrigger(slot, kinds, lo, hi);
  }
  /** run() stops right after the next trap is taken (pc at its handler). */
  set stopOnTrap(on: boolean) {
    this.exports.setStopOnTrap(on ? 1 : 0);
  }
  /** run() stops right after the next privilege change. */
  set stopOnPrivChange(on: boolean) {
    this.exports.setStopOnPrivChange(on ? 1 : 0);
  }

  // --- machine state (src/state/) ---
  /** How many scalars and which regions the core's state has: a state file for another shape is refused. */
  stateShape(): CoreStateShape {
    const e = this.exports;
    const regions = Array.from({ length: e.STATE_REGIONS.value as number }, (_, i) => {
      const r = u64(e.stateRegion(i));
      return { offset: Number(r >> 32n), length: Number(r & 0xffff_ffffn) };
    });
    return { scalars: e.STATE_SCALARS.value as number, regions };
  }

  /** Whether RAM page `page` (4 KiB from RAM's start) is all zero. */
  ramPageIsZero(page: number): boolean {
    return this.exports.statePageZero(page) !== 0;
  }

  /** The core's state besides RAM (wasm/machineState.ts), copied out; call between run()s. */
  captureState(): CoreState {
    const e = this.exports;
    const shape = this.stateShape();
    const scalars = new BigUint64Array(shape.scalars);
    for (let i = 0; i < shape.scalars; i++) scalars[i] = u64(e.stateScalar(i));
    const regions = shape.regions.map((r) => new Uint8Array(this.memory.buffer, r.offset, r.length).slice());
    return { scalars, regions };
  }

  /**
   * Puts a captured state (of this shape, checked by the caller) into this core; RAM is the
   * caller's to write. Compiled code and the TLBs are dropped: they are caches.
   */
  applyState(s: CoreState): void {
    const e = this.exports;
    const shape = this.stateShape();
    shape.regions.forEach((r, i) => new Uint8Array(this.memory.buffer, r.offset, r.length).set(s.regions[i]!));
    for (let i = 0; i < shape.scalars; i++) e.setStateScalar(i, s.scalars[i]!);
    e.stateRestored();
    e.jitForgetAll();
    this.jit.reset();
  }

  /** Raises or lowers a PLIC interrupt line (virtio devices). */
  setIrq(irq: number, level: boolean): void {
    this.exports.plicSetLevel(irq, level ? 1 : 0);
  }
}
