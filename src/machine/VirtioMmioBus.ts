/**
 * The eight virtio-mmio slots at 0x1000_1000 + n * 0x1000. Empty slots answer as virtio
 * 1.x (§4.2.2) says a slot without a device does: the magic value, version 2, device ID 0.
 * Devices are attached per slot and see offsets within their slot.
 */
import type { MmioHandler } from './Core.ts';
import { VIRTIO_BASE, VIRTIO_SLOTS, VIRTIO_STRIDE } from './physicalMap.ts';

export const VIRTIO_MAGIC = 0x74726976n; // "virt"
export const VIRTIO_VENDOR = 0x554d4551n; // "QEMU", what Linux expects nothing special of

/** A device behind one slot: 32-bit register reads and writes at slot offsets. */
export interface VirtioMmioDevice {
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

export class VirtioMmioBus implements MmioHandler {
  private readonly slots: (VirtioMmioDevice | undefined)[] = new Array(VIRTIO_SLOTS);

  attach(slot: number, device: VirtioMmioDevice): void {
    if (slot < 0 || slot >= VIRTIO_SLOTS) throw new RangeError(`virtio slot ${slot} is not in 0..${VIRTIO_SLOTS - 1}`);
    this.slots[slot] = device;
  }

  read(pa: bigint, size: number): bigint {
    const slot = Number((pa - VIRTIO_BASE) / VIRTIO_STRIDE);
    const offset = Number((pa - VIRTIO_BASE) % VIRTIO_STRIDE);
    const dev = this.slots[slot];
    if (dev) return BigInt(dev.read(offset, size) >>> 0);
    switch (offset) {
      case 0x000: return VIRTIO_MAGIC;
      case 0x004: return 2n;
      case 0x00c: return VIRTIO_VENDOR;
      default: return 0n;
    }
  }

  write(pa: bigint, size: number, value: bigint): void {
    const slot = Number((pa - VIRTIO_BASE) / VIRTIO_STRIDE);
    const offset = Number((pa - VIRTIO_BASE) % VIRTIO_STRIDE);
    this.slots[slot]?.write(offset, size, Number(value & 0xffffffffn));
  }
}
