/**
 * One split virtqueue (virtio 1.x §2.7) living in guest RAM, read and written by the
 * device side. The driver owns the descriptor table and the available ring; the device
 * owns the used ring and its own index. Everything read from guest memory is treated as
 * hostile: indices are bounded, chains are walked at most `size` steps, and every buffer
 * must lie inside RAM, or a `VirtioError` says which field was wrong.
 *
 *   descriptor table  16 bytes × size, 16-aligned: addr u64, len u32, flags u16, next u16
 *   available ring    6 + 2 × size, 2-aligned:     flags u16, idx u16, ring[size] u16, used_event u16
 *   used ring         6 + 8 × size, 4-aligned:     flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16
 */
import type { GuestMemory, RamRange } from './GuestMemory.ts';
import { hex } from '../../format/hex.ts';
import { VirtioError } from './VirtioError.ts';

const DESC_SIZE = 16;
const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;
const VIRTQ_DESC_F_INDIRECT = 4;
/** Available-ring flag: the driver does not want an interrupt for used buffers (a hint). */
const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** The largest queue the spec allows (§2.7). */
export const MAX_QUEUE_SIZE = 32768;

/** Where the driver put a queue, as written to the transport's queue registers. */
export interface VirtqueueLayout {
  size: number;
  descAddr: number;
  availAddr: number;
  usedAddr: number;
}

/** One request: the device-readable buffers, then the device-writable ones (§2.7.4.2). */
export interface DescriptorChain {
  /** Index of the first descriptor; what goes back in the used ring. */
  head: number;
  readable: RamRange[];
  writable: RamRange[];
  readableBytes: number;
  writableBytes: number;
}

export class Virtqueue {
  readonly size: number;
  private readonly desc: number;
  private readonly avail: number;
  private readonly used: number;
  /** The driver's available index up to which we have taken chains (free-running, mod 2^16). */
  private lastAvail = 0;
  /** Our used index (free-running); the guest's copy is write-only for us. */
  private usedIdx = 0;

  /** Validates the layout; throws VirtioError('bad-ring') naming the bad field. */
  constructor(
    private readonly mem: GuestMemory,
    layout: VirtqueueLayout,
    private readonly index: number,
  ) {
    const { size } = layout;
    if (size === 0 || size > MAX_QUEUE_SIZE || (size & (size - 1)) !== 0) {
      throw new VirtioError('bad-ring', `virtqueue ${index}: QueueNum ${size} is not a power of two from 1 to ${MAX_QUEUE_SIZE}`);
    }
    this.size = size;
    this.desc = this.place('descriptor table', layout.descAddr, DESC_SIZE * size, 16);
    this.avail = this.place('available ring', layout.availAddr, 6 + 2 * size, 2);
    this.used = this.place('used ring', layout.usedAddr, 6 + 8 * size, 4);
  }

  private place(what: string, address: number, length: number, align: number): number {
    if (address % align !== 0) {
      throw new VirtioError('bad-ring', `virtqueue ${this.index}: ${what} at ${hex(address)} is not ${align}-byte aligned`, address);
    }
    const offset = this.mem.offsetOf(address, length);
    if (offset === undefined) {
      throw new VirtioError('bad-ring', `virtqueue ${this.index}: ${what} at ${hex(address)} (${length} bytes) is not inside guest RAM`, address);
    }
    return offset;
  }

  /** The device's two indices (free-running, mod 2^16), for a machine state. */
  get indices(): { lastAvail: number; usedIdx: number } {
    return { lastAvail: this.lastAvail, usedIdx: this.usedIdx };
  }

  /** Puts back the indices of a machine state (0..0xffff each, checked by the caller). */
  setIndices(lastAvail: number, usedIdx: number): void {
    this.lastAvail = lastAvail & 0xffff;
    this.usedIdx = usedIdx & 0xffff;
  }

  /** Chains the driver has made available and we have not taken yet. */
  get availableCount(): number {
    const count = (this.mem.u16(this.avail + 2) - this.lastAvail) & 0xffff;
    if (count > this.size) {
      const at = this.mem.base + this.avail + 2;
      throw new VirtioError('bad-avail-index', `virtqueue ${this.index}: available index ${this.mem.u16(this.avail + 2)} at ${hex(at)} is ${count} ahead of the device's ${this.lastAvail}, more than the queue size ${this.size}`, at);
    }
    return count;
  }

  /** Takes the next available chain, or undefined when the driver has offered none. */
  pop(): DescriptorChain | undefined {
    if (this.availableCount === 0) return undefined;
    const slot = this.avail + 4 + 2 * (this.lastAvail % this.size);
    const head = this.mem.u16(slot);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return this.walk(head);
  }

  private walk(head: number): DescriptorChain {
    const chain: DescriptorChain = { head, readable: [], writable: [], readableBytes: 0, writableBytes: 0 };
    let i = head;
    for (let steps = 0; ; steps++) {
      if (i >= this.size) {
        throw new VirtioError('bad-descriptor', `virtqueue ${this.index}: chain from head ${head} names descriptor ${i}, beyond the queue size ${this.size}`);
      }
      if (steps === this.size) {
        throw new VirtioError('bad-descriptor', `virtqueue ${this.index}: chain from head ${head} is longer than the queue size ${this.size} (a loop)`);
      }
      const d = this.desc + DESC_SIZE * i;
      const at = this.mem.base + d;
      const address = this.mem.u64(d);
      const length = this.mem.u32(d + 8);
      const flags = this.mem.u16(d + 12);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        throw new VirtioError('bad-descriptor', `virtqueue ${this.index}: descriptor ${i} at ${hex(at)} is indirect, which was not negotiated`, at);
      }
      const offset = this.mem.offsetOf(address, length);
      if (offset === undefined) {
        throw new VirtioError('bad-descriptor', `virtqueue ${this.index}: descriptor ${i} at ${hex(at)}: buffer at ${hex(address)} (${length} bytes) is not inside guest RAM`, at);
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push({ offset, length });
        chain.writableBytes += length;
      } else {
        if (chain.writable.length > 0) {
          throw new VirtioError('bad-descriptor', `virtqueue ${this.index}: descriptor ${i} at ${hex(at)} is device-readable but follows a device-writable one`, at);
        }
        chain.readable.push({ offset, length });
        chain.readableBytes += length;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      i = this.mem.u16(d + 14);
    }
  }

  /**
   * Takes chains and hands each to `start` until the ring is empty or `full()` says the
   * device has enough in flight; returns true when chains were left in the ring (what a
   * device's `process` returns, so the transport calls again after later completions).
   */
  takeWhile(full: () => boolean, start: (chain: DescriptorChain) => void): boolean {
    for (;;) {
      if (full()) return this.availableCount > 0;
      const chain = this.pop();
      if (!chain) return false;
      start(chain);
    }
  }

  /** Hands a chain back: `written` is how many bytes the device wrote into it. */
  pushUsed(head: number, written: number): void {
    const slot = this.used + 4 + 8 * (this.usedIdx % this.size);
    this.mem.setU32(slot, head);
    this.mem.setU32(slot + 4, written);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.mem.setU16(this.used + 2, this.usedIdx);
  }

  /** Whether the driver asked not to be interrupted for used buffers right now. */
  get interruptSuppressed(): boolean {
    return (this.mem.u16(this.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }
}
