// The core's side of the JIT tier (the translator is TypeScript: src/jit/). Compiled code
// is found by PHYSICAL page, through the fetch TLB, so a satp write or an sfence.vma never
// runs code for the wrong mapping and a TLB flush discards nothing: one record per 4 KiB
// page of RAM, after RAM and its guard page in linear memory, { u32 table slot (0 = no
// code), u32 heat }. A page's code is one wasm function in the shared function table:
//
//   run(vbase: i64, off: i32, limit: i64) -> i64 executed
//
// vbase is the virtual page the hart runs it at (code is position-independent: auipc, jal
// and branch targets add to vbase), off the entry's offset, limit how many instructions it
// may run. It sets the hart's pc and jitExit before it returns. It runs a block only if
// the block fits in the limit, so run(budget) stays exact; it never takes a trap itself
// (JIT_TRAP: pendingCause/Tval are set, pc is the faulting instruction's, not counted),
// and it returns JIT_ENDED after a store that set blockEnd, as the interpreter ends its
// block there. Pages with code never enter the store TLB (mmu.ts), so every store to them
// comes through storeSlow, which discards the page's code (jitInvalidatePage).
import { RAM_GUARD, RAM_OFFSET, TLB_FETCH, TLB_STORE, TLB_ENTRIES, TLB_ENTRY_SIZE, TLB_SIZE, JIT_PAGE_RECORD } from '../layout';
import { ramSize } from '../bus';
import { blockEnd } from '../stop';
import { pc as hartPc } from './state';
import { armedKinds, pageHasTrigger, TRIG_EXEC } from './triggers';

/** Asks the host to translate physical page `page` (RAM offset / 4096), adding entry
 *  offset `off` to its known entries; returns the table slot of its function, 0 if none. */
@external('env', 'jitCompile')
declare function hostCompile(page: u32, off: u32): u32;

/** Tells the host that execution entered page `page` at offset `off`, so that its next
 *  translation knows the entry (no compile now: entries are learned while a page warms
 *  up, so a page is not translated again each time it is entered somewhere new). */
@external('env', 'jitNote')
declare function hostNote(page: u32, off: u32): void;

export const JIT_CONTINUE: u32 = 0;
export const JIT_ENDED: u32 = 1;
export const JIT_TRAP: u32 = 2;
/** The entry (or an in-page indirect jump's target) is not one the function knows. */
export const JIT_UNKNOWN: u32 = 3;

/** Set by the host: compiled code may run (off: the interpreter alone, as before). */
export let jitOn: bool = false;
/** Heat (arrivals into a page and taken jumps inside it) before the page is translated. */
export let jitThreshold: u32 = 1000;
/** Unknown entries into a translated page before it is translated again with them. */
let recompileAt: u32 = 8;
/** Heat from which a warming page's arrivals teach the host their entries. */
let noteFrom: u32 = 0;
/** The arrivals of at most this much heat before a page turns hot teach the host an entry
 *  (a quarter of the threshold when that is less): each is a call out to JavaScript, and
 *  over a quarter of the 1,000,000 threshold the stock kernel's boot made ~97,000 of them
 *  for 3 pages (~4,500 now, the same entries learned). An entry this window misses is
 *  learned later, as a missed entry. */
const NOTE_WINDOW_MAX: u32 = 16384;
/** Written by compiled code before it returns (JIT_*). */
export let jitExit: u32 = JIT_CONTINUE;
/** Set by the interpreter when it stopped to let compiled code run (not a block end). */
export let jitYielded: bool = false;

// Counters for the host (bench JSON, inspector).
export let jitEntries: u64 = 0;
export let jitInsns: u64 = 0;
export let jitInvalidations: u64 = 0;
/** Instructions compiled code handed to the interpreter (jitStep). */
export let jitSteps: u64 = 0;
/** Entries into compiled code at an offset it did not know (the interpreter ran on). */
export let jitMisses: u64 = 0;

/** At least this many unknown entries before a page is translated again (even eager:
 *  code that traps a lot enters its pages at many places once). */
const RECOMPILE_MIN: u32 = 8;
const RECOMPILE_MAX: u32 = 4096;

let records: usize = 0;
let pageCount: u32 = 0;

/** Where the page records go for `ramBytes` of RAM, and how many bytes they take (the host
 *  sizes the memory to RAM_OFFSET + ramBytes + RAM_GUARD + jitRecordBytes(ramBytes)). */
