/**
 * The teaching views' contract: what `VmInspector` hands out about a running guest. Every
 * type here is plain, structured-clone-able data (bigints included), so the same values
 * cross a Web Worker boundary through comlink unchanged and the page renders them as they
 * are. The page's worker exposes `VmInspectorApi`; the views in src/ui/teach/ only read
 * these types.
 */
import type { BootStage } from './Core.ts';
import type { AccessType, CauseName, CsrField, Privilege, Translation, TrapKind, TrapLogFilter } from '../inspect/index.ts';

export type { AccessType, BootStage, CauseName, CsrField, Privilege, Translation, TrapKind, TrapLogFilter };

// --- boot timeline ---

export interface TimelineStage {
  stage: BootStage;
  /** The privilege the hart runs the stage in (the reset ROM and OpenSBI run in M). */
  priv: Privilege;
  /** Instruction count at which the stage was first reached; undefined if not yet. */
  instructions?: bigint;
  /**
   * Host milliseconds from power-on to the stage, interpolated by instruction count
   * within the slice it was first seen after; undefined if not yet reached.
   */
  wallMs?: number;
}

export interface Timeline {
  /** Every stage in boot order, reached or not. */
  stages: TimelineStage[];
  /** Instructions executed since power-on. */
  instructions: bigint;
  /** Host milliseconds from power-on to the latest slice. */
  wallMs: number;
}

// --- traps ---

export interface TrapCounter extends CauseName {
  sinceBoot: number;
  /** Traps of this cause within the last `TrapStats.windowMs`. */
  lastSecond: number;
}

export interface NamedTrap extends CauseName {
  /** Position in the sequence of all traps since reset. */
  seq: number;
  /** Where the trap was taken (mepc/sepc). */
  pc: bigint;
  /** mtval/stval: the faulting address, the bad instruction, or 0. */
  tval: bigint;
  /** The trap handler's address the hart jumped to. */
  handler: bigint;
  /**
   * Which layer handled it, found by matching `handler` to the current mtvec/stvec
   * (M: firmware, S: kernel); undefined if neither matches any more.
   */
  handledIn?: 'M' | 'S';
  /** The privilege the trap was taken from. */
  from: Privilege;
  /** The hart that took it (or returned), on a machine with several harts. */
  hart?: number;
  /**
   * Present on a return record: the xRET back to `from`'s privilege after a followed system
   * call or page fault (the filter's `returns`). Then `pc` is the xRET's address, `handler`
   * where the hart resumes and `tval` a0 as the return leaves it (a system call's result);
   * `seq` is the latest trap's, and the cause fields are those of the trap it returns from.
   */
  returnTo?: Privilege;
  /** a7 at an ecall: the system call's number. */
  a7?: bigint;
  /**
   * A page fault's walk of its address as it was when the fault was taken; on its return,
   * the walk as it is once the kernel has handled it.
   */
  walk?: Translation;
}

export interface TrapStats {
  priv: Privilege;
  instructions: bigint;
  /** Causes seen since boot, exceptions first, each by code. */
  counters: TrapCounter[];
  totalSinceBoot: number;
  totalLastSecond: number;
  /**
   * The window the `lastSecond` numbers cover, in host ms: at least 1000 once the guest
   * has run that long (it ends at the latest slice, so a paused guest keeps its last numbers).
   */
  windowMs: number;
  /** The most recent traps the filter kept (and their returns), oldest first. */
  recent: NamedTrap[];
  /** The filter the log was collected with (it applies as records are collected, not only when shown). */
  filter: TrapLogFilter;
  /** Records the core wrote faster than they were collected since the filter was set (lost before it saw them). */
  lost: number;
}

// --- machine state ---

export interface RegisterValue {
  /** x0..x31 or f0..f31. */
  index: number;
  /** ABI name: zero, ra, sp, ... / ft0, ... */
  name: string;
  value: bigint;
}

export interface FpRegisterValue extends RegisterValue {
  /** The 64 bits as a double. */
  double: number;
  /** The low 32 bits as a float when the value is NaN-boxed (a single-precision value). */
  single?: number;
}

export interface CsrView {
  name: string;
  number: number;
  value: bigint;
  /** Named fields; empty for a CSR that is one address or value (mepc, stval). */
  fields: CsrField[];
}

export interface TlbEntryView {
  tlb: 'fetch' | 'load' | 'store';
  /** Virtual page address (low 12 bits zero). */
  vpage: bigint;
  /** Physical page address it maps to, when that is RAM. */
  ppage?: bigint;
}

export interface CodeLine {
  pc: bigint;
  /** The instruction's bits (16 of them for a compressed instruction). */
  bits: number;
  length: 2 | 4;
  /** objdump-style text with pseudo-instructions. */
  text: string;
}

/** One hart of a machine with several: where it is and in which mode. */
export interface HartView {
  id: number;
  pc: bigint;
  priv: Privilege;
  /** Asleep in WFI until an interrupt it enables. */
  sleeping: boolean;
}

