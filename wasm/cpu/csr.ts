// Control and status registers (privileged spec ch. 2-4, unprivileged ch. 10-11).
// csrRead/csrWrite do the per-register work; the access rules common to all CSRs
// (privilege in bits 9:8, read-only in bits 11:10) are checked in system.ts.
import {
  MEDELEG_WRITABLE, MIP_ALL, MIP_SSIP, MIP_S_MASK, MISA_VALUE, MSTATUS_FS,
  MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_SD, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP,
  MSTATUS_SUM, MSTATUS_MXR, MSTATUS_WRITABLE, MSTATUS_XLEN64, PRV_M, PRV_S, PRV_U,
  SSTATUS_VISIBLE,
  cycleDelta, frm, icount, instretDelta, mcause, mcounteren, mcountinhibit, medeleg,
  menvcfg, mepc, mideleg, mie, mip, mscratch, mstatus, mtval, mtvec, pmpcfg0, pmpcfg2,
  priv, satp, scause, scounteren, senvcfg, sepc, sscratch, stimecmp, stval, stvec, currentHart,
  ENVCFG_FIOM, MENVCFG_STCE, MIP_STIP,
} from './state';
import { SATP_MODE_BARE, SATP_MODE_SHIFT, SATP_MODE_SV39, SATP_PPN_MASK, tlbFlush } from './mmu';
import { effectiveMip } from './trap';
import { mtime, updateStip } from '../dev/clint';
import { fflags } from './softfloat';
import { tcontrolRead, tcontrolWrite, tdata1Of, tdata2Of, TINFO_VALUE, tselect, writeTdata1, writeTdata2, writeTselect } from './triggers';
import { PMP_ADDR_OFFSET } from '../layout';
import { markStage, STAGE_PAGING } from './bootStages';

export const CSR_FFLAGS: u32 = 0x001;
export const CSR_FRM: u32 = 0x002;
export const CSR_FCSR: u32 = 0x003;
export const CSR_SSTATUS: u32 = 0x100;
export const CSR_SIE: u32 = 0x104;
export const CSR_STVEC: u32 = 0x105;
export const CSR_SCOUNTEREN: u32 = 0x106;
export const CSR_SENVCFG: u32 = 0x10a;
export const CSR_SSCRATCH: u32 = 0x140;
export const CSR_SEPC: u32 = 0x141;
export const CSR_SCAUSE: u32 = 0x142;
export const CSR_STVAL: u32 = 0x143;
export const CSR_SIP: u32 = 0x144;
export const CSR_STIMECMP: u32 = 0x14d;
export const CSR_SATP: u32 = 0x180;
export const CSR_MSTATUS: u32 = 0x300;
export const CSR_MISA: u32 = 0x301;
export const CSR_MEDELEG: u32 = 0x302;
export const CSR_MIDELEG: u32 = 0x303;
export const CSR_MIE: u32 = 0x304;
export const CSR_MTVEC: u32 = 0x305;
export const CSR_MCOUNTEREN: u32 = 0x306;
export const CSR_MENVCFG: u32 = 0x30a;
export const CSR_MCOUNTINHIBIT: u32 = 0x320;
export const CSR_MHPMEVENT3: u32 = 0x323;
export const CSR_MHPMEVENT31: u32 = 0x33f;
export const CSR_MSCRATCH: u32 = 0x340;
export const CSR_MEPC: u32 = 0x341;
export const CSR_MCAUSE: u32 = 0x342;
export const CSR_MTVAL: u32 = 0x343;
export const CSR_MIP: u32 = 0x344;
export const CSR_PMPCFG0: u32 = 0x3a0;
export const CSR_PMPCFG2: u32 = 0x3a2;
export const CSR_PMPADDR0: u32 = 0x3b0;
export const CSR_PMPADDR63: u32 = 0x3ef;
export const CSR_TSELECT: u32 = 0x7a0;
export const CSR_TDATA1: u32 = 0x7a1;
export const CSR_TDATA2: u32 = 0x7a2;
export const CSR_TDATA3: u32 = 0x7a3;
export const CSR_TINFO: u32 = 0x7a4;
export const CSR_TCONTROL: u32 = 0x7a5;
export const CSR_MCYCLE: u32 = 0xb00;
export const CSR_MINSTRET: u32 = 0xb02;
export const CSR_MHPMCOUNTER3: u32 = 0xb03;
export const CSR_MHPMCOUNTER31: u32 = 0xb1f;
export const CSR_CYCLE: u32 = 0xc00;
export const CSR_TIME: u32 = 0xc01;
export const CSR_INSTRET: u32 = 0xc02;
export const CSR_HPMCOUNTER3: u32 = 0xc03;
export const CSR_HPMCOUNTER31: u32 = 0xc1f;
export const CSR_MVENDORID: u32 = 0xf11;
export const CSR_MARCHID: u32 = 0xf12;
export const CSR_MIMPID: u32 = 0xf13;
export const CSR_MHARTID: u32 = 0xf14;
export const CSR_MCONFIGPTR: u32 = 0xf15;

