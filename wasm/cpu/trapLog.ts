// What the teaching views show of traps: a counter per cause and a ring of the last
// TRAP_LOG_ENTRIES events. Written from takeTrap and the xRET instructions, which are
// already off the hot path.
//
// An event is a trap, or the return of a trap the host asked to follow (setTrapReturnMask):
// the first xRET back to the privilege that trap came from (a system call's sret to U-mode).
// A page fault's record, and its return's, carry a snapshot of the Sv39 walk of the faulting
// address at that moment (satp and the PTEs read), so the host can replay the walk as it
// was before and after the kernel handled the fault. Record layout: wasm/machineMap.ts.
import { TRAP_COUNT_OFFSET, TRAP_LOG_ENTRIES, TRAP_LOG_OFFSET } from '../layout';
import {
  TRAP_INFO_FROM_SHIFT, TRAP_INFO_HART_SHIFT, TRAP_INFO_RETURN, TRAP_INFO_TO_SHIFT, TRAP_INFO_WALK_SHIFT, TRAP_RECORD_SIZE,
  TrapRecordWord,
} from '../machineMap';
import { currentHart, satp, trapCount } from './state';
import { getX } from './regs';
import { ramHost } from '../bus';

/** Index of the next ring slot to write (free-running). */
export let trapLogHead: u32 = 0;

/** Exception codes (bit n = code n) whose return the ring records. */
let returnMask: u32 = 0;
/** A followed trap of hart `returnHart` waits for its return: to privilege `returnPriv`; its
 *  walk is of `returnVa`. Another hart's xRET is not its return. */
let returnPending: bool = false;
let returnHart: u32 = 0;
let returnPriv: u32 = 0;
let returnWalk: bool = false;
let returnVa: u64 = 0;

const PAGE_FAULTS: u32 = (1 << 12) | (1 << 13) | (1 << 15);

/**
 * Interrupts and ecalls the ring records, by the privilege they are taken from (U, S, M):
 * bit n for exception code n, bit 16 + n for interrupt n. They are the floods (timer ticks,
 * SBI calls); every other exception is always recorded, so the host still sees a hart
 * repeating one fault. All ones by default.
 */
let ringMaskU: u32 = 0xffffffff;
let ringMaskS: u32 = 0xffffffff;
let ringMaskM: u32 = 0xffffffff;
const ECALLS: u32 = (1 << 8) | (1 << 9) | (1 << 11);

export function resetTrapLog(): void {
  memory.fill(TRAP_COUNT_OFFSET, 0, 32 * 8);
  memory.fill(TRAP_LOG_OFFSET, 0, TRAP_LOG_ENTRIES * TRAP_RECORD_SIZE);
  trapLogHead = 0;
  returnMask = 0;
  returnPending = false;
  ringMaskU = ringMaskS = ringMaskM = 0xffffffff;
}

export function setTrapRingMask(u: u32, s: u32, m: u32): void {
  ringMaskU = u;
  ringMaskS = s;
  ringMaskM = m;
}

export function setTrapReturnMask(mask: u32): void {
  returnMask = mask;
  if (mask == 0) returnPending = false;
}

/** A trap taken from privilege `from` to `to`. */
export function logTrap(pc: u64, cause: u64, tval: u64, handler: u64, from: u32, to: u32): void {
  const counter = TRAP_COUNT_OFFSET + ((<u32>(cause >> 63) << 4) + (<u32>cause & 15)) * 8;
  store<u64>(counter, load<u64>(counter) + 1);
  const exception = (cause >> 63) == 0 && cause < 32;
  const bit: u32 = exception ? <u32>1 << <u32>cause : 0;
  if (!exception || (bit & ECALLS) != 0) {
    const mask = from == 0 ? ringMaskU : from == 1 ? ringMaskS : ringMaskM;
    const index: u32 = exception ? <u32>cause : 16 + (<u32>cause & 15);
    if (((mask >> index) & 1) == 0) {
      if ((bit & returnMask) != 0) returnPending = false; // a dropped ecall's return is not followed
      return;
    }
  }
  const e = nextRecord(pc, cause, tval, handler, from, to, 0);
  if ((bit & PAGE_FAULTS) != 0) snapshotWalk(e, tval);
  if ((bit & returnMask) != 0 && to > from) {
    returnPending = true;
    returnHart = currentHart;
    returnPriv = from;
    returnWalk = (bit & PAGE_FAULTS) != 0;
    returnVa = tval;
  }
}

/** An xRET at `pc` from privilege `from` to `to`, resuming at `target`. */
export function noteReturn(pc: u64, from: u32, to: u32, target: u64): void {
  if (!returnPending || currentHart != returnHart || to != returnPriv || to >= from) return;
  returnPending = false;
  // tval holds a0 as the return leaves it: a system call's result.
  const e = nextRecord(pc, 0, getX(10), target, from, to, TRAP_INFO_RETURN);
  if (returnWalk) snapshotWalk(e, returnVa);
}

function nextRecord(pc: u64, cause: u64, tval: u64, handler: u64, from: u32, to: u32, flags: u64): usize {
  const e = <usize>(TRAP_LOG_OFFSET + (trapLogHead & (TRAP_LOG_ENTRIES - 1)) * TRAP_RECORD_SIZE);
  memory.fill(e, 0, TRAP_RECORD_SIZE);
  store<u64>(e + TrapRecordWord.Pc * 8, pc);
  store<u64>(e + TrapRecordWord.Cause * 8, cause);
  store<u64>(e + TrapRecordWord.Tval * 8, tval);
  store<u64>(e + TrapRecordWord.Handler * 8, handler);
  // A trap's number since reset; a return shares its number with the latest trap.
  store<u64>(e + TrapRecordWord.Seq * 8, trapCount - 1);
  store<u64>(e + TrapRecordWord.Info * 8, flags | (<u64>from << TRAP_INFO_FROM_SHIFT) | (<u64>to << TRAP_INFO_TO_SHIFT) | (<u64>currentHart << TRAP_INFO_HART_SHIFT));
  store<u64>(e + TrapRecordWord.A7 * 8, getX(17));
  trapLogHead++;
  return e;
}

/** Records the Sv39 walk of `va` under the current satp: the PTEs it reads, until a leaf or an invalid one. */
function snapshotWalk(e: usize, va: u64): void {
  const s = satp;
  if ((s >> 60) != 8) return;
  store<u64>(e + TrapRecordWord.Satp * 8, s);
  let table = (s & ((<u64>1 << 44) - 1)) << 12;
  let n: u64 = 0;
  for (let level = 2; level >= 0; level--) {
    const addr = table + (((va >> (12 + 9 * <u64>level)) & 0x1ff) << 3);
    const host = ramHost(addr);
    if (host == 0) break;
    const pte = load<u64>(host);
    store<u64>(e + (TrapRecordWord.PteAddr0 + <usize>n) * 8, addr);
    store<u64>(e + (TrapRecordWord.Pte0 + <usize>n) * 8, pte);
    n++;
    // Invalid, or a leaf (R or X): the walk ends here.
    if ((pte & 1) == 0 || (pte & 0xa) != 0) break;
    table = ((pte >> 10) & ((<u64>1 << 44) - 1)) << 12;
  }
  store<u64>(e + TrapRecordWord.Info * 8, load<u64>(e + TrapRecordWord.Info * 8) | (n << TRAP_INFO_WALK_SHIFT));
}
