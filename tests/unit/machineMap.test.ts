// The machine described once (wasm/machineMap.ts, wasm/layout.ts) must describe a machine
// that can exist: no two regions of linear memory or of the physical map overlap, the
// static data the compiler placed stays below RAM, and the core's bus decodes exactly the
// ranges the device tree announces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as layout from '../../wasm/layout.ts';
import * as map from '../../wasm/machineMap.ts';
import { hex } from '../../src/format/hex.ts';
import { Core } from '../../src/machine/Core.ts';
import { coreWasmPath, loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { DEVICE_REGIONS, physicalRegions, RAM_BASE } from '../../src/machine/physicalMap.ts';

interface Region {
  name: string;
  base: bigint;
  size: bigint;
}

/** Fails naming both regions when any two overlap. */
function assertDisjoint(regions: readonly Region[]): void {
  const sorted = [...regions].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const r = sorted[i];
    assert.ok(
      prev.base + prev.size <= r.base,
      `${prev.name} (${hex(prev.base)}..${hex(prev.base + prev.size)}) overlaps ${r.name} (${hex(r.base)}..${hex(r.base + r.size)})`,
    );
  }
}

/** The active data segments of a wasm module, as [offset, length]. */
function dataSegments(bytes: Uint8Array): [number, number][] {
  let p = 8;
  const leb = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return v;
    }
  };
  const sleb32 = (): number => {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[p++];
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? v | (-1 << shift) : v;
  };
  const out: [number, number][] = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 11) {
      for (let n = leb(); n > 0; n--) {
        const flags = leb();
        if (flags === 1) {
          p += leb(); // passive: no place in memory until memory.init
          continue;
        }
        if (flags === 2) leb(); // memory index
        assert.equal(bytes[p++], 0x41, 'data segment offset is an i32.const');
        const offset = sleb32() >>> 0;
        assert.equal(bytes[p++], 0x0b);
        const length = leb();
        p += length;
        out.push([offset, length]);
      }
    }
    p = end;
  }
  return out;
}

describe('the linear-memory layout', () => {
  const L = layout;
  const regions: Region[] = [
    { name: 'null page', base: 0n, size: 0x1000n },
    { name: 'integer registers', base: BigInt(L.REGS_OFFSET), size: 32n * 8n },
    { name: 'floating-point registers', base: BigInt(L.FREGS_OFFSET), size: 32n * 8n },
    { name: 'PLIC priorities', base: BigInt(L.PLIC_PRIORITY_OFFSET), size: BigInt(map.PLIC_SOURCES * 4) },
    { name: 'pmpaddr', base: BigInt(L.PMP_ADDR_OFFSET), size: 16n * 8n },
    { name: 'trigger CSRs', base: BigInt(L.TRIGGER_CSR_OFFSET), size: BigInt(L.TRIGGER_CSR_SIZE) },
    { name: 'PLIC contexts', base: BigInt(L.PLIC_CONTEXT_STATE_OFFSET), size: BigInt(L.PLIC_CONTEXT_STATE_SIZE) },
    { name: 'PLIC lines per hart', base: BigInt(L.PLIC_HART_MIP_OFFSET), size: BigInt(L.PLIC_HART_MIP_SIZE) },
    { name: 'CLINT per hart', base: BigInt(L.CLINT_STATE_OFFSET), size: BigInt(L.CLINT_STATE_SIZE) },
    { name: 'hart save areas', base: BigInt(L.HART_SAVE_OFFSET), size: BigInt(L.HART_SAVE_SIZE * L.HART_SAVE_COUNT) },
    { name: 'decoded triggers', base: BigInt(L.TRIGGER_DECODED_OFFSET), size: BigInt(L.TRIGGER_DECODED_SIZE) },
    { name: 'boot stages', base: BigInt(L.STAGE_OFFSET), size: BigInt(L.STAGE_COUNT * 8) },
    { name: 'trap counters', base: BigInt(L.TRAP_COUNT_OFFSET), size: 32n * 8n },
    { name: 'TLBs (fetch, load, store)', base: BigInt(L.TLB_OFFSET), size: BigInt(3 * L.TLB_SIZE) },
    { name: 'UART receive ring', base: BigInt(L.UART_RX_OFFSET), size: BigInt(L.UART_RX_SIZE) },
    { name: 'TLB fill log', base: BigInt(L.TLB_FILL_LOG_OFFSET), size: BigInt(L.TLB_FILL_LOG_ENTRIES * 4) },
    { name: 'UART transmit ring', base: BigInt(L.UART_TX_OFFSET), size: BigInt(L.UART_TX_SIZE) },
    // Indexed by physical address, so it spans ROM_OFFSET..ROM_OFFSET + ROM_END.
    { name: 'reset ROM image', base: BigInt(L.ROM_OFFSET), size: BigInt(map.ROM_END) },
    { name: 'trap log', base: BigInt(L.TRAP_LOG_OFFSET), size: BigInt(L.TRAP_LOG_ENTRIES * map.TRAP_RECORD_SIZE) },
    { name: 'compressed-instruction table', base: BigInt(L.CEXP_OFFSET), size: BigInt(L.CEXP_SIZE) },
    { name: 'static data', base: BigInt(L.STATIC_OFFSET), size: BigInt(L.RAM_OFFSET - L.STATIC_OFFSET) },
    { name: 'guest RAM', base: BigInt(L.RAM_OFFSET), size: 1n << 32n },
  ];

  it('has no two regions that overlap', () => {
    assertDisjoint(regions);
  });

  it('has the boot stages and the TLB sizes its readers assume', () => {
    assert.ok(Object.keys(map.BootStageId).length / 2 <= L.STAGE_COUNT, 'every BootStageId has a slot');
    assert.equal(L.TLB_SIZE, L.TLB_ENTRIES * L.TLB_ENTRY_SIZE);
    assert.equal(L.FREGS_OFFSET, L.REGS_OFFSET + 256, 'a hart switch copies both register files at once');
    assert.ok(L.HART_SAVE_COUNT >= map.SMP_MAX_HARTS, 'a save area for every hart');
    assert.equal(L.PLIC_CONTEXT_STATE_SIZE, map.SMP_MAX_HARTS * map.PLIC_CONTEXTS_PER_HART * 12);
    assert.equal(L.CLINT_STATE_SIZE, map.SMP_MAX_HARTS * 12);
    assert.equal(L.TLB_ENTRIES & (L.TLB_ENTRIES - 1), 0, 'TLB_ENTRIES is a power of two');
    assert.equal(L.TRAP_LOG_ENTRIES & (L.TRAP_LOG_ENTRIES - 1), 0, 'TRAP_LOG_ENTRIES is a power of two');
  });

  for (const build of ['core.wasm', 'core.debug.wasm']) {
    it(`keeps ${build}'s static data between STATIC_OFFSET and RAM`, () => {
      const path = coreWasmPath().replace(/core(\.debug)?\.wasm$/, build);
      // Today the core has none (its tables are built at init), but a string or a
      // memory.data table would land here.
      for (const [offset, length] of dataSegments(new Uint8Array(readFileSync(path)))) {
        assert.ok(offset >= L.STATIC_OFFSET, `segment at ${hex(BigInt(offset))} is below STATIC_OFFSET`);
        assert.ok(offset + length <= L.RAM_OFFSET, `segment at ${hex(BigInt(offset))} (+${length}) runs into RAM`);
      }
    });
  }
});