/** Implemented PMP entries (pmpaddr0..15); 16..63 read as zero. */
const PMP_ENTRIES: u32 = 16;
/** pmpaddr holds bits 55:2 of a physical address (3.7.1). */
const PMP_ADDR_MASK: u64 = (<u64>1 << 54) - 1;
const SSTATUS_WRITABLE: u64 = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
/** senvcfg: only FIOM; CBIE/CBCFE/CBZE belong to absent extensions. */
const SENVCFG_WRITABLE: u64 = ENVCFG_FIOM;
/** menvcfg: FIOM and Sstc's STCE; PBMTE and the CBO fields belong to absent extensions. */
const MENVCFG_WRITABLE: u64 = ENVCFG_FIOM | MENVCFG_STCE;
/** mcounteren/scounteren.TM: time, and with Sstc stimecmp, below M. */
const COUNTEREN_TM: u32 = 1 << 1;

/** Set by csrRead/csrWrite when the CSR does not exist or may not be accessed. */
export let csrIllegal: bool = false;

@inline function fsOff(): bool {
  return (mstatus & MSTATUS_FS) == 0;
}

function statusRead(): u64 {
  return (mstatus & MSTATUS_FS) == MSTATUS_FS ? mstatus | MSTATUS_SD : mstatus;
}

/** Counters visible below M-mode only when mcounteren (and for U, scounteren) allow. */
function counterAllowed(csr: u32): bool {
  const bit = <u32>1 << (csr - CSR_CYCLE);
  if (priv < PRV_M && (mcounteren & bit) == 0) return false;
  if (priv == PRV_U && (scounteren & bit) == 0) return false;
  return true;
}

/** Sstc: stimecmp is M's alone unless menvcfg.STCE, and S's only with mcounteren.TM. */
function stimecmpAllowed(): bool {
  if (priv == PRV_M) return true;
  return (menvcfg & MENVCFG_STCE) != 0 && (mcounteren & COUNTEREN_TM) != 0;
}

function illegal(): u64 {
  csrIllegal = true;
  return 0;
}

