/**
 * A `BlockBackend` over IndexedDB: an image's bytes as fixed-size chunks keyed
 * [imageId, index]. A chunk that was never written (or is all zeros) has no record and
 * reads as zeros, so sparse VHD regions and zero blocks cost nothing.
 *
 * Writes land in memory (dirty chunks) and are visible to reads at once. They leave
 * memory in commits: one readwrite transaction carrying every dirty chunk and the
 * image's new size, so the database always holds a prefix of the write sequence.
 * `settle` commits with relaxed durability (the data is in the browser's storage
 * service and survives a reload, a closed tab or a killed renderer, as a file write in
 * the OS's page cache survives a killed process); `flush` commits with strict
 * durability (fsync'd: survives power loss). Callers that arrive while a commit runs
 * share the next one (group commit), so a guest with many requests in flight pays for
 * few transactions. A failed commit (e.g. the quota is full) leaves its chunks dirty,
 * nothing lost, ready to be committed again once space is freed.
 *
 * Chunk size: 64 KiB, from tests/e2e/idbChunkSize.measure.ts (Chromium, 2 cores, two runs;
 * ms for 16 MiB sequential write+flush / 1,000 random 4 KiB writes with a flush every 50 /
 * 16 MiB cold read):
 *     4 KiB   449–721 /   85–124 / 429–472
 *    16 KiB   172–185 /  523–539 / 186–197
 *    64 KiB    89–107 /  756–905 / 144–205
 *   256 KiB    51–70  / 1555–1746 /  97–99
 *     1 MiB    73–103 / 2800–3148 /  73–77
 * Per-record overhead makes small chunks slow to stream (imports, boot reads: 4 KiB is
 * 5–7× off the best); large chunks make every scattered 4 KiB write a big
 * read-modify-write and every sync a big transaction (1 MiB: 3 ms a write). 64 KiB sits at
 * the knee: within 2× of the best at streaming and cold reads, while a scattered 4 KiB
 * write costs ~0.8 ms (9× a 4 KiB chunk's, a quarter of a 1 MiB chunk's); and it divides
 * a 2 MiB VHD block evenly.
 */
import { BackendError, type BlockBackend } from '../disk/index.ts';
import { CHUNKS, IMAGES, chunkKey, type ImageRecord } from './imageDb.ts';
import { isQuotaError, requestResult, transactionDone } from './idbRequests.ts';
import { StoreError } from './StoreError.ts';

export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Clean chunks kept in memory for reads (4 MiB at 64 KiB). */
const CACHE_CHUNKS = 64;
/** Past this much unflushed data, a write flushes first, bounding the memory a guest can pin. */
const MAX_DIRTY_BYTES = 32 * 1024 * 1024;