export interface MachineSnapshot {
  /** pc, priv, registers, CSRs and TLB are those of hart `hart` (the one that ran last). */
  pc: bigint;
  priv: Privilege;
  instructions: bigint;
  hart: number;
  /** Every hart (one entry on a single-hart machine). */
  harts: HartView[];
  x: RegisterValue[];
  f: FpRegisterValue[];
  csrs: CsrView[];
  tlb: TlbEntryView[];
  /** The instructions in memory from pc on (straight-line, not following jumps). */
  code: CodeLine[];
  breakpoint?: bigint;
}

/** Where a physical address lands in the machine's memory map. */
export interface PhysicalRegion {
  name: string;
  base: bigint;
  size: bigint;
  kind: 'ram' | 'rom' | 'mmio' | 'none';
}

export interface AddressReport {
  translation: Translation;
  /** The physical region the final address is in (when the walk succeeds). */
  region?: PhysicalRegion;
  /** The 8 bytes at the final address, little-endian, when it is RAM. */
  value?: bigint;
}

// --- control ---

/**
 * Why a control operation stopped.
 * - `step`: the one instruction ran (step only).
 * - `trap`: a trap was taken; pc is at its handler, which has not run yet.
 * - `priv`: the privilege mode changed (runUntilPrivChange).
 * - `breakpoint`: pc reached the breakpoint (or a hardware breakpoint); that instruction has not run.
 * - `watchpoint`: an access matched a watchpoint (`watchAddress`); it has not happened yet.
 * - `budget`: maxInsns ran without any of the above.
 * - `wfi`: the hart waits for an interrupt and no timer is armed (only input can wake it).
 * - `poweroff` / `reboot`: the guest asked the machine to.
 */
export type StopName = 'step' | 'trap' | 'priv' | 'breakpoint' | 'watchpoint' | 'budget' | 'wfi' | 'poweroff' | 'reboot' | 'back';

export interface HartPosition {
  pc: bigint;
  priv: Privilege;
}

export interface ControlResult {
  stop: StopName;
  from: HartPosition;
  to: HartPosition;
  /** Instructions counted by this operation (a trapping instruction counts; an interrupt taken before any does not). */
  executed: bigint;
  instructions: bigint;
  /** step(): the instruction at `from.pc`, with aliases; undefined if it could not be fetched. */
  disassembly?: string;
  /** The trap that ended the operation, or that the step took. */
  trap?: NamedTrap;
  /** A watchpoint stop: the address the access would have touched. */
  watchAddress?: bigint;
  /** A stop 'back' (step back): where it went back to; `executed` is then negative. */
  back?: 'instruction' | 'trap' | 'priv';
}

/** Whether step back can be offered, and how far back it reaches. */
export interface StepBackInfo {
  /** Why there is no step back for this machine (realtime, a shared folder, a scenario in lockstep). */
  unavailable?: string;
  /** The oldest instruction count it can go back to. */
  oldest?: bigint;
  checkpoints: number;
  /** Bytes the checkpoints and the disks' undo logs hold. */
  bytes: number;
}

/** What the worker exposes to the page for the teaching views (each method async over comlink). */
export interface VmInspectorApi {
  timeline(): Timeline;
  traps(maxRecent?: number): TrapStats;
  /** The VM must be paused: no run() between this and the data being used. */
  snapshot(): MachineSnapshot;
  /** The page walk for `va` with the hart's current satp, privilege and mstatus (or `priv` instead). */
  explain(va: bigint, access: AccessType, priv?: Privilege): AddressReport;
  step(): Promise<ControlResult>;
  stepUntilTrap(maxInsns?: number): Promise<ControlResult>;
  runUntilPrivChange(maxInsns?: number): Promise<ControlResult>;
  /** Deterministic machines: back one instruction (see Rewind). Throws with the reason when there is no step back. */
  stepBack(): Promise<ControlResult>;
  /** Back to the last trap taken before now (pc at its handler, as "step to trap" stops). */
  runBackToTrap(): Promise<ControlResult>;
  /** Back to the last privilege change before now. */
  runBackToPrivChange(): Promise<ControlResult>;
  /** Back to just after the trap the log shows as `seq` was taken (pc at its handler). */
  backToTrap(seq: number): Promise<ControlResult>;
  stepBackInfo(): StepBackInfo;
  /** Stop before the instruction at `pc` (undefined clears it). */
  setBreakpoint(pc: bigint | undefined): void;
  /** Lets the instruction at the breakpoint run once, so the next run goes on past it. */
  continuePastBreakpoint(): void;
  /** Which traps the log collects from now on (those it holds that the new filter drops go too). */
  setTrapLogFilter(filter: TrapLogFilter): void;
}

/** What `afterSlice` noticed, for the worker to act on (pause on a breakpoint, tell the page). */
export type InspectorEvent =
  | { kind: 'stage'; stage: BootStage; instructions: bigint; wallMs: number }
  | { kind: 'breakpoint'; pc: bigint; priv: Privilege };
