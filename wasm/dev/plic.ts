// PLIC at PLIC_BASE, laid out as QEMU virt's (machineMap.ts): sources 1..63 (virtio from
// VIRTIO_IRQ, UART at UART_IRQ), two contexts for hart 0: context 0 = M-mode (MEIP),
// context 1 = S-mode (SEIP). The contexts of further harts decode but read as zero.
// Sources are level-triggered: a claimed source is not pending again until completed,
// and a completed source whose line is still high becomes pending again.
import { MIP_MEIP, MIP_SEIP } from '../cpu/state';
import { PLIC_PRIORITY_OFFSET } from '../layout';
import {
  PLIC_CONTEXT, PLIC_CONTEXT_STRIDE, PLIC_ENABLE, PLIC_ENABLE_STRIDE, PLIC_PENDING, PLIC_PRIORITY,
  PLIC_SOURCES,
} from '../machineMap';

const SOURCES: u32 = PLIC_SOURCES;
const PRIORITY_BASE: u32 = PLIC_PRIORITY;
const PENDING_BASE: u32 = PLIC_PENDING;
const ENABLE_BASE: u32 = PLIC_ENABLE;
const ENABLE_STRIDE: u32 = PLIC_ENABLE_STRIDE;
const CONTEXT_BASE: u32 = PLIC_CONTEXT;
const CONTEXT_STRIDE: u32 = PLIC_CONTEXT_STRIDE;

let levels: u64 = 0;
let pending: u64 = 0;
let claimed: u64 = 0;
let enableM: u64 = 0;
let enableS: u64 = 0;
let thresholdM: u32 = 0;
let thresholdS: u32 = 0;
// Source priorities live in linear memory (u32 each); 3 bits are implemented (WARL).
@inline function getPriority(id: u32): u32 {
  return load<u32>(PLIC_PRIORITY_OFFSET + (id << 2));
}

/** Hardware external-interrupt lines as seen in mip (ORed with software SEIP). */
export let plicMip: u64 = 0;

function best(enable: u64, threshold: u32): u32 {
  let cand = pending & enable & ~claimed;
  let bestId: u32 = 0;
  let bestPrio: u32 = threshold;
  while (cand != 0) {
    const id = <u32>ctz(cand);
    cand &= cand - 1;
    const p = getPriority(id);
    if (p > bestPrio) {
      bestPrio = p;
      bestId = id;
    }
  }
  return bestId;
}

function update(): void {
  plicMip = 0;
  if (best(enableM, thresholdM) != 0) plicMip |= MIP_MEIP;
  if (best(enableS, thresholdS) != 0) plicMip |= MIP_SEIP;
}

/** A device raises (level = true) or lowers its interrupt line. */
export function plicSetLevel(irq: u32, level: bool): void {
  if (irq == 0 || irq >= SOURCES) return;
  const bit = <u64>1 << irq;
  if (level) {
    levels |= bit;
    if ((claimed & bit) == 0) pending |= bit;
  } else {
    levels &= ~bit;
    pending &= ~bit;
  }
  update();
}

function claim(enable: u64, threshold: u32): u32 {
  const id = best(enable, threshold);
  if (id != 0) {
    const bit = <u64>1 << id;
    pending &= ~bit;
    claimed |= bit;
    update();
  }
  return id;
}

function complete(id: u32): void {
  if (id == 0 || id >= SOURCES) return;
  const bit = <u64>1 << id;
  claimed &= ~bit;
  if (levels & bit) pending |= bit;
  update();
}

export function plicRead(offset: u32): u32 {
  if (offset < PENDING_BASE) {
    const id = (offset - PRIORITY_BASE) >> 2;
    return id < SOURCES ? getPriority(id) : 0;
  }
  if (offset < ENABLE_BASE) {
    const word = (offset - PENDING_BASE) >> 2;
    return word < 2 ? <u32>(pending >> (<u64>word * 32)) : 0;
  }
  if (offset < CONTEXT_BASE) {
    const ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
    const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
    if (word >= 2) return 0;
    if (ctx == 0) return <u32>(enableM >> (<u64>word * 32));
    if (ctx == 1) return <u32>(enableS >> (<u64>word * 32));
    return 0;
  }
  const ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
  const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
  if (ctx == 0) return reg == 0 ? thresholdM : reg == 4 ? claim(enableM, thresholdM) : 0;
  if (ctx == 1) return reg == 0 ? thresholdS : reg == 4 ? claim(enableS, thresholdS) : 0;
  return 0;
}

export function plicWrite(offset: u32, value: u32): void {
  if (offset < PENDING_BASE) {
    const id = (offset - PRIORITY_BASE) >> 2;
    if (id > 0 && id < SOURCES) store<u32>(PLIC_PRIORITY_OFFSET + (id << 2), value & 7);
    update();
    return;
  }
  if (offset < ENABLE_BASE) return; // pending bits are read-only
  if (offset < CONTEXT_BASE) {
    const ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
    const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
    if (word >= 2) return;
    const shift = <u64>word * 32;
    const mask = <u64>0xffffffff << shift;
    // Source 0 does not exist: its enable bit is hardwired to zero.
    const bits = ((<u64>value << shift) & mask) & ~<u64>1;
    if (ctx == 0) enableM = (enableM & ~mask) | bits;
    else if (ctx == 1) enableS = (enableS & ~mask) | bits;
    update();
    return;
  }
  const ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
  const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
  if (reg == 0) {
    if (ctx == 0) thresholdM = value & 7;
    else if (ctx == 1) thresholdS = value & 7;
    update();
  } else if (reg == 4) {
    if (ctx < 2) complete(value);
  }
}

export function plicReset(): void {
  levels = 0;
  pending = 0;
  claimed = 0;
  enableM = 0;
  enableS = 0;
  thresholdM = 0;
  thresholdS = 0;
  memory.fill(PLIC_PRIORITY_OFFSET, 0, SOURCES * 4);
  plicMip = 0;
}
