/**
 * Names the part of the machine a physical address reaches, for "where does this address
 * go?": the end of a page walk is only half an answer until the student sees that
 * 0x1000_0000 is the UART rather than memory. The map is ARCHITECTURE.md's (QEMU virt).
 */
import { RAM_BASE } from './Core.ts';
import type { PhysicalRegion } from './InspectorTypes.ts';
import { VIRTIO_BASE, VIRTIO_SLOTS, VIRTIO_STRIDE } from './virtDeviceTree.ts';

const FIXED: readonly PhysicalRegion[] = [
  { name: 'reset ROM', base: 0x1000n, size: 0xf000n, kind: 'rom' },
  { name: 'test device (poweroff/reboot)', base: 0x10_0000n, size: 0x1000n, kind: 'mmio' },
  { name: 'CLINT (timer, software interrupts)', base: 0x200_0000n, size: 0x1_0000n, kind: 'mmio' },
  { name: 'PLIC (external interrupts)', base: 0xc00_0000n, size: 0x60_0000n, kind: 'mmio' },
  { name: 'UART 16550 (console)', base: 0x1000_0000n, size: 0x100n, kind: 'mmio' },
];

export function physicalRegion(pa: bigint, ramBytes: number): PhysicalRegion {
  if (pa >= RAM_BASE && pa < RAM_BASE + BigInt(ramBytes)) {
    return { name: 'RAM', base: RAM_BASE, size: BigInt(ramBytes), kind: 'ram' };
  }
  for (const r of FIXED) if (pa >= r.base && pa < r.base + r.size) return r;
  const slot = (pa - VIRTIO_BASE) / VIRTIO_STRIDE;
  if (pa >= VIRTIO_BASE && slot < BigInt(VIRTIO_SLOTS)) {
    return { name: `virtio-mmio slot ${slot}`, base: VIRTIO_BASE + slot * VIRTIO_STRIDE, size: VIRTIO_STRIDE, kind: 'mmio' };
  }
  return { name: 'nothing (reads 0, writes vanish)', base: pa & ~0xfffn, size: 0x1000n, kind: 'none' };
}
