/**
 * A read-only `BlockBackend` over a VHD on a web server, read lazily by HTTP Range: a read
 * fetches only the chunks (the index's fixed-size pieces of the file) it touches and that
 * are neither in memory nor in the chunk store. Every chunk is checked against the index's
 * sha256 before any byte of it is handed out, whether it came from the network or the
 * store, so a file that changed on the server (or a damaged store) can never feed the
 * guest: the read rejects with a RepoError naming the chunk and the sha256 the index
 * expects, and so does every read after it (`failure`), so the runner can stop the VM.
 *
 * Fetching: the missing chunks of one read that lie side by side go in one request
 * (bytes=a-b); reads that arrive together share requests for the same chunk; at most
 * `maxInFlight` requests run at once. A server that ignores Range (answers 200 with the
 * whole file) gets one full download instead, verified chunk by chunk as it arrives,
 * and then serves every read.
 *
 * Works in the browser (fetch, crypto.subtle) and in node; the chunk store is the
 * caller's (files under the data directory in the CLI, IndexedDB in the page).
 */
import { BackendError } from '../disk/BackendError.ts';
import type { BlockBackend } from '../disk/BlockBackend.ts';
import { fetchFailure, type FetchLike } from './fetchRepositoryIndex.ts';
import { RepoError } from './RepoError.ts';
import { chunkName, chunkRange, type RepositoryVersion } from './RepositoryIndex.ts';
import { sha256Hex } from '../format/sha256.ts';

/** Verified chunks, by their sha256: content-addressed, so versions that share chunks share them here. */
export interface ChunkStore {
  get(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  /** How many of the file's distinct chunks the store keeps, of how many (for "available offline"). */
  coverage?(): Promise<{ kept: number; of: number }>;
}

export interface RemoteDiskStats {
  /** Response body bytes received. */
  fetchedBytes: number;
  requests: number;
  /** Chunks served from the store (verified again), and their bytes. */
  storeChunks: number;
  storeBytes: number;
  /** Chunks fetched and verified. */
  fetchedChunks: number;
  /** The server ignored Range: the file came in one download. */
  fullDownload: boolean;
  /** Verified chunks the store refused to keep. */
  storeFailures: number;
}

/** Figures before anything was read. */
export function noRemoteDiskStats(): RemoteDiskStats {
  return { fetchedBytes: 0, requests: 0, storeChunks: 0, storeBytes: 0, fetchedChunks: 0, fullDownload: false, storeFailures: 0 };
}

/** Adds `s` into `sum`: the figures of several files (a patch and its parents) as one. */
export function addRemoteDiskStats(sum: RemoteDiskStats, s: RemoteDiskStats): void {
  sum.fetchedBytes += s.fetchedBytes;
  sum.requests += s.requests;
  sum.storeChunks += s.storeChunks;
  sum.storeBytes += s.storeBytes;
  sum.fetchedChunks += s.fetchedChunks;
  sum.fullDownload ||= s.fullDownload;
  sum.storeFailures += s.storeFailures;
}

export interface RemoteChunkOptions {
  /** The file's URL (the index's URL resolved). */
  url: URL;
  version: RepositoryVersion;
  store?: ChunkStore;
  fetch?: FetchLike;
  /** Requests at once (default 4). */
  maxInFlight?: number;
  /** Most bytes one request asks for (default 2 MiB). */
  maxRequestBytes?: number;
  /** Verified chunks kept in memory (default 256); more are read back from the store. */
  memoryChunks?: number;
  /** After each response: what has been fetched so far. */
  onProgress?: (stats: RemoteDiskStats) => void;
}

/** Tries per request, the first pause between them, and how long one may take to answer. */
const ATTEMPTS = 3;
const RETRY_MS = 250;
const REQUEST_TIMEOUT_MS = 30_000;

export class RemoteChunkBackend implements BlockBackend {
  readonly readOnly = true;
  readonly stats: RemoteDiskStats = noRemoteDiskStats();
  /** The first chunk that failed verification (or the fetch that failed): every read after it rejects with it. */
  failure?: RepoError;
  private readonly version: RepositoryVersion;
  private readonly memory = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Promise<Uint8Array>>();
  private readonly fetchFn: FetchLike;
  private readonly maxInFlight: number;
  private readonly maxRequestBytes: number;
  private readonly memoryChunks: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private fullDownload?: Promise<void>;
  private disposed = false;