export function jitRecordBytes(ramBytes: u64): u32 {
  return <u32>(ramBytes >> 12) * JIT_PAGE_RECORD;
}

export function jitReset(): void {
  records = <usize>(RAM_OFFSET + <u32>ramSize + RAM_GUARD);
  pageCount = <u32>(ramSize >> 12);
  memory.fill(records, 0, pageCount * JIT_PAGE_RECORD);
  jitExit = JIT_CONTINUE;
  jitYielded = false;
}

export function jitConfigure(on: bool, threshold: u32): void {
  jitOn = on;
  jitThreshold = threshold == 0 ? 1 : threshold;
  // An entry that misses costs a failed dispatch and leaves the page to the interpreter
  // up to its next taken jump; a translation costs millions of interpreted instructions.
  // A page learned its entries while it warmed up, so misses are rare: it is translated
  // again (with the entries it learned since) after a quarter of the threshold, at most
  // 4,096 of them.
  let window = jitThreshold >> 2;
  if (window > NOTE_WINDOW_MAX) window = NOTE_WINDOW_MAX;
  noteFrom = jitThreshold - window;
  recompileAt = jitThreshold >> 2;
  if (recompileAt > RECOMPILE_MAX) recompileAt = RECOMPILE_MAX;
  if (recompileAt < RECOMPILE_MIN) recompileAt = RECOMPILE_MIN;
}

/** The record of the page the interpreter fetches from (fetch page `fva` at host `fhost`)
 *  if pc lies in it, the JIT is on and it is RAM, else 0. fetchSlow never caches the
 *  breakpoint's page or one with an execute trigger, so those get 0: they never run
 *  compiled code. */
@inline export function jitRecordAt(pc: u64, fva: u64, fhost: usize): usize {
  if (!jitOn || (pc & ~<u64>0xfff) != fva) return 0;
  const off = <u32>fhost - RAM_OFFSET;
  if (off >= <u32>ramSize) return 0;
  return records + <usize>(off >> 12) * JIT_PAGE_RECORD;
}

/** A taken jump inside the page of record `rec`: should compiled code run from here on?
 *  (The page has code, or has just become hot.) */
@inline export function jitHotJump(rec: usize): bool {
  if (load<u32>(rec) != 0) return true;
  const heat = load<u32>(rec, 4) + 1;
  store<u32>(rec, heat, 4);
  return heat >= jitThreshold;
}

/** Execution arrived at `pc` in the page of record `rec` from elsewhere (a jump, a trap, a
 *  return): should compiled code run from here? In the last stretch before the page turns
 *  hot (noteFrom), the host learns the entry (the page is translated with all it learned). */
export function jitArrive(rec: usize, pc: u64): bool {
  if (load<u32>(rec) != 0) return true;
  const heat = load<u32>(rec, 4) + 1;
  store<u32>(rec, heat, 4);
  if (heat >= jitThreshold) return true;
  if (heat >= noteFrom) hostNote(<u32>((rec - records) / JIT_PAGE_RECORD), <u32>pc & 0xfff);
  return false;
}

/** The RAM page that the fetch TLB maps pc to, or -1 (not cached, not RAM, or a page with
 *  an execute trigger, whose fetches must all reach fetchSlow as the breakpoint's do). */
@inline function fetchPage(pc: u64): i32 {
  const e = TLB_FETCH + ((<u32>(pc >> 12) & (TLB_ENTRIES - 1)) << 4);
  if (load<u64>(e) != (pc & ~<u64>0xfff)) return -1;
  if ((armedKinds & TRIG_EXEC) != 0 && pageHasTrigger(pc, TRIG_EXEC)) return -1;
  const off = <u32>(pc + load<u64>(e, 8)) - RAM_OFFSET;
  if (off >= <u32>ramSize) return -1;
  return <i32>(off >> 12);
}

/** Whether a store to RAM offset `ramOff` must go slow (its page holds code). */
@inline export function isCodePage(ramOff: u64): bool {
  return load<u32>(records + (<usize>(ramOff >> 12) * JIT_PAGE_RECORD)) != 0;
}

