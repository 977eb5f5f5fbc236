// CLINT (SiFive core-local interruptor) at CLINT_BASE (machineMap.ts): msip, mtimecmp, mtime,
// for hart 0 (the register offsets for N harts are in machineMap.ts).
//
// mtime is derived from the instruction count, so that timer interrupts land on exact
// instruction boundaries: mtime = mtimeBias + icount / INSNS_PER_TICK. In deterministic
// mode the host never touches the bias; in realtime mode it moves the bias forward to the
// host clock before each run() (see setRealtime in machine.ts).
import { icount, menvcfg, mip, MENVCFG_STCE, MIP_MSIP, MIP_MTIP, MIP_STIP, stimecmp } from '../cpu/state';
import { CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, INSNS_PER_TICK } from '../machineMap';


const MSIP: u32 = CLINT_MSIP;
const MTIMECMP: u32 = CLINT_MTIMECMP;
const MTIME: u32 = CLINT_MTIME;

export let mtimeBias: u64 = 0;
export let mtimecmp: u64 = <u64>-1;

export function mtime(): u64 {
  return mtimeBias + icount / INSNS_PER_TICK;
}

export function setMtime(t: u64): void {
  mtimeBias = t - icount / INSNS_PER_TICK;
}

/** The next time a timer line rises: mtimecmp, or with Sstc on, stimecmp if earlier. */
export function timerDeadline(): u64 {
  if ((menvcfg & MENVCFG_STCE) != 0 && stimecmp < mtimecmp) return stimecmp;
  return mtimecmp;
}

/** Sets mip.MTIP and (Sstc on) mip.STIP from mtime; the run loop calls it between blocks. */
export function updateTimerLines(): void {
  const now = mtime();
  if (now >= mtimecmp) mip |= MIP_MTIP;
  else mip &= ~MIP_MTIP;
  if ((menvcfg & MENVCFG_STCE) != 0) {
    if (now >= stimecmp) mip |= MIP_STIP;
    else mip &= ~MIP_STIP;
  }
}

/** After a write to stimecmp or menvcfg: STIP follows stimecmp at once when STCE is on. */
export function updateStip(): void {
  if ((menvcfg & MENVCFG_STCE) == 0) return;
  if (mtime() >= stimecmp) mip |= MIP_STIP;
  else mip &= ~MIP_STIP;
}

/** Instructions to execute before mtime reaches the next timer deadline (0 when it already has). */
export function insnsUntilTimer(): u64 {
  const now = mtime();
  const deadline = timerDeadline();
  if (now >= deadline) return 0;
  const ticks = deadline - now;
  if (ticks > (<u64>-1) / (INSNS_PER_TICK * 2)) return <u64>-1 >> 1;
  // The tick boundary is crossed when icount reaches the next multiple of INSNS_PER_TICK.
  return ticks * INSNS_PER_TICK - icount % INSNS_PER_TICK;
}

export function clintRead(offset: u32, size: u32): u64 {
  if (offset == MSIP) return (mip & MIP_MSIP) != 0 ? 1 : 0;
  if (offset >= MTIMECMP && offset < MTIMECMP + 8) {
    return size == 8 ? mtimecmp : (mtimecmp >> (<u64>(offset - MTIMECMP) * 8)) & 0xffffffff;
  }
  if (offset >= MTIME && offset < MTIME + 8) {
    const t = mtime();
    return size == 8 ? t : (t >> (<u64>(offset - MTIME) * 8)) & 0xffffffff;
  }
  return 0;
}

function merge32(old: u64, byteOffset: u32, value: u64): u64 {
  const shift = <u64>byteOffset * 8;
  return (old & ~(<u64>0xffffffff << shift)) | ((value & 0xffffffff) << shift);
}

export function clintWrite(offset: u32, size: u32, value: u64): void {
  if (offset == MSIP) {
    if (value & 1) mip |= MIP_MSIP;
    else mip &= ~MIP_MSIP;
  } else if (offset >= MTIMECMP && offset < MTIMECMP + 8) {
    mtimecmp = size == 8 ? value : merge32(mtimecmp, offset - MTIMECMP, value);
  } else if (offset >= MTIME && offset < MTIME + 8) {
    setMtime(size == 8 ? value : merge32(mtime(), offset - MTIME, value));
  }
}
