// One RISC-V machine: reset, run(budget), and the host's handles on time and devices.
import { REGS_OFFSET, FREGS_OFFSET } from './layout';
import * as st from './cpu/state';
import { runBlock } from './cpu/run';
import { effectiveMip, pendingInterrupt, takeTrap } from './cpu/trap';
import { breakpointPc, skipBreakpoint, tlbFlush, tlbReset } from './cpu/mmu';
import { resetStages } from './cpu/bootStages';
import { resetTrapLog, setTrapReturnMask as setReturnMask, setTrapRingMask as setRingMask, trapLogHead } from './cpu/trapLog';
import { stopOnPrivChange, stopOnTrap } from './cpu/trap';
import { buildExpansionTable } from './cpu/rvc';
import { csrIllegal, csrRead, csrWrite, CSR_MCYCLE, CSR_MINSTRET } from './cpu/csr';
import { fflags } from './cpu/softfloat';
import { clintReset, insnsPerTick, insnsUntil, insnsUntilTimer, mtime, mtimecmp, setMtime, setRealtimeTicks, timerDeadline, updateTimerLines } from './dev/clint';
import { plicReset } from './dev/plic';
import { rtcReset } from './dev/goldfishRtc';
import { uartReset } from './dev/uart16550';
import { blockEnd, requestStop, stopReason, stopRequested, STOP_BUDGET, STOP_DEVICE, STOP_WATCHPOINT, STOP_WFI } from './stop';
import { setRamSize } from './bus';
import { SMP_MAX_HARTS } from './machineMap';
import {
  currentHart, earliestSavedDeadline, hartCount, hartIdled, hartPc, hartPriv, hartsReset, isSleeping, quantumLeft, setHartPc as setPcOf,
  setHartX as setXOf, sleepCurrent, switchHart, wakeCurrent, hartX, hartF, setHartF as setFOf,
  setHartPriv as setPrivOf, visitHart, leaveHart, setRunnableHarts as runOnly,
} from './cpu/harts';
import {
  armedKinds, fetchTrigger, quietHostTriggersOnce, setHostTrigger as setHostTriggerSlot, triggersReset, TRIG_EXEC,
  TRIGGER_HOST,
} from './cpu/triggers';
import { jitReset } from './cpu/jit';

export const RESET_VECTOR: u64 = 0x1000;

let tableBuilt = false;
let hartsWanted: u32 = 1;
/**
 * A debugger's single step: no interrupt is taken while set, so the step is the instruction
 * at pc, as QEMU steps by default (its gdbstub's SSTEP_NOIRQ). Pending ones wait, and are
 * taken at the next run without it.
 */
let interruptsHeld: bool = false;

/** Sets the RAM size (bytes; the host has sized the memory) and the harts (1..SMP_MAX_HARTS), and resets. */
export function init(ramBytes: u64, harts: u32): void {
  setRamSize(ramBytes);
  hartsWanted = harts < 1 ? 1 : harts > SMP_MAX_HARTS ? SMP_MAX_HARTS : harts;
  if (!tableBuilt) {
    buildExpansionTable();
    tableBuilt = true;
  }
  reset();
}

/** Power-on reset: every hart starts in M-mode at the reset ROM; devices are quiet. */
export function reset(): void {
  memory.fill(REGS_OFFSET, 0, 256);
  memory.fill(FREGS_OFFSET, 0, 256);
  st.pc = RESET_VECTOR;
  st.priv = st.PRV_M;
  st.mstatus = st.MSTATUS_XLEN64;
  st.mtvec = 0; st.mepc = 0; st.mcause = 0; st.mtval = 0; st.mscratch = 0;
  st.medeleg = 0; st.mideleg = 0; st.mie = 0; st.mip = 0;
  st.mcounteren = 0; st.scounteren = 0; st.menvcfg = 0; st.stimecmp = <u64>-1; st.senvcfg = 0; st.mcountinhibit = 0;
  st.stvec = 0; st.sepc = 0; st.scause = 0; st.stval = 0; st.sscratch = 0; st.satp = 0;
  st.icount = 0; st.cycleDelta = 0; st.instretDelta = 0;
  st.frm = 0; fflags = 0;
  st.reservation = <u64>-1;
  st.pmpcfg0 = 0; st.pmpcfg2 = 0;
  st.lastTrapCause = 0; st.lastTrapPc = 0; st.lastTrapTval = 0; st.trapCount = 0;
  clintReset();
  plicReset();
  uartReset();
  rtcReset();
  resetStages();
  resetTrapLog();
  breakpointPc = <u64>-1;
  skipBreakpoint = false;
  triggersReset();
  stopOnTrap = false;
  interruptsHeld = false;
  stopOnPrivChange = false;
  tlbReset();
  hartsReset(hartsWanted); // every hart from this state; hart 0 live
  jitReset();
}

