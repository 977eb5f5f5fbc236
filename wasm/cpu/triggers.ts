// The trigger module (RISC-V debug spec 1.0, ch. 5 "Sdtrig"): address-match triggers of
// type 2 (mcontrol) that the guest programs through tselect/tdata1/tdata2/tinfo, and host
// triggers (a debugger's hardware breakpoints and watchpoints) that stop run() instead.
//
// Zero cost while none is armed, and little while some are: the slow paths of fetch, load
// and store test one global (armedKinds) first. A page that an armed trigger covers is
// never cached for fetch (execute triggers) nor entered into the load or store TLB (load and
// store triggers), so every access to it takes the slow path, where the match is checked;
// every other page keeps its fast path. Any change to a trigger flushes the TLBs.
//
// A guest trigger's action is 0 (a breakpoint exception, cause 3, tval = the address); it
// fires before the instruction or access (timing 0), so a store that matches does not write.
//
// Native triggers (Sdtrig 1.0, "Native Triggers"): a trigger that raises a breakpoint
// exception in its own trap handler would re-enter it for ever, so the spec asks for a guard.
// In M-mode romvisor has tcontrol (CSR 0x7a5), as Spike does and as the official riscv-tests
// (rv64mi-p-breakpoint) expect: guest triggers match in M-mode only while tcontrol.mte is
// set; a trap into M-mode saves mte in mpte and clears it, mret restores it. mte is 0 at
// reset, so M-mode code turns its triggers on. In S-mode, where breakpoints may be delegated
// (OpenSBI delegates them to Linux), a guest trigger does not match while sstatus.SIE is 0
// with medeleg bit 3 set. A debugger's host triggers are not guarded.
import { TRIGGER_DECODED_OFFSET, TRIGGER_CSR_OFFSET, TRIGGER_CSR_SIZE } from '../layout';
import { CAUSE_BREAKPOINT, icount, medeleg, MSTATUS_SIE, mstatus, priv, PRV_M, PRV_S } from './state';
import { requestStop, STOP_WATCHPOINT } from '../stop';

import { GUEST_TRIGGERS, HOST_TRIGGERS, TriggerKind } from '../machineMap';

/** Guest triggers (tselect 0..GUEST_TRIGGERS-1) and host trigger slots after them. */
const ALL_TRIGGERS: u32 = GUEST_TRIGGERS + HOST_TRIGGERS;

/** What a trigger matches: the low three bits of mcontrol (load, store, execute). */
export const TRIG_LOAD: u32 = TriggerKind.Load;
export const TRIG_STORE: u32 = TriggerKind.Store;
export const TRIG_EXEC: u32 = TriggerKind.Execute;

/** A match: none, a host trigger (stop run()), a guest trigger (breakpoint exception). */
export const TRIGGER_NONE: u32 = 0;
export const TRIGGER_HOST: u32 = 1;
export const TRIGGER_GUEST: u32 = 2;

// mcontrol (tdata1 with type 2), XLEN 64.
const TDATA1_TYPE_SHIFT: u64 = 60;
const TYPE_MCONTROL: u64 = 2;
const MC_LOAD: u64 = 1 << 0;
const MC_STORE: u64 = 1 << 1;
const MC_EXECUTE: u64 = 1 << 2;
const MC_U: u64 = 1 << 3;
const MC_S: u64 = 1 << 4;
const MC_M: u64 = 1 << 6;
const MC_MATCH_SHIFT: u64 = 7;
const MC_MATCH: u64 = 0xf << 7;
const MC_SIZELO: u64 = 3 << 16;
const MC_SIZEHI: u64 = 3 << 21;
/**
 * The fields kept as written: the access kinds, the modes, match and size. dmode, hit,
 * select, timing, action and chain hold 0, the one value each supports here (no debug
 * mode, address matching only, before the access, breakpoint exception, no chains).
 */
const MC_WRITABLE: u64 = MC_LOAD | MC_STORE | MC_EXECUTE | MC_U | MC_S | MC_M | MC_MATCH | MC_SIZELO | MC_SIZEHI;
/** A disabled trigger reads as an mcontrol that matches nothing. */
const MC_DISABLED: u64 = TYPE_MCONTROL << TDATA1_TYPE_SHIFT;

const MATCH_EQUAL: u64 = 0;
const MATCH_NAPOT: u64 = 1;
const MATCH_GE: u64 = 2;
const MATCH_LT: u64 = 3;

/** tinfo: type 2 is the one supported; version 1 = the ratified debug spec 1.0. */
export const TINFO_VALUE: u64 = (<u64>1 << 24) | (<u64>1 << TYPE_MCONTROL);

// Decoded triggers, one record each (TRIGGER_RECORD bytes): kinds u32, modes u32 (bit n =
// privilege n), lo u64, hi u64 (the matched byte range, inclusive).
const TRIGGER_RECORD: u32 = 24;

/** The union of the kinds of every armed trigger, guest or host. */
export let armedKinds: u32 = 0;
/** tselect. */
export let tselect: u32 = 0;
/** Host data triggers stay quiet for the instruction at this count: the one a debugger
 *  resumes after a watchpoint stop, so that its access completes. */
