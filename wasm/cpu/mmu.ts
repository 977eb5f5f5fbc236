// Address translation (Sv39, privileged spec 10.3-10.4), the three TLBs, and the slow
// paths of fetch, load and store. The fast paths are inlined in run.ts: a TLB entry is
// { tag = virtual page, addend = host address - virtual address }, and a lookup compares
// the tag with the address with its in-page bits cleared except those below the access
// size, so a misaligned access never hits and always comes here.
import {
  MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM,
  CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE,
  CAUSE_BREAKPOINT, CAUSE_HOST_STOP, PRV_M, PRV_S, PRV_U, mstatus, pendingCause, pendingTval, priv, satp,
} from './state';
import {
  TLB_ENTRIES, TLB_FETCH, TLB_FILL_LOG_ENTRIES, TLB_FILL_LOG_OFFSET, TLB_LOAD, TLB_STORE, TLB_SIZE,
} from '../layout';
import {
  busFault, loadHost, physRead, physWrite, ramHost, readableHost, storeHost, tohostAddr,
} from '../bus';
import { requestStop, STOP_BREAKPOINT, STOP_HTIF } from '../stop';
import { ILLEGAL } from './fields';
import { markStage, STAGE_FIRMWARE } from './bootStages';
import {
  armedKinds, dataTrigger, fetchTrigger, pageHasTrigger, TRIG_EXEC, TRIG_LOAD, TRIG_STORE, TRIGGER_GUEST,
  TRIGGER_HOST, TRIGGER_NONE,
} from './triggers';
import { isCodePage, jitInvalidatePage, jitOn } from './jit';
import { RAM_OFFSET } from '../layout';

/** Debugger breakpoint (-1 = none). Its page is never cached for fetch, so only fetches
 *  from that one page pay for the check, in this slow path. */
export let breakpointPc: u64 = <u64>-1;
/** Set by the host to resume from the breakpoint it stopped at. */
export let skipBreakpoint: bool = false;
/** Set when a fetch hit the breakpoint: the instruction must not run. */
export let breakHit: bool = false;

export const ACCESS_FETCH: u32 = 0;
export const ACCESS_LOAD: u32 = 1;
export const ACCESS_STORE: u32 = 2;

export const TLB_MASK: u32 = TLB_ENTRIES - 1;
/** A tag no address can produce: the compared value always has bits 11..3 clear. */
const TLB_INVALID: u64 = <u64>-1;

const PTE_V: u64 = 1 << 0;
const PTE_R: u64 = 1 << 1;
const PTE_W: u64 = 1 << 2;
const PTE_X: u64 = 1 << 3;
const PTE_U: u64 = 1 << 4;
const PTE_A: u64 = 1 << 6;
const PTE_D: u64 = 1 << 7;
/** Bits 63..54: reserved, PBMT and N; none are implemented, so any set bit faults. */
const PTE_RESERVED: u64 = <u64>0x3ff << 54;
const PTE_PPN_SHIFT: u64 = 10;

export const SATP_MODE_SHIFT: u64 = 60;
export const SATP_MODE_BARE: u64 = 0;
export const SATP_MODE_SV39: u64 = 8;
export const SATP_PPN_MASK: u64 = (<u64>1 << 44) - 1;

/** Set when a slow path raised a trap (pendingCause / pendingTval say which). */
export let memFault: bool = false;

/** Cached fetch page: virtual page base (1 = none, never page-aligned) and host base. */
export let fetchPageVa: u64 = 1;
export let fetchPageHost: usize = 0;

/** Entries in the fill log; past its capacity a flush clears every entry. It starts past
 *  it: before the first flush the TLB memory holds zeros, and tag 0 is virtual page 0. */
let fillCount: u32 = TLB_FILL_LOG_ENTRIES + 1;

/** Invalidates every entry, whatever the log says (power-on reset). */
export function tlbReset(): void {
  fillCount = TLB_FILL_LOG_ENTRIES + 1;
  tlbFlush();
}

