/**
 * A disk whose writes stay in host memory over a base it never writes: QEMU's `-snapshot`
 * for a raw image (or a VHD read through VhdDisk). Reads merge the written chunks over
 * the base; everything written vanishes with the object.
 */
import { BackendError } from './BackendError.ts';

/** What it needs of the disk below: byte-addressed, asynchronous reads. */
export interface ReadableDisk {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Granularity of the copy: a guest's 512-byte write costs one chunk of host memory. */
const CHUNK = 4096;

export class CopyOnWriteDisk {
  readonly readOnly = false;
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(
    private readonly base: ReadableDisk,
    /** For messages. */
    readonly name: string,
  ) {}

  get size(): number {
    return this.base.size;
  }

  /** Bytes held in memory for what the guest wrote. */
  get bytesHeld(): number {
    return this.chunks.size * CHUNK;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check('read', offset, length);
    const out = await this.base.read(offset, length);
    if (this.chunks.size === 0) return out;
    for (let c = Math.floor(offset / CHUNK); c * CHUNK < offset + length; c++) {
      const chunk = this.chunks.get(c);
      if (!chunk) continue;
      const from = Math.max(offset, c * CHUNK);
      const to = Math.min(offset + length, c * CHUNK + CHUNK);
      out.set(chunk.subarray(from - c * CHUNK, to - c * CHUNK), from - offset);
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.check('write', offset, data.length);
    for (let c = Math.floor(offset / CHUNK); c * CHUNK < offset + data.length; c++) {
      let chunk = this.chunks.get(c);
      if (!chunk) {
        // The first write into a chunk copies the base's bytes under the rest of it.
        const start = c * CHUNK;
        const len = Math.min(CHUNK, this.size - start);
        chunk = new Uint8Array(CHUNK);
        chunk.set(await this.base.read(start, len));
        this.chunks.set(c, chunk);
      }
      const from = Math.max(offset, c * CHUNK);
      const to = Math.min(offset + data.length, c * CHUNK + CHUNK);
      chunk.set(data.subarray(from - offset, to - offset), from - c * CHUNK);
    }
  }

  /** Nothing outlives the run: there is nothing to make durable. */
  async flush(): Promise<void> {}

  private check(what: string, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new BackendError('out-of-range', `${this.name}: ${what} of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.size} bytes`, offset);
    }
  }
}