function isAllZero(b: Uint8Array): boolean {
  // Word-wise where the buffer allows it; chunks are allocated aligned.
  if (b.byteOffset % 4 === 0 && b.length % 4 === 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

interface IdbChunkBackendOptions {
  readOnly?: boolean;
}

/** A commit not yet started, which callers join until it starts. */
interface PendingCommit {
  strict: boolean;
  done: Promise<void>;
}

export class IdbChunkBackend implements BlockBackend {
  readonly readOnly: boolean;
  readonly chunkSize: number;
  private length: number;
  private record: ImageRecord;
  /** Chunks written since the running commit (if any) took its snapshot. */
  private readonly dirty = new Map<number, Uint8Array>();
  /** Chunks the running commit carries; reads still see them. */
  private committing = new Map<number, Uint8Array>();
  /** Clean chunks, most recently used last. */
  private readonly cache = new Map<number, Uint8Array>();
  private disposed = false;
  /** The latest commit, running or settled, as its callers see it. Commits run one after another. */
  private last: Promise<void> = Promise.resolve();
  private pending: PendingCommit | undefined;

  private constructor(
    private readonly db: IDBDatabase,
    record: ImageRecord,
    opts: IdbChunkBackendOptions,
  ) {
    this.record = record;
    this.readOnly = opts.readOnly ?? false;
    this.chunkSize = record.chunkSize;
    this.length = record.size;
  }

  /** Opens the bytes of image `imageId`; its record must exist. */
  static async open(db: IDBDatabase, imageId: string, opts: IdbChunkBackendOptions = {}): Promise<IdbChunkBackend> {
    const tx = db.transaction(IMAGES, 'readonly');
    const record = (await requestResult(tx.objectStore(IMAGES).get(imageId))) as ImageRecord | undefined;
    if (!record) throw new StoreError('not-found', `image store: no image with id "${imageId}"`);
    return new IdbChunkBackend(db, record, opts);
  }

  get imageId(): string {
    return this.record.id;
  }

  get size(): number {
    return this.length;
  }

  /** Bytes written but not yet committed. */
  get unflushedBytes(): number {
    return (this.dirty.size + this.committing.size) * this.chunkSize;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkLive();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.length) {
      throw new BackendError('out-of-range', `IndexedDB image ${this.record.id}: read of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.length} bytes`, offset);
    }
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const cs = this.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    const chunks = await this.chunks(range(first, last));
    for (let i = first; i <= last; i++) {
      const chunk = chunks.get(i);
      if (!chunk) continue; // a hole: zeros
      const chunkStart = i * cs;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + cs);
      out.set(chunk.subarray(from - chunkStart, to - chunkStart), from - offset);
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkLive();
    if (this.readOnly) throw new BackendError('read-only', `IndexedDB image ${this.record.id}: write at 0x${offset.toString(16)} refused, the image is read-only`, offset);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BackendError('out-of-range', `IndexedDB image ${this.record.id}: write offset ${offset} is not a non-negative integer`, offset);
    }
    if (data.length === 0) return;
    const cs = this.chunkSize;
    const end = offset + data.length;
    const first = Math.floor(offset / cs);
    const last = Math.floor((end - 1) / cs);
    // Chunks only partly covered need their old bytes; whole ones do not. Fetched first,
    // so the copy below runs with no await in between: a write is applied to memory in
    // one piece, in the order the writes were made.
    const partial = new Set<number>();
    if (offset % cs !== 0) partial.add(first);
    if (end % cs !== 0) partial.add(last);
    const old = partial.size ? await this.chunks(partial) : new Map<number, Uint8Array>();
    for (let i = first; i <= last; i++) {
      const chunkStart = i * cs;
      let chunk = this.dirty.get(i);
      if (!chunk) {
        chunk = new Uint8Array(cs);
        // A partly covered chunk starts from its newest bytes: memory first (a write
        // may have landed while `old` was fetched), then what was fetched.
        const prev = partial.has(i) ? (this.inMemory(i) ?? old.get(i)) : undefined;
        if (prev) chunk.set(prev);
        this.dirty.set(i, chunk);
        this.cache.delete(i);
      }
      const from = Math.max(offset, chunkStart);
      const to = Math.min(end, chunkStart + cs);
      chunk.set(data.subarray(from - offset, to - offset), from - chunkStart);
    }
    if (end > this.length) this.length = end;
    if (this.dirty.size * cs > MAX_DIRTY_BYTES) await this.settle();
  }

  /** Commits every write so far with relaxed durability: it outlives the page. */
  settle(): Promise<void> {
    this.checkLive();
    // Nothing new since the latest commit: it carries every write made so far.
    if (this.readOnly || (this.pending === undefined && this.dirty.size === 0 && this.length === this.record.size)) return this.last;
    return this.commit(false);
  }

  /** Commits every write so far with strict durability: it outlives the machine. */
  flush(): Promise<void> {
    this.checkLive();
    if (this.readOnly) return Promise.resolve();
    return this.commit(true);
  }

  /**
   * Joins the next commit, or schedules one after the running one. The next commit
   * takes its snapshot of the dirty chunks when it starts, so it carries every write
   * made before this call.
   */
  private commit(strict: boolean): Promise<void> {
    if (this.pending) {
      this.pending.strict ||= strict;
      return this.pending.done;
    }
    const pending: PendingCommit = { strict, done: undefined as unknown as Promise<void> };
    pending.done = this.last
      .catch(() => {}) // a failed commit put its chunks back: this one carries them
      .then(() => {
        this.pending = undefined;
        return this.commitNow(pending.strict);
      });
    this.pending = pending;
    this.last = pending.done;
    return pending.done;
  }

  private async commitNow(strict: boolean): Promise<void> {
    if (!strict && this.dirty.size === 0 && this.length === this.record.size) return;
    this.committing = new Map(this.dirty);
    this.dirty.clear();
    // Any change counts (a suspended machine's state is valid only while its disk has none).
    const changed = this.committing.size > 0 || this.length !== this.record.size;
    const record: ImageRecord = { ...this.record, size: this.length, writes: (this.record.writes ?? 0) + (changed ? 1 : 0) };
    try {
      const tx = this.db.transaction([CHUNKS, IMAGES], 'readwrite', { durability: strict ? 'strict' : 'relaxed' });
      const done = transactionDone(tx);
      const chunks = tx.objectStore(CHUNKS);
      for (const [i, chunk] of this.committing) {
        const key = chunkKey(record.id, i);
        if (isAllZero(chunk)) chunks.delete(key);
        else chunks.put(chunk, key);
      }
      // Written even when only its size is unchanged: a strict commit with nothing else
      // in it still makes the earlier relaxed ones durable.
      tx.objectStore(IMAGES).put(record);
      // Sent to the storage service now rather than when this task ends: a worker
      // killed after this line cannot take the transaction down with it.
      tx.commit();
      await done;
      this.record = record;
      for (const [i, chunk] of this.committing) this.remember(i, chunk);
    } catch (e) {
      // Keep what the failed transaction carried, unless a newer write superseded it.
      for (const [i, chunk] of this.committing) if (!this.dirty.has(i)) this.dirty.set(i, chunk);
      if (isQuotaError(e)) {
        throw new StoreError('quota-exceeded', `storage is full: ${this.unflushedBytes} bytes of image ${this.record.id} are kept in memory until space is freed`, { cause: e });
      }
      throw new BackendError('io', `IndexedDB image ${this.record.id}: commit failed: ${(e as Error).message}`);
    } finally {
      this.committing = new Map();
    }
  }

  /**
   * Changes fields of the image's record in the next commit, together with the bytes it
   * carries (a merged disk's new parent lands with the header that names it, or neither).
   */
  amendRecord(fields: Pick<Partial<ImageRecord>, 'parentId' | 'origin' | 'name'>): void {
    this.record = { ...this.record, ...fields };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.cache.clear();
  }

  /**
   * The chunks `wanted` from memory or the database; holes are absent from the map.
   * Fetches every missing one in a single transaction.
   *
   * A fetched chunk is never older than what the database will hold: IndexedDB starts a
   * readwrite transaction on the store only after every readonly one begun before it
   * has finished, and this function's continuation runs before that. It can be older
   * than memory (a write landed meanwhile), so memory is looked at again.
   */
  private async chunks(wanted: Iterable<number>): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    const missing: number[] = [];
    for (const i of wanted) {
      const mem = this.inMemory(i);
      if (mem) out.set(i, mem);
      else missing.push(i);
    }
    if (missing.length === 0) return out;
    let tx: IDBTransaction;
    try {
      tx = this.db.transaction(CHUNKS, 'readonly');
    } catch (e) {
      throw new BackendError('io', `IndexedDB image ${this.record.id}: ${(e as Error).message}`);
    }
    const store = tx.objectStore(CHUNKS);
    const fetched = await Promise.all(missing.map((i) => requestResult(store.get(chunkKey(this.record.id, i)) as IDBRequest<Uint8Array | ArrayBuffer | undefined>)));
    missing.forEach((i, k) => {
      const mem = this.inMemory(i);
      if (mem) return out.set(i, mem); // a write that raced this fetch wins
      const v = fetched[k];
      if (!v) return;
      const chunk = v instanceof Uint8Array ? v : new Uint8Array(v);
      this.remember(i, chunk);
      out.set(i, chunk);
    });
    return out;
  }

  private inMemory(i: number): Uint8Array | undefined {
    return this.dirty.get(i) ?? this.committing.get(i) ?? this.cache.get(i);
  }
  private remember(i: number, chunk: Uint8Array): void {
    this.cache.delete(i);
    this.cache.set(i, chunk);
    if (this.cache.size > CACHE_CHUNKS) this.cache.delete(this.cache.keys().next().value!);
  }

  private checkLive(): void {
    if (this.disposed) throw new BackendError('disposed', `IndexedDB image ${this.record.id}: used after dispose()`);
  }
}

function* range(first: number, last: number): Iterable<number> {
  for (let i = first; i <= last; i++) yield i;
}
