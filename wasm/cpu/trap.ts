// Traps (privileged spec 3.1.6-3.1.9, 3.3.2, 4.1.1): taking exceptions and interrupts with
// medeleg/mideleg delegation, the xRET instructions, and which interrupt wins.
import {
  CAUSE_HOST_STOP, CAUSE_INTERRUPT, IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER,
  MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_SIE,
  MSTATUS_SPIE, MSTATUS_SPP, PRV_M, PRV_S, PRV_U,
  lastTrapCause, lastTrapPc, lastTrapTval, medeleg, mepc, mcause, mideleg, mie, mip,
  mstatus, mtval, mtvec, priv, reservation, scause, sepc, stval, stvec, trapCount,
} from './state';
import { tlbFlush } from './mmu';
import { plicMip } from '../dev/plic';
import { requestStop, STOP_PRIV, STOP_TRAP } from '../stop';
import { markStage, STAGE_KERNEL, STAGE_USER } from './bootStages';
import { logTrap } from './trapLog';
import { tcontrolMret, tcontrolTrapToM } from './triggers';

/** Debugger: stop run() after the next trap is taken, or at the next privilege change. */
export let stopOnTrap: bool = false;
export let stopOnPrivChange: bool = false;

/** Changes privilege. The TLBs hold translations checked for one privilege: flush them. */
export function setPriv(p: u32): void {
  if (p != priv) {
    priv = p;
    tlbFlush();
    if (p == PRV_S) markStage(STAGE_KERNEL);
    else if (p == PRV_U) markStage(STAGE_USER);
    if (stopOnPrivChange) requestStop(STOP_PRIV, <u64>p);
  }
}

/** Takes a trap at epc; returns the handler's address. cause has bit 63 for interrupts. */
export function takeTrap(cause: u64, tval: u64, epc: u64): u64 {
  if (cause == <u64>CAUSE_HOST_STOP) return epc; // a debugger's watchpoint: stop before the access
  const interrupt = (cause & CAUSE_INTERRUPT) != 0;
  const code = cause & 63;
  const deleg = interrupt ? mideleg : medeleg;
  const from = priv;
  lastTrapCause = cause;
  lastTrapPc = epc;
  lastTrapTval = tval;
  trapCount++;
  reservation = <u64>-1;
  let vector: u64;
  if (priv <= PRV_S && ((deleg >> code) & 1) != 0) {
    scause = cause;
    sepc = epc;
    stval = tval;
    let s = mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
    if (mstatus & MSTATUS_SIE) s |= MSTATUS_SPIE;
    if (priv == PRV_S) s |= MSTATUS_SPP;
    mstatus = s;
    setPriv(PRV_S);
    vector = stvec;
  } else {
    mcause = cause;
    mepc = epc;
    mtval = tval;
    let s = mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
    if (mstatus & MSTATUS_MIE) s |= MSTATUS_MPIE;
    s |= <u64>priv << MSTATUS_MPP_SHIFT;
    mstatus = s;
    tcontrolTrapToM();
    setPriv(PRV_M);
    vector = mtvec;
  }
  const base = vector & ~<u64>3;
  const handler = interrupt && (vector & 1) != 0 ? base + 4 * code : base;
  logTrap(epc, cause, tval, handler, from, priv);
  if (stopOnTrap) requestStop(STOP_TRAP, cause);
  return handler;
}

/** mret: returns the new pc. */
export function mret(): u64 {
  const prev = <u32>((mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
  let s = mstatus & ~(MSTATUS_MIE | MSTATUS_MPP);
  if (mstatus & MSTATUS_MPIE) s |= MSTATUS_MIE;
  s |= MSTATUS_MPIE; // MPP is left at U (0)
  if (prev != PRV_M) s &= ~MSTATUS_MPRV;
  mstatus = s;
  tcontrolMret();
  setPriv(prev);
  return mepc;
}

/** sret: returns the new pc. */
export function sret(): u64 {
  const prev = (mstatus & MSTATUS_SPP) != 0 ? PRV_S : PRV_U;
  let s = mstatus & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
  if (mstatus & MSTATUS_SPIE) s |= MSTATUS_SIE;
  s |= MSTATUS_SPIE;
  mstatus = s;
  setPriv(prev);
  return sepc;
}

/** mip as software reads it: written bits ORed with the PLIC's external lines. */
@inline export function effectiveMip(): u64 {
  return mip | plicMip;
}

// Simultaneous interrupts are taken in this order: MEI, MSI, MTI, SEI, SSI, STI (3.1.9).
function highest(bits: u64): u64 {
  if (bits & (1 << IRQ_M_EXT)) return IRQ_M_EXT;
  if (bits & (1 << IRQ_M_SOFT)) return IRQ_M_SOFT;
  if (bits & (1 << IRQ_M_TIMER)) return IRQ_M_TIMER;
  if (bits & (1 << IRQ_S_EXT)) return IRQ_S_EXT;
  if (bits & (1 << IRQ_S_SOFT)) return IRQ_S_SOFT;
  return IRQ_S_TIMER;
}

/** The interrupt to take now, as a cause with bit 63 set, or 0 for none. */
export function pendingInterrupt(): u64 {
  const pending = effectiveMip() & mie;
  if (pending == 0) return 0;
  const mEnabled = priv < PRV_M || (mstatus & MSTATUS_MIE) != 0;
  const toM = pending & ~mideleg;
  if (toM != 0 && mEnabled) return CAUSE_INTERRUPT | highest(toM);
  const sEnabled = priv < PRV_S || (priv == PRV_S && (mstatus & MSTATUS_SIE) != 0);
  const toS = pending & mideleg;
  if (toS != 0 && sEnabled) return CAUSE_INTERRUPT | highest(toS);
  return 0;
}