  constructor(private readonly opts: RemoteChunkOptions) {
    this.version = opts.version;
    this.fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxRequestBytes = Math.max(opts.maxRequestBytes ?? 2 * 2 ** 20, this.version.chunkSize);
    this.memoryChunks = opts.memoryChunks ?? 256;
  }

  get size(): number {
    return this.version.size;
  }

  get name(): string {
    return this.opts.url.href;
  }

  /** Where verified chunks are kept, if anywhere. */
  get store(): ChunkStore | undefined {
    return this.opts.store;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkLive();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new BackendError('out-of-range', `${this.name}: read of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.size} bytes`, offset);
    }
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const cs = this.version.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    const chunks = await this.chunks(first, last);
    // Checked again after the wait: a chunk of another read may have failed meanwhile.
    if (this.failure) throw this.failure;
    for (let i = first; i <= last; i++) {
      const c = chunks[i - first]!;
      const start = i * cs;
      const from = Math.max(offset, start);
      const to = Math.min(offset + length, start + c.length);
      out.set(c.subarray(from - start, to - start), from - offset);
    }
    return out;
  }

  async write(offset: number, _data: Uint8Array): Promise<void> {
    this.checkLive();
    throw new BackendError('read-only', `${this.name}: write at 0x${offset.toString(16)} refused, a repository's disk is read-only`, offset);
  }

  async settle(): Promise<void> {
    this.checkLive();
  }

  async flush(): Promise<void> {
    this.checkLive();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.memory.clear();
  }

