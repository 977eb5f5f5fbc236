// CLINT (SiFive core-local interruptor) at CLINT_BASE (machineMap.ts): per hart an msip word
// and an mtimecmp (CLINT_STATE_OFFSET), and one mtime. The live hart's mtimecmp is also in
// `mtimecmp` and its msip in mip.MSIP, where the run loop reads them; clintSwitchHart moves
// them when cpu/harts.ts switches harts.
//
// mtime is derived from the instruction count, so that timer interrupts land on exact
// instruction boundaries: mtime = mtimeBias + icount / INSNS_PER_TICK. In deterministic
// mode the host never touches the bias; in realtime mode it moves the bias forward to the
// host clock before each run() (syncTime in machine.ts), and the instruction count's share
// is slow (one tick per 2^REALTIME_TICK_SHIFT instructions, see setRealtimeTicks), so that
// a guest running faster than INSNS_PER_TICK's nominal 100 MIPS never gets ahead of the
// host's clock: before, a busy guest with the JIT timed a 7.5 s loop as 16.6 s.
import { currentHart, hartCount, icount, menvcfg, mip, MENVCFG_STCE, MIP_MSIP, MIP_MTIP, MIP_STIP, stimecmp } from '../cpu/state';
import { CLINT_STATE_OFFSET } from '../layout';
import {
  CLINT_MSIP, CLINT_MSIP_STRIDE, CLINT_MTIME, CLINT_MTIMECMP, CLINT_MTIMECMP_STRIDE, INSNS_PER_TICK,
} from '../machineMap';
import { SMP_MAX_HARTS } from '../machineMap';


const MSIP: u32 = CLINT_MSIP;
const MTIMECMP: u32 = CLINT_MTIMECMP;
const MTIME: u32 = CLINT_MTIME;

export let mtimeBias: u64 = 0;
/**
 * Realtime: one tick per 2^10 instructions, a nominal 10 GIPS, well above anything the core
 * runs (a compiled one-instruction loop reaches ~3), so between the host's syncs guest time
 * only lags the host's, by at most a run's budget (Vm's SLICE), and the sync before the next
 * run brings it level. A power of two: mtime() is on every block's path, and a shift costs
 * what the constant division costs.
 */
const REALTIME_TICK_SHIFT: u64 = 10;
/** Set once by the host for a realtime machine (Vm); a power-on reset (clintReset) keeps it. */
let realtimeTicks = false;
/** The live hart's mtimecmp (its slot in the table is stale while it runs). */
export let mtimecmp: u64 = <u64>-1;

const MSIP_TABLE: u32 = CLINT_STATE_OFFSET + SMP_MAX_HARTS * 8;

/** mtimecmp of hart h. */
export function hartMtimecmp(h: u32): u64 {
  return h == currentHart ? mtimecmp : load<u64>(CLINT_STATE_OFFSET + (h << 3));
}

function setHartMtimecmp(h: u32, v: u64): void {
  if (h == currentHart) mtimecmp = v;
  else store<u64>(CLINT_STATE_OFFSET + (h << 3), v);
}

/** msip of hart h (an IPI waiting for it). */
export function hartMsip(h: u32): bool {
  return load<u32>(MSIP_TABLE + (h << 2)) != 0;
}

function setHartMsip(h: u32, on: bool): void {
  store<u32>(MSIP_TABLE + (h << 2), on ? 1 : 0);
  if (h != currentHart) return;
  if (on) mip |= MIP_MSIP;
  else mip &= ~MIP_MSIP;
}

/** The live hart changes from `from` to `to` (cpu/harts.ts; currentHart is already `to`). */
export function clintSwitchHart(from: u32, to: u32): void {
  store<u64>(CLINT_STATE_OFFSET + (from << 3), mtimecmp);
  mtimecmp = load<u64>(CLINT_STATE_OFFSET + (to << 3));
  if (hartMsip(to)) mip |= MIP_MSIP;
  else mip &= ~MIP_MSIP;
}

