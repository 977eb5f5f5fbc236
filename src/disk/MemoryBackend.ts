import { BackendError } from './BackendError.ts';
import type { BlockBackend } from './BlockBackend.ts';

/** Default ceiling for a memory backend: large enough for test images, small enough
 * that a corrupt image asking for a huge write fails loudly instead of exhausting RAM. */
const DEFAULT_MAX_SIZE = 1 << 30;

/** A `BlockBackend` in an ArrayBuffer that doubles as it grows. */
export class MemoryBackend implements BlockBackend {
  private buf: Uint8Array;
  private length: number;
  private disposed = false;
  readonly readOnly: boolean;
  private readonly maxSize: number;

  constructor(initial?: Uint8Array | number, opts: { readOnly?: boolean; maxSize?: number } = {}) {
    this.maxSize = opts.maxSize ?? DEFAULT_MAX_SIZE;
    this.readOnly = opts.readOnly ?? false;
    if (typeof initial === 'number') {
      this.checkGrowth(initial, 0);
      this.buf = new Uint8Array(initial);
      this.length = initial;
    } else {
      this.buf = initial ? initial.slice() : new Uint8Array(0);
      this.length = this.buf.length;
    }
  }

  get size(): number {
    return this.length;
  }

  /** A copy of the current contents (tests hash and compare it). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkLive();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.length) {
      throw new BackendError('out-of-range', `memory backend: read of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.length} bytes`, offset);
    }
    return this.buf.slice(offset, offset + length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkLive();
    if (this.readOnly) throw new BackendError('read-only', `memory backend: write at 0x${offset.toString(16)} refused, backend is read-only`, offset);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BackendError('out-of-range', `memory backend: write offset ${offset} is not a non-negative integer`, offset);
    }
    const end = offset + data.length;
    if (end > this.buf.length) {
      this.checkGrowth(end, offset);
      const grown = new Uint8Array(Math.min(this.maxSize, Math.max(end, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(data, offset);
    if (end > this.length) this.length = end;
  }

  /** Memory lives and dies with the process: there is nothing further to hand the data to. */
  async settle(): Promise<void> {
    this.checkLive();
  }

  async flush(): Promise<void> {
    this.checkLive();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private checkGrowth(end: number, offset: number): void {
    if (end > this.maxSize) {
      throw new BackendError('too-large', `memory backend: growing to ${end} bytes exceeds its limit of ${this.maxSize}`, offset);
    }
  }

  private checkLive(): void {
    if (this.disposed) throw new BackendError('disposed', 'memory backend: used after dispose()');
  }
}