/**
 * Runs up to `budget` instructions and returns why it stopped (STOP_* in stop.ts).
 * Interrupts are taken between blocks; a block never runs past the next timer deadline,
 * so a timer interrupt lands on the same instruction whatever the budget slicing.
 * With several harts, a block also never runs past the hart's quantum (cpu/harts.ts): the
 * harts take turns at fixed instruction counts, whatever the slicing too.
 */
export function run(budget: u64): u32 {
  stopRequested = false;
  stopReason = STOP_BUDGET;
  blockEnd = false;
  const smp = hartCount > 1;
  if (smp && isSleeping(currentHart)) {
    // Idle machine resumed by the host: a hart with a wake-up pending runs; if none has
    // one, the current hart goes on as a single hart does (WFI may return at any time).
    updateTimerLines();
    if ((effectiveMip() & st.mie) != 0 || !switchHart()) wakeCurrent();
  }
  let done: u64 = 0;
  while (done < budget) {
    updateTimerLines();
    const irq = interruptsHeld ? 0 : pendingInterrupt();
    if (irq != 0) {
      st.pc = takeTrap(irq, 0, st.pc);
      if (stopRequested) break; // stepping to the next trap: stop at its handler
    }
    let limit = budget - done;
    const untilTimer = insnsUntilTimer();
    if (untilTimer != 0 && untilTimer < limit) limit = untilTimer;
    if (smp && quantumLeft < limit) limit = quantumLeft;
    const n = runBlock(limit);
    done += n;
    blockEnd = false;
    if (smp) {
      quantumLeft -= n;
      if (stopRequested && stopReason == STOP_WFI) {
        // This hart sleeps; another that can run takes over, or the whole machine idles.
        sleepCurrent();
        if (!switchHart()) break;
        stopRequested = false;
        stopReason = STOP_BUDGET;
        continue;
      }
      if (stopRequested) break;
      if (quantumLeft == 0) switchHart();
      continue;
    }
    if (stopRequested) break;
  }
  return stopReason;
}

/** The earliest timer deadline of the machine: the live hart's and every saved hart's. */
function machineDeadline(): u64 {
  const own = timerDeadline();
  if (hartCount == 1) return own;
  const others = earliestSavedDeadline();
  return others < own ? others : own;
}

/** Deterministic idle: jump time forward to the timer deadline. False if none is set. */
export function skipToTimer(): bool {
  const deadline = machineDeadline();
  if (deadline == <u64>-1) return false;
  const now = mtime();
  if (deadline > now) setMtime(deadline);
  return true;
}

/** Realtime mode: bring mtime up to the host clock (never backwards). */
export function syncTime(hostTicks: u64): void {
  if (hostTicks > mtime()) setMtime(hostTicks);
}

/** Instructions until a timer of any hart fires (0 = pending now, huge = not armed). */
export function timerDistance(): u64 {
  return insnsUntil(machineDeadline());
}

// --- harts ---
export function getHartCount(): u32 { return hartCount; }
/** The hart whose state the register and CSR accessors show (the one running last). */
export function getCurrentHart(): u32 { return currentHart; }
export function getHartPc(h: u32): u64 { return hartPc(h); }
export function getHartPriv(h: u32): u32 { return hartPriv(h); }
export function isHartSleeping(h: u32): bool { return isSleeping(h); }
/** Whether some hart went to sleep in WFI since the last call (several harts only). */
export function takeHartIdled(): bool {
  const was = hartIdled;
  hartIdled = false;
  return was;
}
/** Loaders: where hart h starts, and its integer registers (a0 = hartid, a1 = the device tree). */
export function setHartPc(h: u32, pc: u64): void { setPcOf(h, pc); }
export function setHartX(h: u32, r: u32, v: u64): void { setXOf(h, r, v); }
/** A debugger runs only the harts of `mask` (bit h); 0 runs every hart again. */
export function setRunnableHarts(mask: u32): void { runOnly(mask); }

export function getMtime(): u64 { return mtime(); }
/** Realtime machines (Vm) switch mtime's instruction share to realtime ticks; see dev/clint.ts. */
export function setRealtimeClock(on: bool): void { setRealtimeTicks(on); }
export function getInsnsPerTick(): u64 { return insnsPerTick(); }
export function getMtimecmp(): u64 { return mtimecmp; }
export function getPc(): u64 { return st.pc; }
export function setPc(v: u64): void { st.pc = v; }
export function getPriv(): u32 { return st.priv; }
export function getIcount(): u64 { return st.icount; }
export function getLastTrapCause(): u64 { return st.lastTrapCause; }
export function getLastTrapPc(): u64 { return st.lastTrapPc; }
export function getLastTrapTval(): u64 { return st.lastTrapTval; }
export function getTrapCount(): u64 { return st.trapCount; }

/** Reads a live CSR without privilege checks; -1 with csrIllegal if absent (peekHartCsr is the host's). */
function peekCsr(csr: u32): u64 {
  const saved = st.priv;
  st.priv = st.PRV_M;
  csrIllegal = false;
  const v = csrRead(csr);
  st.priv = saved;
  return csrIllegal ? <u64>-1 : v;
}