describe('the physical map', () => {
  it('has no two regions that overlap, even with the most RAM a VM may have', () => {
    assertDisjoint(physicalRegions(0x8000_0000));
  });

  it('names every device the core decodes, virtio slots from VIRTIO_SLOTS', () => {
    const virtio = DEVICE_REGIONS.filter((r) => r.name.startsWith('virtio'));
    assert.equal(virtio.length, map.VIRTIO_SLOTS);
    assert.equal(BigInt(map.PLIC_SIZE), 0x60_0000n, "QEMU virt's PLIC window, as Linux sees it");
  });

  it('is what the core decodes: the first and last word of each region answer, the word past a gap faults', async () => {
    const mmioReads: bigint[] = [];
    const core = await Core.instantiate(await loadCoreModule(), {
      ramBytes: 1 << 20,
      mmio: { read: (pa) => (mmioReads.push(pa), 0n), write: () => {} },
    });
    const regions = physicalRegions(core.ramBytes);
    const mapped = (pa: bigint) => regions.some((r) => pa >= r.base && pa < r.base + r.size);
    // lw t0, 0(a0) at the start of RAM; one instruction per probe, in M-mode.
    new DataView(core.ram.buffer, core.ram.byteOffset).setUint32(0, 0x0005_2283, true);
    const loadFaults = (pa: bigint): boolean => {
      core.reset();
      core.pc = RAM_BASE;
      core.setX(10, pa);
      core.run(1);
      const trap = core.lastTrap;
      if (trap.count === 0n) return false;
      assert.equal(trap.cause, 5n, `a load from ${hex(pa)} raised cause ${trap.cause}, not a load access fault`);
      return true;
    };
    for (const r of regions) {
      const last = r.base + r.size - 4n;
      assert.equal(loadFaults(r.base), false, `${r.name}: a load from its base ${hex(r.base)} faults`);
      assert.equal(loadFaults(last), false, `${r.name}: a load from its last word ${hex(last)} faults`);
      const past = r.base + r.size;
      if (!mapped(past)) assert.equal(loadFaults(past), true, `${r.name}: a load past its end (${hex(past)}) answers`);
    }
    assert.ok(mmioReads.length >= 2 * map.VIRTIO_SLOTS, 'virtio loads reach the host');
  });
});
