// Several harts on one interpreter. The hot loop (run.ts) and a JIT only ever see one hart:
// the globals of state.ts, the register files and the CSR memory of layout.ts. The other
// harts wait in save areas (HART_SAVE_OFFSET); at a quantum boundary the running hart is
// saved and the next one loaded, with the TLBs and the fetch cache flushed and every LR/SC
// reservation cleared (the spec lets a reservation be lost at any time; a store by another
// hart can then never slip between an LR and its SC). AMOs are atomic for free: a hart
// runs whole instructions between switches.
//
// Counters: minstret is each hart's own (a waiting hart retires nothing); mcycle and mtime
// are the machine's clock, which runs for every hart.
// Time is the machine's: mtime follows the instruction count of all harts together, and
// harts switch after a fixed number of instructions, so an SMP run is as deterministic as
// a single hart's. A hart that executes WFI with nothing to wake it sleeps: it is skipped
// until an interrupt it enables is pending (its timers, its CLINT msip, its PLIC contexts).
import {
  FREGS_OFFSET, HART_SAVE_OFFSET, HART_SAVE_SIZE, PMP_ADDR_OFFSET, REGS_OFFSET, TRIGGER_CSR_OFFSET,
  TRIGGER_CSR_SIZE,
} from '../layout';
import * as st from './state';
import { fflags } from './softfloat';
import { tlbFlush } from './mmu';
import { triggersReload, tselect } from './triggers';
import { clintSwitchHart, hartMsip, hartMtimecmp, mtime } from '../dev/clint';
import { plicHartMip, plicSwitchHart } from '../dev/plic';

/** Instructions a hart runs before the next one gets its turn. */
export const QUANTUM: u64 = 4096;

import { currentHart, hartCount } from './state';
export { currentHart, hartCount };
/** Harts asleep in WFI (bit h). */
export let sleeping: u32 = 0;
/**
 * Harts the host holds (bit h): a debugger that resumes some harts only (gdb's `vCont;c:N`,
 * a single step of one hart) keeps the others where they stopped. A held hart is never
 * switched to; it neither runs nor sleeps, it waits. 0 outside a debugger.
 */
export let held: u32 = 0;
/** Instructions left in the current hart's quantum. */
export let quantumLeft: u64 = QUANTUM;
/** Hart switches since reset (a JIT that caches per-hart state can compare it). */
export let hartSwitches: u64 = 0;

// A save area: the register files, pmpaddr, the trigger CSRs, then u64 scalars.
const SAVE_REGS: u32 = 0x000;
const SAVE_PMP: u32 = 0x200;
const SAVE_TRIGGERS: u32 = 0x280;
const SAVE_SCALARS: u32 = 0x300;
// Scalar slots (u64 each).
const S_PC: u32 = 0;
const S_PRIV: u32 = 1;
const S_MSTATUS: u32 = 2;
const S_MTVEC: u32 = 3;
const S_MEPC: u32 = 4;
const S_MCAUSE: u32 = 5;
const S_MTVAL: u32 = 6;
const S_MSCRATCH: u32 = 7;
const S_MEDELEG: u32 = 8;
const S_MIDELEG: u32 = 9;
const S_MIE: u32 = 10;
const S_MIP: u32 = 11;
const S_MCOUNTEREN: u32 = 12;
const S_SCOUNTEREN: u32 = 13;
const S_MENVCFG: u32 = 14;
const S_SENVCFG: u32 = 15;
const S_MCOUNTINHIBIT: u32 = 16;
const S_STIMECMP: u32 = 17;
const S_STVEC: u32 = 18;
const S_SEPC: u32 = 19;
const S_SCAUSE: u32 = 20;
const S_STVAL: u32 = 21;
const S_SSCRATCH: u32 = 22;
const S_SATP: u32 = 23;
const S_CYCLE_DELTA: u32 = 24;
/**
 * A waiting hart's minstret, frozen at its save: it retires nothing while others run, so
 * its count is its own (the delta to the machine's icount is recomputed at restore).
 * mcycle stays the machine's clock: cycles pass for a hart whether it runs or waits.
 */
const S_MINSTRET: u32 = 25;
const S_FRM: u32 = 26;
const S_FFLAGS: u32 = 27;
const S_PMPCFG0: u32 = 28;
const S_PMPCFG2: u32 = 29;
const S_TSELECT: u32 = 30;

