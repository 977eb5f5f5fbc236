/**
 * A guest's console output as a single-producer, single-consumer byte ring in a
 * SharedArrayBuffer: the worker writes, the page reads, no message per chunk. Only
 * usable when the page is crossOriginIsolated; otherwise bytes travel as transferred
 * buffers in `VmWorkerEvent`s.
 *
 * Layout: Int32 [0] = head (bytes written, wrapping at 2^31), [1] = tail (bytes read);
 * data follows at byte 8. The producer only moves head, the consumer only tail; the
 * consumer sleeps on head with Atomics.waitAsync and the producer notifies it.
 */
const HEAD = 0;
const TAIL = 1;
const HEADER_BYTES = 8;
/** Positions wrap here so that head - tail stays a small positive int32. */
const WRAP = 0x4000_0000;

export const DEFAULT_RING_BYTES = 256 * 1024;

// Atomics.waitAsync is ES2024 (Chromium 87+); the project's lib is ES2022, so typed here.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync?: (ta: Int32Array, index: number, value: number) => WaitAsyncResult }).waitAsync;

/** Whether this JavaScript engine lets the page wait on shared memory without blocking. */
export const canWaitAsync = typeof waitAsync === 'function';

export class ConsoleRing {
  private readonly index: Int32Array;
  private readonly data: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.index = new Int32Array(buffer, 0, 2);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
    if (this.data.length === 0 || WRAP % this.data.length !== 0) throw new RangeError(`console ring: ${this.data.length} data bytes must be a power of two`);
  }

  static create(bytes = DEFAULT_RING_BYTES): ConsoleRing {
    return new ConsoleRing(new SharedArrayBuffer(HEADER_BYTES + bytes));
  }

  private used(head: number, tail: number): number {
    return (head - tail + WRAP) % WRAP;
  }

  /** Producer: appends as much of `bytes` as fits; returns how many it took. */
  write(bytes: Uint8Array): number {
    const head = Atomics.load(this.index, HEAD);
    const tail = Atomics.load(this.index, TAIL);
    const size = this.data.length;
    const n = Math.min(bytes.length, size - this.used(head, tail));
    for (let i = 0; i < n; i++) this.data[(head + i) % size] = bytes[i]!;
    if (n > 0) {
      Atomics.store(this.index, HEAD, (head + n) % WRAP);
      Atomics.notify(this.index, HEAD);
    }
    return n;
  }

  /** Consumer: takes everything written so far (empty when nothing is). */
  read(): Uint8Array {
    const head = Atomics.load(this.index, HEAD);
    const tail = Atomics.load(this.index, TAIL);
    const n = this.used(head, tail);
    const out = new Uint8Array(n);
    const size = this.data.length;
    for (let i = 0; i < n; i++) out[i] = this.data[(tail + i) % size]!;
    Atomics.store(this.index, TAIL, head);
    return out;
  }

  /** Consumer side: wakes a pending `whenReadable` (to stop reading). */
  wake(): void {
    Atomics.notify(this.index, HEAD);
  }

  /**
   * Consumer: resolves once something is in the ring (at once if it already is). Uses
   * Atomics.waitAsync, so the page's thread never blocks.
   */
  async whenReadable(): Promise<void> {
    const head = Atomics.load(this.index, HEAD);
    if (this.used(head, Atomics.load(this.index, TAIL)) > 0) return;
    const w = waitAsync!(this.index, HEAD, head);
    if (w.async) await w.value;
  }
}
