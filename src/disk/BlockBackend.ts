/**
 * Where a disk image's bytes live: a flat, growable array of bytes that is read and
 * written asynchronously. The VHD layer is the only user on the hot path, so the contract
 * is deliberately small; a backend knows nothing about sectors, blocks or VHD.
 *
 * Implementations: `MemoryBackend` (tests, scratch), `FileBackend` (node, in
 * `src/disk/node.ts` so the browser bundle never pulls in `fs`), and an IndexedDB
 * backend in the browser.
 */
export interface BlockBackend {
  /**
   * Current length in bytes. Grows when `write` reaches past it; never shrinks.
   * Kept up to date synchronously, so callers can plan layouts without a round trip.
   */
  readonly size: number;

  /**
   * True when every `write` will be refused (a base image opened read-only).
   * The VHD layer checks this before it plans any write, so a read-only chain member
   * can never be half-modified.
   */
  readonly readOnly: boolean;

  /**
   * Resolves with exactly `length` bytes starting at `offset`, in a fresh buffer the
   * caller may keep. Rejects with a `BackendError` ('out-of-range') when any part of
   * the range lies outside `[0, size)`; it never returns a short read.
   */
  read(offset: number, length: number): Promise<Uint8Array>;

  /**
   * Stores `data` at `offset`. Writing at or past `size` grows the backend to
   * `offset + data.length`; a gap between the old end and `offset` reads back as
   * zeros. Rejects with a `BackendError` ('read-only') on a read-only backend.
   * The data is visible to later reads at once; `settle` and `flush` say when it
   * outlives this process and the machine.
   */
  write(offset: number, data: Uint8Array): Promise<void>;

  /**
   * Resolves when every write made before the call would survive this process being
   * killed (a page reload, a closed tab, a SIGKILL): where a write into a file already
   * sits in the OS's page cache, this is at once; the IndexedDB backend commits what it
   * buffered. It is the point where a disk may tell the guest "written", as QEMU's
   * write-back cache does once the data is in the host's page cache.
   */
  settle(): Promise<void>;

  /**
   * Makes every completed write durable against power loss too (fsync, an IndexedDB
   * transaction with strict durability): the guest's FLUSH.
   */
  flush(): Promise<void>;

  /**
   * Releases the file handle or connection. Idempotent. Any call after it rejects
   * with a `BackendError` ('disposed').
   */
  dispose(): Promise<void>;
}
