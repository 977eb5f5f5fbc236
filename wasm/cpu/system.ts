// The SYSTEM opcode: Zicsr, ecall/ebreak, mret/sret, wfi, sfence.vma.
import {
  CAUSE_BREAKPOINT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_MACHINE_ECALL, CAUSE_SUPERVISOR_ECALL,
  CAUSE_USER_ECALL, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, PRV_M, PRV_S, PRV_U,
  MIP_SEIP, mie, mip, mstatus, pendingCause, pendingTval, priv,
} from './state';
import { csrIllegal, csrRead, csrWrite, CSR_MIP, CSR_SATP } from './csr';
import { mret, sret, effectiveMip } from './trap';
import { noteReturn } from './trapLog';
import { tlbFlush } from './mmu';
import { requestStop, STOP_WFI } from '../stop';
import { markStage, stageReached, STAGE_IDLE_USER, STAGE_USER } from './bootStages';
import { csr as csrOf, funct3, rd as rdOf, rs1 as rs1Of } from './fields';
import { getX, setX } from './regs';

/** Continue with the next instruction. */
export const SYS_NEXT: u32 = 0;
/** Continue with the next instruction, but end the block first (state that affects
 *  interrupts or translation changed). */
export const SYS_NEXT_END: u32 = 1;
/** Raise pendingCause / pendingTval. */
export const SYS_TRAP: u32 = 2;
/** Jump to sysTarget and end the block (xRET). */
export const SYS_JUMP: u32 = 3;

export let sysTarget: u64 = 0;

const ECALL: u32 = 0x00000073;
const EBREAK: u32 = 0x00100073;
const SRET: u32 = 0x10200073;
const MRET: u32 = 0x30200073;
const WFI: u32 = 0x10500073;
const SFENCE_VMA_MASK: u32 = 0xfe007fff;
const SFENCE_VMA: u32 = 0x12000073;

function illegal(insn: u32): u32 {
  pendingCause = CAUSE_ILLEGAL_INSTRUCTION;
  pendingTval = <u64>insn;
  return SYS_TRAP;
}

export function execSystem(insn: u32, pc: u64): u32 {
  const f3 = funct3(insn);
  if (f3 == 0) {
    if (insn == ECALL) {
      pendingCause = priv == PRV_U ? CAUSE_USER_ECALL : priv == PRV_S ? CAUSE_SUPERVISOR_ECALL : CAUSE_MACHINE_ECALL;
      pendingTval = 0;
      return SYS_TRAP;
    }
    if (insn == EBREAK) {
      pendingCause = CAUSE_BREAKPOINT;
      pendingTval = pc;
      return SYS_TRAP;
    }
    if (insn == MRET) {
      if (priv != PRV_M) return illegal(insn);
      sysTarget = mret();
      noteReturn(pc, PRV_M, priv, sysTarget);
      return SYS_JUMP;
    }
    if (insn == SRET) {
      if (priv == PRV_U || (priv == PRV_S && (mstatus & MSTATUS_TSR) != 0)) return illegal(insn);
      const from = priv;
      sysTarget = sret();
      noteReturn(pc, from, priv, sysTarget);
      return SYS_JUMP;
    }
    if (insn == WFI) {
      if (priv == PRV_U || (priv == PRV_S && (mstatus & MSTATUS_TW) != 0)) return illegal(insn);
      // Sleep only when nothing is pending; a pending-but-disabled interrupt wakes a WFI.
      if ((effectiveMip() & mie) == 0) requestStop(STOP_WFI, 0);
      if (stageReached(STAGE_USER)) markStage(STAGE_IDLE_USER);
      return SYS_NEXT_END;
    }
    if ((insn & SFENCE_VMA_MASK) == SFENCE_VMA) {
      if (priv == PRV_U || (priv == PRV_S && (mstatus & MSTATUS_TVM) != 0)) return illegal(insn);
      // XXX: flushes everything; per-address/ASID flushes would keep more entries.
      tlbFlush();
      return SYS_NEXT_END;
    }
    return illegal(insn);
  }
  if (f3 == 4) return illegal(insn);

  const csr = csrOf(insn);
  const rd = rdOf(insn);
  const rs1 = rs1Of(insn);
  const op = f3 & 3; // 1 = RW, 2 = RS, 3 = RC
  const src: u64 = f3 >= 5 ? <u64>rs1 : getX(rs1); // the *I forms: rs1 is a 5-bit uimm
  const writes = op == 1 || rs1 != 0;
  if (((csr >> 8) & 3) > priv) return illegal(insn);
  if (writes && (csr >> 10) == 3) return illegal(insn);
  if (csr == CSR_SATP && priv == PRV_S && (mstatus & MSTATUS_TVM) != 0) return illegal(insn);

  csrIllegal = false;
  // CSRRW with rd = x0 does not read (no read side effects), but the CSR must exist.
  const old = csrRead(csr);
  if (csrIllegal) return illegal(insn);
  let end = false;
  if (writes) {
    // CSRRS/CSRRC on mip modify the software-written SEIP bit only, not the PLIC's line
    // ORed into reads (privileged spec 3.1.9); else M-mode's timer bookkeeping
    // (csrs mip, STIP) would latch a passing external interrupt forever.
    const base = csr == CSR_MIP ? (old & ~MIP_SEIP) | (mip & MIP_SEIP) : old;
    const v = op == 1 ? src : op == 2 ? base | src : base & ~src;
    end = csrWrite(csr, v);
  }
  setX(rd, old);
  return end ? SYS_NEXT_END : SYS_NEXT;
}