@inline function area(h: u32): u32 {
  return HART_SAVE_OFFSET + h * HART_SAVE_SIZE;
}

@inline function slot(h: u32, s: u32): u32 {
  return area(h) + SAVE_SCALARS + (s << 3);
}

/** A saved hart's scalar (never the current hart's: that one is live). */
@inline export function savedScalar(h: u32, s: u32): u64 {
  return load<u64>(slot(h, s));
}

function save(h: u32): void {
  const a = area(h);
  memory.copy(a + SAVE_REGS, REGS_OFFSET, 512); // x and f, adjacent (layout.ts)
  memory.copy(a + SAVE_PMP, PMP_ADDR_OFFSET, 128);
  memory.copy(a + SAVE_TRIGGERS, TRIGGER_CSR_OFFSET, TRIGGER_CSR_SIZE);
  store<u64>(slot(h, S_PC), st.pc);
  store<u64>(slot(h, S_PRIV), <u64>st.priv);
  store<u64>(slot(h, S_MSTATUS), st.mstatus);
  store<u64>(slot(h, S_MTVEC), st.mtvec);
  store<u64>(slot(h, S_MEPC), st.mepc);
  store<u64>(slot(h, S_MCAUSE), st.mcause);
  store<u64>(slot(h, S_MTVAL), st.mtval);
  store<u64>(slot(h, S_MSCRATCH), st.mscratch);
  store<u64>(slot(h, S_MEDELEG), st.medeleg);
  store<u64>(slot(h, S_MIDELEG), st.mideleg);
  store<u64>(slot(h, S_MIE), st.mie);
  store<u64>(slot(h, S_MIP), st.mip);
  store<u64>(slot(h, S_MCOUNTEREN), <u64>st.mcounteren);
  store<u64>(slot(h, S_SCOUNTEREN), <u64>st.scounteren);
  store<u64>(slot(h, S_MENVCFG), st.menvcfg);
  store<u64>(slot(h, S_SENVCFG), st.senvcfg);
  store<u64>(slot(h, S_MCOUNTINHIBIT), <u64>st.mcountinhibit);
  store<u64>(slot(h, S_STIMECMP), st.stimecmp);
  store<u64>(slot(h, S_STVEC), st.stvec);
  store<u64>(slot(h, S_SEPC), st.sepc);
  store<u64>(slot(h, S_SCAUSE), st.scause);
  store<u64>(slot(h, S_STVAL), st.stval);
  store<u64>(slot(h, S_SSCRATCH), st.sscratch);
  store<u64>(slot(h, S_SATP), st.satp);
  store<u64>(slot(h, S_CYCLE_DELTA), st.cycleDelta);
  store<u64>(slot(h, S_MINSTRET), st.icount + st.instretDelta);
  store<u64>(slot(h, S_FRM), <u64>st.frm);
  store<u64>(slot(h, S_FFLAGS), <u64>fflags);
  store<u64>(slot(h, S_PMPCFG0), st.pmpcfg0);
  store<u64>(slot(h, S_PMPCFG2), st.pmpcfg2);
  store<u64>(slot(h, S_TSELECT), <u64>tselect);
}