export function csrRead(csr: u32): u64 {
  switch (csr) {
    case CSR_FFLAGS: return fsOff() ? illegal() : <u64>fflags;
    case CSR_FRM: return fsOff() ? illegal() : <u64>frm;
    case CSR_FCSR: return fsOff() ? illegal() : <u64>((frm << 5) | fflags);
    case CSR_SSTATUS: return statusRead() & SSTATUS_VISIBLE;
    case CSR_SIE: return mie & mideleg;
    case CSR_STVEC: return stvec;
    case CSR_SCOUNTEREN: return <u64>scounteren;
    case CSR_SENVCFG: return senvcfg;
    case CSR_SSCRATCH: return sscratch;
    case CSR_SEPC: return sepc;
    case CSR_SCAUSE: return scause;
    case CSR_STVAL: return stval;
    case CSR_SIP: return effectiveMip() & mideleg;
    case CSR_STIMECMP: return stimecmpAllowed() ? stimecmp : illegal();
    case CSR_SATP: return satp;
    case CSR_MSTATUS: return statusRead();
    case CSR_MISA: return MISA_VALUE;
    case CSR_MEDELEG: return medeleg;
    case CSR_MIDELEG: return mideleg;
    case CSR_MIE: return mie;
    case CSR_MTVEC: return mtvec;
    case CSR_MCOUNTEREN: return <u64>mcounteren;
    case CSR_MENVCFG: return menvcfg;
    case CSR_MCOUNTINHIBIT: return <u64>mcountinhibit;
    case CSR_MSCRATCH: return mscratch;
    case CSR_MEPC: return mepc;
    case CSR_MCAUSE: return mcause;
    case CSR_MTVAL: return mtval;
    case CSR_MIP: return effectiveMip();
    case CSR_PMPCFG0: return pmpcfg0;
    case CSR_PMPCFG2: return pmpcfg2;
    case CSR_TSELECT: return <u64>tselect;
    case CSR_TDATA1: return tdata1Of(tselect);
    case CSR_TDATA2: return tdata2Of(tselect);
    case CSR_TDATA3: return 0; // no textra matching
    case CSR_TINFO: return TINFO_VALUE;
    case CSR_TCONTROL: return tcontrolRead();
    case CSR_MCYCLE: return icount + cycleDelta;
    case CSR_MINSTRET: return icount + instretDelta;
    case CSR_CYCLE: return counterAllowed(csr) ? icount + cycleDelta : illegal();
    case CSR_TIME: return counterAllowed(csr) ? mtime() : illegal();
    case CSR_INSTRET: return counterAllowed(csr) ? icount + instretDelta : illegal();
    case CSR_MHARTID: return <u64>currentHart;
    case CSR_MVENDORID:
    case CSR_MARCHID:
    case CSR_MIMPID:
    case CSR_MCONFIGPTR:
      return 0;
  }
  if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
    const i = csr - CSR_PMPADDR0;
    return i < PMP_ENTRIES ? load<u64>(PMP_ADDR_OFFSET + (i << 3)) : 0;
  }
  if (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) return 0;
  if (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) return 0;
  if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) return counterAllowed(csr) ? 0 : illegal();
  return illegal();
}

function legalTvec(v: u64): u64 {
  // Modes 0 (direct) and 1 (vectored); the reserved modes >= 2 are not kept.
  return (v & ~<u64>3) | (v & 1);
}

/**
 * Writes a CSR that csrRead accepted. Returns true when the write may change which
 * interrupts are pending/enabled or how addresses translate: the hot loop must then
 * end its block and look again.
 */