let hostQuietAt: u64 = <u64>-1;

@inline function rec(i: u32): u32 {
  return TRIGGER_DECODED_OFFSET + i * TRIGGER_RECORD;
}

export function tdata1Of(i: u32): u64 {
  return load<u64>(TRIGGER_CSR_OFFSET + (i << 3));
}

export function tdata2Of(i: u32): u64 {
  return load<u64>(TRIGGER_CSR_OFFSET + (GUEST_TRIGGERS << 3) + (i << 3));
}

// tcontrol: the last u64 of the per-hart trigger CSR block (after the tdata1s and tdata2s),
// so a hart switch and a machine state carry it with them.
const TCONTROL_ADDR: u32 = TRIGGER_CSR_OFFSET + TRIGGER_CSR_SIZE - 8;
const TCONTROL_MTE: u64 = 1 << 3;
const TCONTROL_MPTE: u64 = 1 << 7;

export function tcontrolRead(): u64 {
  return load<u64>(TCONTROL_ADDR);
}

/** tcontrol is WARL: mte and mpte are kept, every other bit reads 0. */
export function tcontrolWrite(v: u64): void {
  store<u64>(TCONTROL_ADDR, v & (TCONTROL_MTE | TCONTROL_MPTE));
}

/** A trap into M-mode: mpte = mte, mte = 0. */
@inline export function tcontrolTrapToM(): void {
  const t = load<u64>(TCONTROL_ADDR);
  store<u64>(TCONTROL_ADDR, (t & TCONTROL_MTE) << 4);
}

/** mret: mte = mpte. */
@inline export function tcontrolMret(): void {
  const t = load<u64>(TCONTROL_ADDR);
  store<u64>(TCONTROL_ADDR, (t & TCONTROL_MPTE) | ((t & TCONTROL_MPTE) >> 4));
}

/** Power-on: every guest trigger disabled, no host trigger. */
export function triggersReset(): void {
  for (let i: u32 = 0; i < GUEST_TRIGGERS; i++) {
    store<u64>(TRIGGER_CSR_OFFSET + (i << 3), MC_DISABLED);
    store<u64>(TRIGGER_CSR_OFFSET + (GUEST_TRIGGERS << 3) + (i << 3), 0);
  }
  memory.fill(TRIGGER_DECODED_OFFSET, 0, ALL_TRIGGERS * TRIGGER_RECORD);
  store<u64>(TCONTROL_ADDR, 0);
  tselect = 0;
  hostQuietAt = <u64>-1;
  armedKinds = 0;
}

function setRecord(i: u32, kinds: u32, modes: u32, lo: u64, hi: u64): void {
  const r = rec(i);
  store<u32>(r, kinds);
  store<u32>(r, modes, 4);
  store<u64>(r, lo, 8);
  store<u64>(r, hi, 16);
}

function recomputeArmed(): void {
  let k: u32 = 0;
  for (let i: u32 = 0; i < ALL_TRIGGERS; i++) k |= load<u32>(rec(i));
  armedKinds = k;
}

/** Bytes an mcontrol's size field names (0 = any size: the one byte at tdata2). */
function sizeBytes(t1: u64): u64 {
  const size = ((t1 >> 16) & 3) | (((t1 >> 21) & 3) << 2);
  switch (<u32>size) {
    case 1: return 1;
    case 2: return 2;
    case 3: return 4;
    case 4: return 6;
    case 5: return 8;
  }
  return 1;
}

/** Decodes guest trigger i from its tdata1/tdata2 into the match table. */
function decodeGuest(i: u32): void {
  const t1 = tdata1Of(i);
  const t2 = tdata2Of(i);
  let modes: u32 = 0;
  if (t1 & MC_U) modes |= 1 << 0;
  if (t1 & MC_S) modes |= 1 << 1;
  if (t1 & MC_M) modes |= 1 << 3;
  const kinds = modes == 0 ? 0 : <u32>(t1 & (MC_LOAD | MC_STORE | MC_EXECUTE));
  let lo: u64 = t2;
  let hi: u64 = t2;
  const m = (t1 & MC_MATCH) >> MC_MATCH_SHIFT;
  if (m == MATCH_EQUAL) {
    hi = t2 + sizeBytes(t1) - 1;
  } else if (m == MATCH_NAPOT) {
    // The low bits up to and including the lowest 0 of tdata2 are not compared.
    const ignored = t2 ^ (t2 + 1);
    lo = t2 & ~ignored;
    hi = t2 | ignored;
  } else if (m == MATCH_GE) {
    hi = <u64>-1;
  } else if (m == MATCH_LT) {
    lo = 0;
    hi = t2 - 1;
    if (t2 == 0) { lo = 1; hi = 0; } // matches nothing
  }
  if (lo > hi) setRecord(i, 0, 0, 0, 0);
  else setRecord(i, kinds, modes, lo, hi);
}

