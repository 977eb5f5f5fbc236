/**
 * Guest physical RAM as a device doing DMA sees it. Every address the guest hands over
 * (ring bases, descriptor buffers) goes through `offsetOf`, which accepts a range only if
 * all of it lies in RAM; a device never indexes `ram` with an unchecked guest number.
 */

/** A checked range of guest RAM: an offset into `GuestMemory.ram`, and a length. */
export interface RamRange {
  offset: number;
  length: number;
}

export class GuestMemory {
  private readonly view: DataView;

  constructor(
    /** Guest RAM; byte 0 is physical address `base`. Write it only through the methods
     *  below, which tell `onWrite` (the JIT drops code translated from written bytes). */
    readonly ram: Uint8Array,
    readonly base: number,
    private readonly onWrite: (offset: number, length: number) => void = () => {},
  ) {
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  /**
   * The RAM offset of physical `[address, address + length)`, or undefined when any of it
   * is outside RAM. `address` may be any non-negative number a guest can form from two
   * 32-bit halves: values past 2^53 lose precision but are far outside RAM either way.
   */
  offsetOf(address: number, length: number): number | undefined {
    const offset = address - this.base;
    if (!(offset >= 0) || !(length >= 0) || length > this.ram.length - offset) return undefined;
    return offset;
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  /** A 64-bit little-endian field as a number (exact below 2^53, which is all RAM can be). */
  u64(offset: number): number {
    return this.view.getUint32(offset + 4, true) * 0x1_0000_0000 + this.view.getUint32(offset, true);
  }
  setU8(offset: number, v: number): void {
    this.ram[offset] = v;
    this.onWrite(offset, 1);
  }
  setU16(offset: number, v: number): void {
    this.view.setUint16(offset, v, true);
    this.onWrite(offset, 2);
  }
  setU32(offset: number, v: number): void {
    this.view.setUint32(offset, v, true);
    this.onWrite(offset, 4);
  }

  /** Copies `length` bytes out of `ranges`, starting `skip` bytes into them. */
  gather(ranges: readonly RamRange[], skip: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    for (const r of ranges) {
      if (done === length) break;
      if (skip >= r.length) {
        skip -= r.length;
        continue;
      }
      const n = Math.min(r.length - skip, length - done);
      out.set(this.ram.subarray(r.offset + skip, r.offset + skip + n), done);
      done += n;
      skip = 0;
    }
    return out;
  }

  /** Copies `data` into `ranges` in order; returns how many bytes fitted. */
  scatter(ranges: readonly RamRange[], data: Uint8Array): number {
    let done = 0;
    for (const r of ranges) {
      if (done === data.length) break;
      const n = Math.min(r.length, data.length - done);
      this.ram.set(data.subarray(done, done + n), r.offset);
      this.onWrite(r.offset, n);
      done += n;
    }
    return done;
  }
}