export function csrWrite(csr: u32, v: u64): bool {
  switch (csr) {
    case CSR_FFLAGS:
      fflags = <u32>v & 0x1f;
      mstatus |= MSTATUS_FS;
      return false;
    case CSR_FRM:
      frm = <u32>v & 7;
      mstatus |= MSTATUS_FS;
      return false;
    case CSR_FCSR:
      fflags = <u32>v & 0x1f;
      frm = (<u32>v >> 5) & 7;
      mstatus |= MSTATUS_FS;
      return false;
    case CSR_SSTATUS:
      mstatus = (mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE);
      tlbFlush(); // SUM / MXR change what S-mode may access
      return true;
    case CSR_SIE:
      mie = (mie & ~mideleg) | (v & mideleg);
      return true;
    case CSR_STVEC: stvec = legalTvec(v); return false;
    case CSR_SCOUNTEREN: scounteren = <u32>v; return false;
    case CSR_SENVCFG: senvcfg = v & SENVCFG_WRITABLE; return false;
    case CSR_SSCRATCH: sscratch = v; return false;
    case CSR_SEPC: sepc = v & ~<u64>1; return false;
    case CSR_SCAUSE: scause = v; return false;
    case CSR_STVAL: stval = v; return false;
    case CSR_SIP: {
      const mask = MIP_SSIP & mideleg;
      mip = (mip & ~mask) | (v & mask);
      return true;
    }
    case CSR_SATP: {
      // WARL (10.1.11): a mode this hart lacks leaves satp unchanged; Linux probes
      // Sv57, then Sv48, then Sv39 this way. No ASID bits are implemented.
      const mode = v >> SATP_MODE_SHIFT;
      if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39) return false;
      satp = (mode << SATP_MODE_SHIFT) | (v & SATP_PPN_MASK);
      if (mode == SATP_MODE_SV39) markStage(STAGE_PAGING);
      tlbFlush();
      return true;
    }
    case CSR_MSTATUS: {
      let s = (mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE) | MSTATUS_XLEN64;
      // MPP is WARL: the reserved value 2 (no H-mode) reads back as U.
      if (((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2) s &= ~MSTATUS_MPP;
      mstatus = s;
      tlbFlush(); // MPRV, MPP, SUM and MXR change how loads and stores translate
      return true;
    }
    case CSR_MISA: return false; // the extensions cannot be turned off
    case CSR_MEDELEG: medeleg = v & MEDELEG_WRITABLE; return false;
    case CSR_MIDELEG: mideleg = v & MIP_S_MASK; return true;
    case CSR_MIE: mie = v & MIP_ALL; return true;
    case CSR_MTVEC: mtvec = legalTvec(v); return false;
    case CSR_MCOUNTEREN: mcounteren = <u32>v; return false;
    case CSR_MENVCFG:
      menvcfg = v & MENVCFG_WRITABLE;
      updateStip();
      return true;
    case CSR_STIMECMP:
      stimecmp = v;
      updateStip();
      return true;
    case CSR_MCOUNTINHIBIT: mcountinhibit = <u32>v & ~<u32>2; return false;
    case CSR_MSCRATCH: mscratch = v; return false;
    case CSR_MEPC: mepc = v & ~<u64>1; return false;
    case CSR_MCAUSE: mcause = v; return false;
    case CSR_MTVAL: mtval = v; return false;
    case CSR_MIP: {
      // MTIP, MSIP and MEIP are driven by the CLINT and PLIC; STIP, SSIP, SEIP by M-mode,
      // except that with menvcfg.STCE STIP follows stimecmp and is read-only (Sstc).
      const mask = (menvcfg & MENVCFG_STCE) != 0 ? MIP_S_MASK & ~MIP_STIP : MIP_S_MASK;
      mip = (mip & ~mask) | (v & mask);
      return true;
    }
    case CSR_PMPCFG0: pmpcfg0 = v; return false;
    case CSR_PMPCFG2: pmpcfg2 = v; return false;
    // A trigger change may arm or disarm pages the TLBs hold: they are flushed.
    case CSR_TSELECT: writeTselect(v); return false;
    case CSR_TDATA1: writeTdata1(v); tlbFlush(); return true;
    case CSR_TDATA2: writeTdata2(v); tlbFlush(); return true;
    case CSR_TDATA3: case CSR_TINFO: return false;
    case CSR_TCONTROL: tcontrolWrite(v); return false;
    // The write takes effect after this instruction retires, which counts it (3.3.1).
    case CSR_MCYCLE: cycleDelta = v - icount - 1; return false;
    case CSR_MINSTRET: instretDelta = v - icount - 1; return false;
  }
  if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
    const i = csr - CSR_PMPADDR0;
    if (i < PMP_ENTRIES) store<u64>(PMP_ADDR_OFFSET + (i << 3), v & PMP_ADDR_MASK);
  }
  // mhpmevent/mhpmcounter: read-only zero, writes ignored.
  return false;
}