/** Whether the last peekCsr/peekHartCsr found no readable CSR (its -1 is also a CSR value: stimecmp's at reset). */
export function peekCsrFailed(): bool { return csrIllegal; }

/** Reads CSR `csr` of hart h (live or saved) as peekCsr does; -1 with csrIllegal if absent. */
export function peekHartCsr(h: u32, csr: u32): u64 {
  const back = visitHart(h);
  const v = peekCsr(csr);
  leaveHart(back);
  return v;
}

/**
 * A debugger writes CSR `csr` of hart h (live or saved) without privilege checks, with
 * the effects a guest's csrw has (satp and mstatus flush the TLBs, an FP CSR makes FS
 * Dirty, stimecmp moves STIP, ...). False when the hart has no such CSR, the CSR is
 * read-only (csr[11:10] = 3), or it is an FP CSR while FS is Off (the guest cannot reach
 * it then, and writing it would turn FP on behind the guest's back).
 */
export function pokeHartCsr(h: u32, csr: u32, v: u64): bool {
  if ((csr >> 10) == 3) return false;
  const back = visitHart(h);
  const saved = st.priv;
  st.priv = st.PRV_M;
  csrIllegal = false;
  csrRead(csr);
  const ok = !csrIllegal;
  if (ok) {
    csrWrite(csr, v);
    // csrWrite counts the csrw that wrote the counter as retiring after it; nothing retires here.
    if (csr == CSR_MCYCLE) st.cycleDelta++;
    else if (csr == CSR_MINSTRET) st.instretDelta++;
  }
  st.priv = saved;
  leaveHart(back);
  return ok;
}

/** A debugger's view of any hart's registers (live or saved): x (x0 reads 0), f, priv. */
export function getHartX(h: u32, r: u32): u64 { return hartX(h, r); }
export function getHartF(h: u32, r: u32): u64 { return hartF(h, r); }
/** Writes FP register r of hart h; mstatus.FS becomes Dirty unless it is Off (cpu/harts.ts). */
export function setHartF(h: u32, r: u32, v: u64): void { setFOf(h, r, v); }
/** Sets hart h's privilege (0, 1, 3); false for another value. */
export function setHartPriv(h: u32, p: u32): bool { return setPrivOf(h, p); }

/** Called by the host from inside an MMIO callback: end run() after this instruction. */
export function stopSoon(): void {
  requestStop(STOP_DEVICE, 0);
}

// --- debugger ---
/** Sets (or with -1 clears) the one pc breakpoint. */
export function setBreakpoint(pc: u64): void {
  breakpointPc = pc;
  skipBreakpoint = false;
  tlbFlush(); // drops the cached fetch page, which may hold the breakpoint
}
/** Resume from a breakpoint or watchpoint stop: the instruction stopped at runs once. */
export function resumeFromBreakpoint(): void {
  // Only when stopped at one: a stale skip would let the next breakpoint pass.
  if (st.pc == breakpointPc || ((armedKinds & TRIG_EXEC) != 0 && fetchTrigger(st.pc) == TRIGGER_HOST)) skipBreakpoint = true;
  // Likewise the watchpoints: a debugger resumes after every stop (a step, a breakpoint),
  // and quieting them then would let a watched access pass unseen.
  if (stopReason == STOP_WATCHPOINT) quietHostTriggersOnce();
}
/**
 * A debugger's hardware breakpoint or watchpoint: host trigger `slot` (0..3) matches
 * `kinds` (1 load, 2 store, 4 execute; 0 clears the slot) over the bytes lo..hi, in every
 * privilege mode, and stops run() before the instruction (STOP_BREAKPOINT) or the access
 * (STOP_WATCHPOINT, stopValue = its address). The guest's own triggers are untouched.
 */
export function setHostTrigger(slot: u32, kinds: u32, lo: u64, hi: u64): bool {
  const ok = setHostTriggerSlot(slot, kinds, lo, hi);
  tlbFlush(); // pages the new trigger covers must leave the TLBs
  return ok;
}
/** A debugger's single step holds interrupts off (see interruptsHeld). */
export function setInterruptsHeld(on: bool): void {
  interruptsHeld = on;
}
export function setStopOnTrap(on: bool): void {
  stopOnTrap = on;
}
export function setStopOnPrivChange(on: bool): void {
  stopOnPrivChange = on;
}
export function getTrapLogHead(): u32 {
  return trapLogHead;
}
/** Follow the traps whose exception code has its bit set to their return (wasm/cpu/trapLog.ts). */
export function setTrapReturnMask(mask: u32): void {
  setReturnMask(mask);
}
/** Which interrupts and ecalls the trap log records, by privilege trapped from (wasm/cpu/trapLog.ts). */
export function setTrapRingMask(u: u32, s: u32, m: u32): void {
  setRingMask(u, s, m);
}