/** tdata1 as written by the guest (WARL): anything but an mcontrol disables the trigger. */
export function writeTdata1(v: u64): void {
  let t1 = MC_DISABLED;
  if ((v >> TDATA1_TYPE_SHIFT) == TYPE_MCONTROL) {
    t1 |= v & MC_WRITABLE;
    // Matches 4 and up (masked, negated) are not implemented: read back as "equal".
    if (((t1 & MC_MATCH) >> MC_MATCH_SHIFT) > MATCH_LT) t1 &= ~MC_MATCH;
  }
  store<u64>(TRIGGER_CSR_OFFSET + (tselect << 3), t1);
  decodeGuest(tselect);
  recomputeArmed();
}

export function writeTdata2(v: u64): void {
  store<u64>(TRIGGER_CSR_OFFSET + (GUEST_TRIGGERS << 3) + (tselect << 3), v);
  decodeGuest(tselect);
  recomputeArmed();
}

/** tselect is WARL: an index past the last trigger leaves it unchanged. */
export function writeTselect(v: u64): void {
  if (v < <u64>GUEST_TRIGGERS) tselect = <u32>v;
}

/** After the hart's trigger CSRs were swapped in (another hart): rebuild its guest records. */
export function triggersReload(): void {
  for (let i: u32 = 0; i < GUEST_TRIGGERS; i++) decodeGuest(i);
  recomputeArmed();
}

/**
 * Host trigger `slot` (0..HOST_TRIGGERS-1): kinds (TRIG_*; 0 clears it) over the bytes
 * lo..hi, in every privilege mode. Returns false for a slot that does not exist.
 */
export function setHostTrigger(slot: u32, kinds: u32, lo: u64, hi: u64): bool {
  if (slot >= HOST_TRIGGERS) return false;
  if (lo > hi) kinds = 0;
  setRecord(GUEST_TRIGGERS + slot, kinds & (TRIG_LOAD | TRIG_STORE | TRIG_EXEC), 0xf, lo, hi);
  recomputeArmed();
  return true;
}

/** A debugger resumes from a watchpoint stop: the instruction it stopped before runs once. */
export function quietHostTriggersOnce(): void {
  hostQuietAt = icount;
}

/**
 * Guest triggers (action 0) cannot match now: in M-mode with tcontrol.mte clear, or in S-mode
 * with SIE clear while breakpoint exceptions are delegated to S.
 */
@inline function guestTriggersHeld(): bool {
  if (priv == PRV_M) return (load<u64>(TCONTROL_ADDR) & TCONTROL_MTE) == 0;
  if (priv == PRV_S) return (medeleg & (<u64>1 << CAUSE_BREAKPOINT)) != 0 && (mstatus & MSTATUS_SIE) == 0;
  return false;
}

/** Which of the first `count` triggers (TRIGGER_*) matches an access of kind over the bytes lo..hi, now. */
function match(kind: u32, lo: u64, hi: u64, count: u32): u32 {
  const mode: u32 = 1 << priv;
  let found = TRIGGER_NONE;
  // The native-trigger guard (see the top): guest triggers are held off in a trap handler's mode.
  const first: u32 = guestTriggersHeld() ? GUEST_TRIGGERS : 0;
  for (let i: u32 = first; i < count; i++) {
    const r = rec(i);
    if ((load<u32>(r) & kind) == 0 || (load<u32>(r, 4) & mode) == 0) continue;
    if (hi < load<u64>(r, 8) || lo > load<u64>(r, 16)) continue;
    if (i >= GUEST_TRIGGERS) return TRIGGER_HOST; // a debugger's stop wins
    found = TRIGGER_GUEST;
  }
  return found;
}

/** The fetch at pc: which trigger fires (host execute triggers are filtered by the caller's skip). */
export function fetchTrigger(pc: u64): u32 {
  return match(TRIG_EXEC, pc, pc, ALL_TRIGGERS);
}

/**
 * A load or store of size bytes at va: TRIGGER_GUEST (raise a breakpoint exception),
 * TRIGGER_HOST (run() stops with STOP_WATCHPOINT before the access), or TRIGGER_NONE.
 */
export function dataTrigger(va: u64, size: u32, kind: u32): u32 {
  const hi = va + <u64>size - 1;
  // The access a debugger resumes over: only the guest's own triggers count.
  const t = match(kind, va, hi, icount == hostQuietAt ? GUEST_TRIGGERS : ALL_TRIGGERS);
  if (t == TRIGGER_HOST) requestStop(STOP_WATCHPOINT, va);
  return t;
}

/** True when an armed trigger of `kind` covers any byte of va's page: keep it out of the TLB. */
export function pageHasTrigger(va: u64, kind: u32): bool {
  const lo = va & ~<u64>0xfff;
  const hi = lo | 0xfff;
  for (let i: u32 = 0; i < ALL_TRIGGERS; i++) {
    const r = rec(i);
    if ((load<u32>(r) & kind) == 0) continue;
    if (hi < load<u64>(r, 8) || lo > load<u64>(r, 16)) continue;
    return true;
  }
  return false;
}