/** Power-on: no timer armed, no IPI, on any hart. */
export function clintReset(): void {
  mtimeBias = 0;
  mtimecmp = <u64>-1;
  for (let h: u32 = 0; h < SMP_MAX_HARTS; h++) {
    store<u64>(CLINT_STATE_OFFSET + (h << 3), <u64>-1);
    store<u32>(MSIP_TABLE + (h << 2), 0);
  }
}

/** The instruction count's share of mtime (mtimeBias holds the rest; it wraps as a u64). */
@inline function icountTicks(): u64 {
  return realtimeTicks ? icount >> REALTIME_TICK_SHIFT : icount / INSNS_PER_TICK;
}

/** Instructions per tick of mtime's instruction-count share. */
export function insnsPerTick(): u64 {
  return realtimeTicks ? <u64>1 << REALTIME_TICK_SHIFT : INSNS_PER_TICK;
}

export function mtime(): u64 {
  return mtimeBias + icountTicks();
}

export function setMtime(t: u64): void {
  mtimeBias = t - icountTicks();
}

/**
 * Realtime (on) or deterministic (off, the default and what a machine state's mtimeBias
 * means) ticks; mtime reads the same before and after the switch.
 */
export function setRealtimeTicks(on: bool): void {
  const now = mtime();
  realtimeTicks = on;
  setMtime(now);
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

/** Instructions to execute before mtime reaches `deadline` (0 when it already has). */
export function insnsUntil(deadline: u64): u64 {
  const now = mtime();
  if (now >= deadline) return 0;
  const ticks = deadline - now;
  // The tick boundary is crossed when icount reaches the next multiple of instructions per
  // tick (constant divisors in both branches: this runs before every block).
  if (realtimeTicks) {
    if (ticks > <u64>-1 >> (REALTIME_TICK_SHIFT + 1)) return <u64>-1 >> 1;
    return (ticks << REALTIME_TICK_SHIFT) - (icount & ((<u64>1 << REALTIME_TICK_SHIFT) - 1));
  }
  if (ticks > (<u64>-1) / (INSNS_PER_TICK * 2)) return <u64>-1 >> 1;
  return ticks * INSNS_PER_TICK - icount % INSNS_PER_TICK;
}

/** Instructions to execute before mtime reaches the live hart's next timer deadline. */
export function insnsUntilTimer(): u64 {
  return insnsUntil(timerDeadline());
}

export function clintRead(offset: u32, size: u32): u64 {
  if (offset < MSIP + hartCount * CLINT_MSIP_STRIDE) {
    if ((offset & (CLINT_MSIP_STRIDE - 1)) != 0) return 0;
    return hartMsip((offset - MSIP) / CLINT_MSIP_STRIDE) ? 1 : 0;
  }
  if (offset >= MTIMECMP && offset < MTIMECMP + hartCount * CLINT_MTIMECMP_STRIDE) {
    const h = (offset - MTIMECMP) / CLINT_MTIMECMP_STRIDE;
    const cmp = hartMtimecmp(h);
    const byte = (offset - MTIMECMP) % CLINT_MTIMECMP_STRIDE;
    return size == 8 ? cmp : (cmp >> (<u64>byte * 8)) & 0xffffffff;
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
  if (offset < MSIP + hartCount * CLINT_MSIP_STRIDE) {
    // An IPI: another hart sees it when it next runs (cpu/harts.ts), or wakes for it.
    if ((offset & (CLINT_MSIP_STRIDE - 1)) == 0) setHartMsip((offset - MSIP) / CLINT_MSIP_STRIDE, (value & 1) != 0);
  } else if (offset >= MTIMECMP && offset < MTIMECMP + hartCount * CLINT_MTIMECMP_STRIDE) {
    const h = (offset - MTIMECMP) / CLINT_MTIMECMP_STRIDE;
    const byte = (offset - MTIMECMP) % CLINT_MTIMECMP_STRIDE;
    setHartMtimecmp(h, size == 8 ? value : merge32(hartMtimecmp(h), byte, value));
  } else if (offset >= MTIME && offset < MTIME + 8) {
    setMtime(size == 8 ? value : merge32(mtime(), offset - MTIME, value));
  }
}