function restore(h: u32): void {
  const a = area(h);
  memory.copy(REGS_OFFSET, a + SAVE_REGS, 512);
  memory.copy(PMP_ADDR_OFFSET, a + SAVE_PMP, 128);
  memory.copy(TRIGGER_CSR_OFFSET, a + SAVE_TRIGGERS, TRIGGER_CSR_SIZE);
  st.pc = savedScalar(h, S_PC);
  st.priv = <u32>savedScalar(h, S_PRIV);
  st.mstatus = savedScalar(h, S_MSTATUS);
  st.mtvec = savedScalar(h, S_MTVEC);
  st.mepc = savedScalar(h, S_MEPC);
  st.mcause = savedScalar(h, S_MCAUSE);
  st.mtval = savedScalar(h, S_MTVAL);
  st.mscratch = savedScalar(h, S_MSCRATCH);
  st.medeleg = savedScalar(h, S_MEDELEG);
  st.mideleg = savedScalar(h, S_MIDELEG);
  st.mie = savedScalar(h, S_MIE);
  st.mip = savedScalar(h, S_MIP);
  st.mcounteren = <u32>savedScalar(h, S_MCOUNTEREN);
  st.scounteren = <u32>savedScalar(h, S_SCOUNTEREN);
  st.menvcfg = savedScalar(h, S_MENVCFG);
  st.senvcfg = savedScalar(h, S_SENVCFG);
  st.mcountinhibit = <u32>savedScalar(h, S_MCOUNTINHIBIT);
  st.stimecmp = savedScalar(h, S_STIMECMP);
  st.stvec = savedScalar(h, S_STVEC);
  st.sepc = savedScalar(h, S_SEPC);
  st.scause = savedScalar(h, S_SCAUSE);
  st.stval = savedScalar(h, S_STVAL);
  st.sscratch = savedScalar(h, S_SSCRATCH);
  st.satp = savedScalar(h, S_SATP);
  st.cycleDelta = savedScalar(h, S_CYCLE_DELTA);
  st.instretDelta = savedScalar(h, S_MINSTRET) - st.icount;
  st.frm = <u32>savedScalar(h, S_FRM);
  fflags = <u32>savedScalar(h, S_FFLAGS);
  st.pmpcfg0 = savedScalar(h, S_PMPCFG0);
  st.pmpcfg2 = savedScalar(h, S_PMPCFG2);
  tselect = <u32>savedScalar(h, S_TSELECT);
  const from = currentHart;
  currentHart = h;
  clintSwitchHart(from, h);
  plicSwitchHart();
  st.reservation = <u64>-1;
  triggersReload();
  tlbFlush(); // the TLBs and the fetch cache hold the other hart's translations
  hartSwitches++;
}

/** Power-on: `count` harts, all in the reset state the live globals hold now, hart 0 live. */
export function hartsReset(count: u32): void {
  hartCount = count;
  for (let h: u32 = 0; h < count; h++) save(h);
  currentHart = 0;
  sleeping = 0;
  held = 0;
  hartIdled = false;
  quantumLeft = QUANTUM;
  hartSwitches = 0;
}

/** Whether saved hart h has an interrupt pending that it enables in mie (what wakes a WFI). */
function savedHartWakes(h: u32): bool {
  const now = mtime();
  let mip = savedScalar(h, S_MIP) | plicHartMip(h);
  if (hartMsip(h)) mip |= st.MIP_MSIP;
  if (now >= hartMtimecmp(h)) mip |= st.MIP_MTIP;
  if ((savedScalar(h, S_MENVCFG) & st.MENVCFG_STCE) != 0 && now >= savedScalar(h, S_STIMECMP)) mip |= st.MIP_STIP;
  return (mip & savedScalar(h, S_MIE)) != 0;
}

/** The earliest timer deadline of any hart (mtimecmp, and stimecmp under STCE). */
export function earliestSavedDeadline(): u64 {
  let d = <u64>-1;
  for (let h: u32 = 0; h < hartCount; h++) {
    if (h == currentHart) continue;
    const m = hartMtimecmp(h);
    if (m < d) d = m;
    if ((savedScalar(h, S_MENVCFG) & st.MENVCFG_STCE) != 0) {
      const s = savedScalar(h, S_STIMECMP);
      if (s < d) d = s;
    }
  }
  return d;
}

/**
 * Makes the next hart that can run live (round robin after the current one): one awake,
 * or asleep with a wake-up pending. Stays on the current hart if it is awake and no other
 * can run. Returns false when every hart sleeps with nothing to wake it.
 */
export function switchHart(): bool {
  quantumLeft = QUANTUM;
  for (let i: u32 = 1; i < hartCount; i++) {
    const h = (currentHart + i) % hartCount;
    const bit: u32 = 1 << h;
    if ((held & bit) != 0) continue;
    if ((sleeping & bit) != 0) {
      if (!savedHartWakes(h)) continue;
      sleeping &= ~bit;
    }
    save(currentHart);
    restore(h);
    return true;
  }
  return ((sleeping | held) & (1 << currentHart)) == 0;
}

/**
 * Only the harts of `mask` run from now on (0 or every hart: all run again). When the live
 * hart is held, the next runnable one is made live at once, so run() never executes a held
 * hart; that switch is a real one (TLBs flushed, reservation lost), which the spec allows.
 */
export function setRunnableHarts(mask: u32): void {
  const all: u32 = hartCount >= 32 ? <u32>-1 : (<u32>1 << hartCount) - 1;
  mask &= all;
  held = mask == 0 ? 0 : all & ~mask;
  if ((held & (1 << currentHart)) == 0) return;
  for (let i: u32 = 1; i < hartCount; i++) {
    const h = (currentHart + i) % hartCount;
    if ((held & (1 << h)) != 0) continue;
    save(currentHart);
    restore(h);
    quantumLeft = QUANTUM;
    return;
  }
}