  /**
   * Fetches every chunk the store lacks (the "make available offline" action); resolves
   * when all of them are verified and stored.
   */
  async fetchAll(): Promise<void> {
    const n = this.version.chunks.length;
    const step = Math.max(1, Math.floor(this.maxRequestBytes / this.version.chunkSize));
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += step) all.push(this.chunks(i, Math.min(n, i + step) - 1));
    await Promise.all(all);
    if (this.failure) throw this.failure;
  }

  /** Chunks first..last, verified, in order. */
  private async chunks(first: number, last: number): Promise<Uint8Array[]> {
    if (this.failure) throw this.failure;
    const got: (Uint8Array | Promise<Uint8Array> | undefined)[] = [];
    const missing: number[] = [];
    for (let i = first; i <= last; i++) {
      const m = this.memory.get(i);
      if (m) {
        // Most recently used last, so eviction takes the oldest.
        this.memory.delete(i);
        this.memory.set(i, m);
        got.push(m);
        continue;
      }
      const p = this.pending.get(i);
      if (p) {
        got.push(p);
        continue;
      }
      got.push(undefined);
      missing.push(i);
    }
    // Registered before the first await, so a read arriving meanwhile waits for these
    // instead of asking for the same chunks again.
    for (const run of this.runs(missing)) {
      const loading = this.loadRun(run);
      for (const i of run) {
        const p = loading.then((chunks) => chunks.get(i)!);
        // A failure is seen by whoever awaits the read; the pending entry itself must not reject unobserved.
        p.catch(() => undefined);
        this.pending.set(i, p);
        got[i - first] = p;
        void p.then(
          () => this.pending.delete(i),
          () => this.pending.delete(i),
        );
      }
    }
    return Promise.all(got as (Uint8Array | Promise<Uint8Array>)[]);
  }

  /** Chunks of one run: those the store has, the rest fetched in runs of their own. */
  private async loadRun(run: number[]): Promise<Map<number, Uint8Array>> {
    const stored = await Promise.all(run.map((i) => this.fromStore(i)));
    const out = new Map<number, Uint8Array>();
    for (const [k, i] of run.entries()) if (stored[k]) out.set(i, stored[k]);
    const fetched = await Promise.all(this.runs(run.filter((_, k) => !stored[k])).map((r) => this.fetchRun(r[0]!, r.at(-1)!)));
    for (const m of fetched) for (const [i, c] of m) out.set(i, c);
    return out;
  }

  /** Neighbouring chunk numbers grouped into runs of at most maxRequestBytes. */
  private runs(indices: number[]): number[][] {
    const perRun = Math.max(1, Math.floor(this.maxRequestBytes / this.version.chunkSize));
    const out: number[][] = [];
    for (const i of indices) {
      const run = out.at(-1);
      if (run && run.at(-1)! + 1 === i && run.length < perRun) run.push(i);
      else out.push([i]);
    }
    return out;
  }

  private async fromStore(i: number): Promise<Uint8Array | undefined> {
    const want = this.version.chunks[i]!;
    const bytes = await this.opts.store?.get(want);
    if (!bytes) return undefined;
    // The store is on the user's disk: checked like the network's bytes, and refetched if damaged.
    const { start, end } = chunkRange(this.version, i);
    if (bytes.length !== end - start || (await sha256Hex(bytes)) !== want) return undefined;
    this.stats.storeChunks++;
    this.stats.storeBytes += bytes.length;
    this.remember(i, bytes);
    return bytes;
  }

  /** Fetches chunks first..last in one Range request (or waits for the full download). */
  private async fetchRun(first: number, last: number): Promise<Map<number, Uint8Array>> {
    await this.slot();
    try {
      if (this.fullDownload) {
        await this.fullDownload;
        return this.collect(first, last);
      }
      const start = chunkRange(this.version, first).start;
      const end = chunkRange(this.version, last).end;
      const res = await this.request({ Range: `bytes=${start}-${end - 1}` });
      if (res.status === 200) {
        // The server ignores Range: this response is the whole file. It becomes the one
        // download, unless another request's 200 already is.
        if (this.fullDownload) await res.body?.cancel();
        this.fullDownload ??= this.download(res);
        await this.fullDownload;
        return this.collect(first, last);
      }
      if (res.status !== 206) throw this.fail(new RepoError('fetch-failed', `${this.name}: HTTP ${res.status} ${res.statusText} for bytes ${start}-${end - 1}`.trimEnd(), this.name));
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== start || Number(range[2]) !== end - 1) {
        throw this.fail(new RepoError('fetch-failed', `${this.name}: asked for bytes ${start}-${end - 1}, the server sent ${res.headers.get('content-range') ?? 'no Content-Range'}`, this.name));
      }
      const body = new Uint8Array(await res.arrayBuffer());
      this.stats.fetchedBytes += body.length;
      if (body.length !== end - start) throw this.fail(new RepoError('fetch-failed', `${this.name}: bytes ${start}-${end - 1}: the server sent ${body.length} bytes`, this.name));
      const out = new Map<number, Uint8Array>();
      for (let i = first; i <= last; i++) {
        const r = chunkRange(this.version, i);
        out.set(i, await this.accept(i, body.slice(r.start - start, r.end - start)));
      }
      this.opts.onProgress?.(this.stats);
      return out;
    } finally {
      this.release();
    }
  }

  /**
   * One request, tried again after a network failure, a timeout or a 5xx answer (a server
   * restarting, a dropped connection): ATTEMPTS in all, RETRY_MS apart and doubling. Bytes
   * that arrive but do not verify are never retried: they are wrong, not late.
   */
  private async request(headers: Record<string, string>): Promise<Response> {
    let why = '';
    let answered = false;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, RETRY_MS * 2 ** (attempt - 1)));
      this.stats.requests++;
      // The time limit is on the answer's headers only: a whole-file download may take long.
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new DOMException(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`, 'TimeoutError')), REQUEST_TIMEOUT_MS);
      try {
        const res = await this.fetchFn(this.name, { headers, redirect: 'follow', signal: ctl.signal }).finally(() => clearTimeout(timer));
        if (res.status < 500) return res;
        why = `HTTP ${res.status} ${res.statusText}`.trimEnd();
        answered = true;
        await res.body?.cancel();
      } catch (e) {
        why = (e as Error).name === 'TimeoutError' ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s` : fetchFailure(e);
        answered = false;
      }
    }
    // The last try says which: an answer with an error status, or none at all.
    throw this.fail(new RepoError(answered ? 'fetch-failed' : 'no-answer', `${this.name}: cannot reach ${this.opts.url.host} (${why}; tried ${ATTEMPTS} times)`, this.name));
  }

  /** Reads a 200 response (the whole file) chunk by chunk, verifying and keeping each. */
  private async download(res: Response): Promise<void> {
    this.stats.fullDownload = true;
    if (!res.body) throw this.fail(new RepoError('fetch-failed', `${this.name}: the server sent no body`, this.name));
    const cs = this.version.chunkSize;
    let buf = new Uint8Array(cs);
    let fill = 0;
    let index = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      this.stats.fetchedBytes += value.length;
      for (let at = 0; at < value.length; ) {
        if (index >= this.version.chunks.length) {
          throw this.fail(new RepoError('size-mismatch', `${this.name}: the server sent more than the ${this.size} bytes the index says`, this.name));
        }
        const want = chunkRange(this.version, index);
        const take = Math.min(want.end - want.start - fill, value.length - at);
        buf.set(value.subarray(at, at + take), fill);
        fill += take;
        at += take;
        if (fill === want.end - want.start) {
          await this.accept(index, buf.slice(0, fill));
          index++;
          fill = 0;
          buf = new Uint8Array(cs);
          this.opts.onProgress?.(this.stats);
        }
      }
    }
    if (index < this.version.chunks.length) {
      throw this.fail(new RepoError('size-mismatch', `${this.name}: the server sent ${this.stats.fetchedBytes} bytes, the index says ${this.size}`, this.name));
    }
  }

  /** Verifies chunk i; keeps and stores it, or fails the backend naming it. */
  private async accept(i: number, bytes: Uint8Array): Promise<Uint8Array> {
    const want = this.version.chunks[i]!;
    const got = await sha256Hex(bytes);
    if (got !== want) {
      throw this.fail(new RepoError('sha256-mismatch', `${chunkName(this.version, i)} at ${this.name}: sha256 is ${got}, the repository index expects ${want} (the file changed on the server)`, chunkName(this.version, i)));
    }
    this.stats.fetchedChunks++;
    this.remember(i, bytes);
    try {
      await this.opts.store?.put(want, bytes);
    } catch {
      // A store that cannot keep it (full, say) costs a refetch later, never this read.
      this.stats.storeFailures++;
    }
    return bytes;
  }

  /** Chunks first..last after the full download: from memory, else the store. */
  private async collect(first: number, last: number): Promise<Map<number, Uint8Array>> {
    if (this.failure) throw this.failure;
    const out = new Map<number, Uint8Array>();
    for (let i = first; i <= last; i++) {
      const c = this.memory.get(i) ?? (await this.fromStore(i));
      if (!c) throw this.fail(new RepoError('fetch-failed', `${chunkName(this.version, i)}: downloaded but no longer held (no chunk store to keep it)`, this.name));
      out.set(i, c);
    }
    return out;
  }

  private remember(i: number, bytes: Uint8Array): void {
    this.memory.set(i, bytes);
    // Without a store the full download must stay in memory: nothing else holds it. A chunk
    // read by range and evicted is fetched again if read again.
    if ((this.opts.store || !this.stats.fullDownload) && this.memory.size > this.memoryChunks) this.memory.delete(this.memory.keys().next().value!);
  }

  private fail(e: RepoError): RepoError {
    this.failure ??= e;
    return this.failure;
  }

  private async slot(): Promise<void> {
    while (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private checkLive(): void {
    if (this.disposed) throw new BackendError('disposed', `${this.name}: used after dispose()`);
  }
}