function compile(p: u32, off: u32): u32 {
  const rec = records + <usize>p * JIT_PAGE_RECORD;
  store<u32>(rec, 0, 4);
  const slot = hostCompile(p, off);
  store<u32>(rec, slot);
  if (slot != 0) {
    // Stores to the page must take the slow path from now on: drop its store-TLB entries.
    for (let e: u32 = TLB_STORE; e < TLB_STORE + TLB_SIZE; e += TLB_ENTRY_SIZE) {
      const tag = load<u64>(e);
      if (tag == <u64>-1) continue;
      if (((<u32>(tag + load<u64>(e, 8)) - RAM_OFFSET) >> 12) == p) store<u64>(e, <u64>-1);
    }
  }
  return slot;
}

/**
 * Runs compiled code from the hart's pc, at most `limit` instructions; returns how many
 * ran (0 when pc's page has none: the interpreter goes on). jitExit says how it ended.
 * `resume`: pc is where the last block stopped (its budget, a timer deadline: anywhere in
 * a page), not where execution arrived, so it neither heats the page nor teaches it an
 * entry (entries learned there split blocks at random places and got pages translated
 * again and again).
 */
export function jitEnter(limit: u64, breakpointPage: u64, resume: bool): u64 {
  jitExit = JIT_CONTINUE;
  const pc = hartPc;
  if ((pc >> 12) == breakpointPage) return 0;
  const p = fetchPage(pc);
  if (p < 0) return 0;
  const rec = records + <usize>p * JIT_PAGE_RECORD;
  let slot = load<u32>(rec);
  if (slot == 0) {
    if (resume || !jitArrive(rec, pc)) return 0;
    slot = compile(<u32>p, <u32>pc & 0xfff);
    if (slot == 0) return 0;
  }
  jitEntries++;
  let n = call_indirect<u64>(slot, pc & ~<u64>0xfff, <u32>pc & 0xfff, limit);
  if (jitExit == JIT_UNKNOWN) {
    jitMisses++;
    // An entry the translation did not know: the interpreter runs it. The host learns it
    // (in the last quarter before the page is translated again with what it learned).
    jitExit = JIT_CONTINUE;
    const at = hartPc;
    if (!resume && fetchPage(at) == p) {
      const heat = load<u32>(rec, 4) + 1;
      store<u32>(rec, heat, 4);
      if (heat >= recompileAt && n < limit) {
        slot = compile(<u32>p, <u32>at & 0xfff);
        if (slot != 0) {
          n += call_indirect<u64>(slot, at & ~<u64>0xfff, <u32>at & 0xfff, limit - n);
          if (jitExit == JIT_UNKNOWN) jitExit = JIT_CONTINUE;
        }
      } else if (heat >= recompileAt - (recompileAt >> 2)) {
        hostNote(<u32>p, <u32>at & 0xfff);
      }
    }
  }
  jitInsns += n;
  return n;
}

/** A store (or a DMA write) touched RAM offset `ramOff`: forget its page's code. */
export function jitInvalidatePage(ramOff: u64): void {
  const rec = records + <usize>(ramOff >> 12) * JIT_PAGE_RECORD;
  if (load<u32>(rec) == 0) return;
  store<u32>(rec, 0);
  store<u32>(rec, 0, 4);
  jitInvalidations++;
  // The running block ends after this store (as after a device write), so code compiled
  // from the old bytes never runs past it.
  blockEnd = true;
}

/** The host wrote RAM [ramOff, ramOff + length) (DMA, loaders): forget the code there. */
export function jitInvalidateRange(ramOff: u64, length: u64): void {
  if (length == 0 || ramOff >= ramSize) return;
  let end = ramOff + length;
  if (end > ramSize) end = ramSize;
  for (let p = ramOff >> 12; p <= (end - 1) >> 12; p++) {
    const rec = records + <usize>p * JIT_PAGE_RECORD;
    if (load<u32>(rec) == 0) continue;
    store<u32>(rec, 0);
    store<u32>(rec, 0, 4);
    jitInvalidations++;
  }
}

/** The host dropped every compiled function (its code cache was full): forget all slots. */
export function jitForgetAll(): void {
  for (let p: u32 = 0; p < pageCount; p++) store<u32>(records + <usize>p * JIT_PAGE_RECORD, 0);
}

/** The table slot of RAM page `page`'s code (0 = none), for the inspector. */
export function jitPageSlot(page: u32): u32 {
  return page < pageCount ? load<u32>(records + <usize>page * JIT_PAGE_RECORD) : 0;
}