/** Set when any hart goes to sleep in WFI (the host's sign that a guest driver settled,
 *  even while another hart keeps the machine busy); cleared by the host reading it. */
export let hartIdled: bool = false;

/** The current hart executed WFI with nothing pending: it sleeps. */
export function sleepCurrent(): void {
  sleeping |= 1 << currentHart;
  hartIdled = true;
}

/** The current hart runs again (an interrupt woke it, or the host resumes an idle machine). */
export function wakeCurrent(): void {
  sleeping &= ~(1 << currentHart);
}

export function isSleeping(h: u32): bool {
  return (sleeping & (1 << h)) != 0;
}

/** Hart h's pc and privilege, for the host's views. */
export function hartPc(h: u32): u64 {
  return h == currentHart ? st.pc : savedScalar(h, S_PC);
}

export function hartPriv(h: u32): u32 {
  return h == currentHart ? st.priv : <u32>savedScalar(h, S_PRIV);
}

/** Host loaders (a bare-metal ELF): where hart h starts, and an integer register of it. */
export function setHartPc(h: u32, pc: u64): void {
  if (h == currentHart) st.pc = pc;
  else store<u64>(slot(h, S_PC), pc);
}

export function setHartX(h: u32, r: u32, v: u64): void {
  if (r == 0 || r > 31) return;
  if (h == currentHart) store<u64>(REGS_OFFSET + (r << 3), v);
  else store<u64>(area(h) + SAVE_REGS + (r << 3), v);
}

// --- the host's debugger view of any hart (never called from the hot loop) ---

/** Integer register r of hart h, live or saved. */
export function hartX(h: u32, r: u32): u64 {
  if (r == 0 || r > 31) return 0;
  return h == currentHart ? load<u64>(REGS_OFFSET + (r << 3)) : load<u64>(area(h) + SAVE_REGS + (r << 3));
}

/** FP register r (0..31) of hart h, live or saved (the f file follows the x file in a save area). */
export function hartF(h: u32, r: u32): u64 {
  if (r > 31) return 0;
  return h == currentHart ? load<u64>(FREGS_OFFSET + (r << 3)) : load<u64>(area(h) + SAVE_REGS + 256 + (r << 3));
}

/**
 * A debugger writes FP register r of hart h. As an FP instruction's write would, it makes
 * mstatus.FS Dirty, so a kernel that saves FP state lazily saves this value; with FS Off
 * the value is stored but FS stays Off: the debugger must not turn FP on behind the guest.
 */
export function setHartF(h: u32, r: u32, v: u64): void {
  if (r > 31) return;
  if (h == currentHart) {
    store<u64>(FREGS_OFFSET + (r << 3), v);
    if ((st.mstatus & st.MSTATUS_FS) != 0) st.mstatus |= st.MSTATUS_FS;
  } else {
    store<u64>(area(h) + SAVE_REGS + 256 + (r << 3), v);
    const ms = savedScalar(h, S_MSTATUS);
    if ((ms & st.MSTATUS_FS) != 0) store<u64>(slot(h, S_MSTATUS), ms | st.MSTATUS_FS);
  }
}

/** A debugger sets hart h's privilege (0 U, 1 S, 3 M; false for another value). */
export function setHartPriv(h: u32, p: u32): bool {
  if (p != st.PRV_U && p != st.PRV_S && p != st.PRV_M) return false;
  if (h != currentHart) {
    store<u64>(slot(h, S_PRIV), <u64>p);
  } else if (p != st.priv) {
    st.priv = p;
    tlbFlush(); // the TLBs hold translations checked for the old privilege
  }
  return true;
}

/**
 * Makes saved hart h live so that the CSR code reads and writes its CSRs with every side
 * effect (its CLINT timer, its PLIC contexts, mhartid); returns the hart to go back to
 * with leaveHart. A real hart switch: the TLBs flush and the reservation is lost, which
 * the spec allows at any time. No-op for the live hart.
 */
export function visitHart(h: u32): u32 {
  const back = currentHart;
  if (h != back) {
    save(back);
    restore(h);
  }
  return back;
}

export function leaveHart(back: u32): void {
  if (currentHart != back) {
    save(currentHart);
    restore(back);
  }
}
