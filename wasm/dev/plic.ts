// PLIC at PLIC_BASE, laid out as QEMU virt's (machineMap.ts): sources 1..63 (virtio from
// VIRTIO_IRQ, UART at UART_IRQ), two contexts per hart: context 2h = hart h's M-mode
// (MEIP), 2h + 1 = its S-mode (SEIP). Contexts past the last hart decode but read as zero.
// Each hart's lines are kept (PLIC_HART_MIP_OFFSET); `plicMip` is the live hart's.
// Sources are level-triggered: a claimed source is not pending again until completed,
// and a completed source whose line is still high becomes pending again.
import { currentHart, hartCount, MIP_MEIP, MIP_SEIP } from '../cpu/state';
import { PLIC_CONTEXT_STATE_OFFSET, PLIC_HART_MIP_OFFSET, PLIC_PRIORITY_OFFSET } from '../layout';
import { PLIC_CONTEXTS_PER_HART, SMP_MAX_HARTS } from '../machineMap';
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

// Exported for the machine state (wasm/machineState.ts) only.
export let levels: u64 = 0;
export let pending: u64 = 0;
export let claimed: u64 = 0;
const MAX_CONTEXTS: u32 = SMP_MAX_HARTS * PLIC_CONTEXTS_PER_HART;
// Per context: the enable bits (u64) at PLIC_CONTEXT_STATE_OFFSET, then the thresholds (u32).
const THRESHOLD_OFFSET: u32 = PLIC_CONTEXT_STATE_OFFSET + MAX_CONTEXTS * 8;

@inline function enableOf(ctx: u32): u64 {
  return load<u64>(PLIC_CONTEXT_STATE_OFFSET + (ctx << 3));
}
@inline function thresholdOf(ctx: u32): u32 {
  return load<u32>(THRESHOLD_OFFSET + (ctx << 2));
}
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
  for (let h: u32 = 0; h < hartCount; h++) {
    let lines: u64 = 0;
    const m = h * PLIC_CONTEXTS_PER_HART;
    if (best(enableOf(m), thresholdOf(m)) != 0) lines |= MIP_MEIP;
    if (best(enableOf(m + 1), thresholdOf(m + 1)) != 0) lines |= MIP_SEIP;
    store<u64>(PLIC_HART_MIP_OFFSET + (h << 3), lines);
  }
  plicMip = load<u64>(PLIC_HART_MIP_OFFSET + (currentHart << 3));
}

/** Hart h's external-interrupt lines (MEIP, SEIP). */
export function plicHartMip(h: u32): u64 {
  return load<u64>(PLIC_HART_MIP_OFFSET + (h << 3));
}

/** The live hart changed (cpu/harts.ts): its lines become `plicMip`. */
export function plicSwitchHart(): void {
  plicMip = plicHartMip(currentHart);
}

/** Contexts that exist: two per hart. */
@inline function contexts(): u32 {
  return hartCount * PLIC_CONTEXTS_PER_HART;
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

function claim(ctx: u32): u32 {
  const id = best(enableOf(ctx), thresholdOf(ctx));
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
    if (word >= 2 || ctx >= contexts()) return 0;
    return <u32>(enableOf(ctx) >> (<u64>word * 32));
  }
  const ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
  const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
  if (ctx >= contexts()) return 0;
  return reg == 0 ? thresholdOf(ctx) : reg == 4 ? claim(ctx) : 0;
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
    if (word >= 2 || ctx >= contexts()) return;
    const shift = <u64>word * 32;
    const mask = <u64>0xffffffff << shift;
    // Source 0 does not exist: its enable bit is hardwired to zero.
    const bits = ((<u64>value << shift) & mask) & ~<u64>1;
    store<u64>(PLIC_CONTEXT_STATE_OFFSET + (ctx << 3), (enableOf(ctx) & ~mask) | bits);
    update();
    return;
  }
  const ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
  const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
  if (ctx >= contexts()) return;
  if (reg == 0) {
    store<u32>(THRESHOLD_OFFSET + (ctx << 2), value & 7);
    update();
  } else if (reg == 4) {
    complete(value);
  }
}

export function plicReset(): void {
  levels = 0;
  pending = 0;
  claimed = 0;
  memory.fill(PLIC_CONTEXT_STATE_OFFSET, 0, MAX_CONTEXTS * 12);
  memory.fill(PLIC_HART_MIP_OFFSET, 0, SMP_MAX_HARTS * 8);
  memory.fill(PLIC_PRIORITY_OFFSET, 0, SOURCES * 4);
  plicMip = 0;
}