export function tlbFlush(): void {
  if (fillCount <= TLB_FILL_LOG_ENTRIES) {
    for (let i: u32 = 0; i < fillCount; i++) store<u64>(load<u32>(TLB_FILL_LOG_OFFSET + (i << 2)), TLB_INVALID);
  } else {
    for (let e: u32 = 0; e < 3 * TLB_SIZE; e += 16) store<u64>(TLB_FETCH + e, TLB_INVALID);
  }
  fillCount = 0;
  fetchPageVa = 1;
}

@inline function raise(cause: u32, tval: u64): void {
  pendingCause = <u64>cause;
  pendingTval = tval;
  memFault = true;
}

function faultCause(access: u32, pageFault: bool): u32 {
  if (access == ACCESS_FETCH) return pageFault ? CAUSE_FETCH_PAGE_FAULT : CAUSE_FETCH_ACCESS;
  if (access == ACCESS_LOAD) return pageFault ? CAUSE_LOAD_PAGE_FAULT : CAUSE_LOAD_ACCESS;
  return pageFault ? CAUSE_STORE_PAGE_FAULT : CAUSE_STORE_ACCESS;
}

/** The privilege that loads and stores use: MPRV makes M-mode use MPP's. */
@inline function dataPriv(): u32 {
  if ((mstatus & MSTATUS_MPRV) != 0 && priv == PRV_M) {
    return <u32>((mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
  }
  return priv;
}

/**
 * Translates va for one access. Returns the physical address; on a page fault or an
 * access fault of the walk itself, raises it and returns 0 with memFault set.
 */
export function translate(va: u64, access: u32): u64 {
  const p = access == ACCESS_FETCH ? priv : dataPriv();
  if (p == PRV_M || (satp >> SATP_MODE_SHIFT) != SATP_MODE_SV39) return va;

  // Sv39: bits 63..39 must all equal bit 38 (10.3.2).
  if (<u64>((<i64>(va << 25)) >> 25) != va) {
    raise(faultCause(access, true), va);
    return 0;
  }
  let table = (satp & SATP_PPN_MASK) << 12;
  let level: i32 = 2;
  let pte: u64 = 0;
  let pteAddr: u64 = 0;
  while (true) {
    const vpn = (va >> (12 + 9 * <u64>level)) & 0x1ff;
    pteAddr = table + (vpn << 3);
    const host = ramHost(pteAddr);
    if (host == 0) {
      raise(faultCause(access, false), va);
      return 0;
    }
    pte = load<u64>(host);
    if ((pte & PTE_V) == 0 || ((pte & PTE_R) == 0 && (pte & PTE_W) != 0) || (pte & PTE_RESERVED) != 0) {
      raise(faultCause(access, true), va);
      return 0;
    }
    if ((pte & (PTE_R | PTE_X)) != 0) break; // a leaf
    if (--level < 0) {
      raise(faultCause(access, true), va);
      return 0;
    }
    table = (pte >> PTE_PPN_SHIFT) << 12;
  }

  // Permissions (10.3.2 step 5).
  let ok: bool;
  if (access == ACCESS_FETCH) ok = (pte & PTE_X) != 0;
  else if (access == ACCESS_LOAD) ok = (pte & PTE_R) != 0 || ((mstatus & MSTATUS_MXR) != 0 && (pte & PTE_X) != 0);
  else ok = (pte & PTE_W) != 0;
  if (pte & PTE_U) {
    if (p == PRV_S && (access == ACCESS_FETCH || (mstatus & MSTATUS_SUM) == 0)) ok = false;
  } else if (p == PRV_U) {
    ok = false;
  }
  const ppn = pte >> PTE_PPN_SHIFT;
  // A superpage's PPN must be aligned to its size.
  const superMask: u64 = (<u64>1 << (9 * <u64>level)) - 1;
  if (!ok || (ppn & superMask) != 0) {
    raise(faultCause(access, true), va);
    return 0;
  }
  // Hardware A/D update (Svadu behaviour, as QEMU does).
  const want = PTE_A | (access == ACCESS_STORE ? PTE_D : 0);
  if ((pte & want) != want) {
    const h = ramHost(pteAddr);
    store<u64>(h, pte | want);
    if (jitOn) jitInvalidatePage(<u64>(h - RAM_OFFSET));
  }

  return (((ppn & ~superMask) | ((va >> 12) & superMask)) << 12) | (va & 0xfff);
}

@inline function tlbEntry(base: u32, va: u64): u32 {
  return base + ((<u32>(va >> 12) & TLB_MASK) << 4);
}

function tlbFill(base: u32, va: u64, host: usize): void {
  const e = tlbEntry(base, va);
  if (fillCount < TLB_FILL_LOG_ENTRIES) store<u32>(TLB_FILL_LOG_OFFSET + (fillCount << 2), e);
  fillCount++;
  const page = va & ~<u64>0xfff;
  store<u64>(e, page);
  store<u64>(e, <u64>(host & ~<usize>0xfff) - page, 8);
}

/**
 * Fetches the instruction at pc: returns its bits (a compressed instruction in the low
 * 16 bits, with garbage above only if it is the last halfword of a page), and caches
 * pc's page for the hot loop. On a fault, memFault is set and the result is ILLEGAL.
 */
export function fetchSlow(pc: u64): u32 {
  const trig = (armedKinds & TRIG_EXEC) != 0 ? fetchTrigger(pc) : TRIGGER_NONE;
  if (pc == breakpointPc || trig == TRIGGER_HOST) {
    if (!skipBreakpoint) {
      breakHit = true;
      requestStop(STOP_BREAKPOINT, pc);
      return ILLEGAL;
    }
    skipBreakpoint = false;
  }
  if (trig == TRIGGER_GUEST) {
    raise(CAUSE_BREAKPOINT, pc); // an execute trigger: before the instruction (Sdtrig)
    return ILLEGAL;
  }
  let host: usize;
  const e = tlbEntry(TLB_FETCH, pc);
  if (load<u64>(e) == (pc & ~<u64>0xfff)) {
    // A page fetched from before (a call or return across pages): no walk needed.
    host = <usize>(pc + load<u64>(e, 8));
  } else {
    const pa = translate(pc, ACCESS_FETCH);
    if (memFault) return ILLEGAL;
    host = readableHost(pa);
    if (host == 0) {
      raise(CAUSE_FETCH_ACCESS, pc);
      return ILLEGAL;
    }
    if (priv == PRV_M && ramHost(pa) != 0) markStage(STAGE_FIRMWARE);
    tlbFill(TLB_FETCH, pc, host);
  }
  if (((pc ^ breakpointPc) >> 12) != 0 && ((armedKinds & TRIG_EXEC) == 0 || !pageHasTrigger(pc, TRIG_EXEC))) {
    fetchPageVa = pc & ~<u64>0xfff;
    fetchPageHost = host & ~<usize>0xfff;
  } else {
    fetchPageVa = 1;
  }
  const lo = <u32>load<u16>(host);
  if ((lo & 3) != 3 || (pc & 0xfff) != 0xffe) return (<u32>load<u16>(host, 2) << 16) | lo;
  // A 32-bit instruction that straddles two pages: its upper half is fetched on its own.
  const pc2 = pc + 2;
  const pa2 = translate(pc2, ACCESS_FETCH);
  if (memFault) return ILLEGAL;
  const host2 = readableHost(pa2);
  if (host2 == 0) {
    raise(CAUSE_FETCH_ACCESS, pc2);
    return ILLEGAL;
  }
  return (<u32>load<u16>(host2) << 16) | lo;
}

/** A load or store trigger that matches the access raises its exception (or a host stop). */
function dataTriggered(va: u64, size: u32, kind: u32): bool {
  const t = dataTrigger(va, size, kind);
  if (t == TRIGGER_NONE) return false;
  raise(t == TRIGGER_GUEST ? CAUSE_BREAKPOINT : CAUSE_HOST_STOP, va);
  return true;
}

/** Loads size bytes at va, zero-extended. Misaligned accesses are done in "hardware". */
export function loadSlow(va: u64, size: u32): u64 {
  if ((armedKinds & TRIG_LOAD) != 0 && dataTriggered(va, size, TRIG_LOAD)) return 0;
  if ((va & 0xfff) + <u64>size > 0x1000) {
    // Straddles a page: byte by byte, each through its own translation.
    let v: u64 = 0;
    for (let i: u32 = 0; i < size; i++) {
      v |= loadSlow(va + <u64>i, 1) << (<u64>i * 8);
      if (memFault) return 0;
    }
    return v;
  }
  const pa = translate(va, ACCESS_LOAD);
  if (memFault) return 0;
  const host = readableHost(pa);
  if (host != 0) {
    if ((armedKinds & TRIG_LOAD) == 0 || !pageHasTrigger(va, TRIG_LOAD)) tlbFill(TLB_LOAD, va, host);
    return loadHost(host, size);
  }
  if ((va & (<u64>size - 1)) != 0) {
    raise(CAUSE_MISALIGNED_LOAD, va);
    return 0;
  }
  const v = physRead(pa, size);
  if (busFault) {
    busFault = false;
    raise(CAUSE_LOAD_ACCESS, va);
    return 0;
  }
  return v;
}

export function storeSlow(va: u64, size: u32, value: u64): void {
  if ((armedKinds & TRIG_STORE) != 0 && dataTriggered(va, size, TRIG_STORE)) return;
  if ((va & 0xfff) + <u64>size > 0x1000) {
    for (let i: u32 = 0; i < size; i++) {
      storeSlow(va + <u64>i, 1, value >> (<u64>i * 8));
      if (memFault) return;
    }
    return;
  }
  const pa = translate(va, ACCESS_STORE);
  if (memFault) return;
  const host = ramHost(pa);
  if (host != 0) {
    storeHost(host, size, value);
    if (tohostAddr != 0 && (pa ^ tohostAddr) < 0x1000) {
      // The tohost page never enters the store TLB, so every write to it comes here.
      if (pa == tohostAddr && value != 0) requestStop(STOP_HTIF, value);
    } else if (jitOn && isCodePage(<u64>(host - RAM_OFFSET))) {
      // A page with compiled code never enters the store TLB either: this store discards
      // the code (and ends the block, which may be running it).
      jitInvalidatePage(<u64>(host - RAM_OFFSET));
    } else if ((armedKinds & TRIG_STORE) == 0 || !pageHasTrigger(va, TRIG_STORE)) {
      tlbFill(TLB_STORE, va, host);
    }
    return;
  }
  if ((va & (<u64>size - 1)) != 0) {
    raise(CAUSE_MISALIGNED_STORE, va);
    return;
  }
  physWrite(pa, size, value);
  if (busFault) {
    busFault = false;
    raise(CAUSE_STORE_ACCESS, va);
  }
}

/**
 * Host address for an atomic access (LR is a load, SC and AMOs are stores/AMOs). Atomics
 * must be naturally aligned and in RAM; otherwise the fault is raised and 0 returned.
 */
export function atomicHost(va: u64, size: u32, isLoad: bool): usize {
  const kind = isLoad ? TRIG_LOAD : TRIG_STORE;
  if ((armedKinds & kind) != 0 && dataTriggered(va, size, kind)) return 0;
  if ((va & (<u64>size - 1)) != 0) {
    raise(isLoad ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, va);
    return 0;
  }
  const pa = translate(va, isLoad ? ACCESS_LOAD : ACCESS_STORE);
  if (memFault) return 0;
  const host = ramHost(pa);
  if (host == 0) {
    raise(isLoad ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS, va);
    return 0;
  }
  // An SC or AMO may write a page with compiled code.
  if (jitOn && !isLoad) jitInvalidatePage(<u64>(host - RAM_OFFSET));
  return host;
}
