/**
 * What a VM's remote disks (repository images read by range) have cost it so far, for the
 * page's readout: bytes and requests that went to the network, chunks read back from the
 * local copy, and whether every chunk of every remote image is kept (available offline).
 *
 * One meter per VM sums every RemoteChunkBackend its disk chain opens: a patch over its
 * base is two files, and a snapshot reopens the chain, so one file may have several
 * backends over a run (its figures add up; its size counts once). The listener hears a
 * readout at most once per `intervalMs` and only when something changed: a boot reads
 * thousands of chunks, the page needs a few numbers a second.
 */
import { formatBytes } from '../format/formatBytes.ts';
import { addRemoteDiskStats, noRemoteDiskStats, type ChunkStore, type RemoteChunkBackend, type RemoteDiskStats } from './RemoteChunkBackend.ts';

export interface RemoteDiskReadout {
  /** Response bytes received from the servers, and the requests that asked for them. */
  fetchedBytes: number;
  requests: number;
  /** Chunks read back from the local copy (each verified again), and their bytes. */
  storeChunks: number;
  storeBytes: number;
  /** The remote files' sizes together. */
  imageBytes: number;
  /** Every chunk of every remote file is in the local copy: nothing more needs the network. */
  offline: boolean;
  /** A server ignored Range: its file came in one download. */
  fullDownload: boolean;
}

/** Ticks between two looks at a store whose file fetched nothing meanwhile. */
const RECHECK_TICKS = 10;

interface MeteredFile {
  size: number;
  stats: RemoteDiskStats[];
  store?: ChunkStore;
  offline: boolean;
  /** Chunks this file had fetched when its coverage was last asked (asked again when it grows). */
  checkedAt: number;
}

export class RemoteDiskMeter {
  private readonly files = new Map<string, MeteredFile>();
  private readonly timer: ReturnType<typeof setInterval>;
  private last = '';
  private checking = false;
  private ticks = 0;

  constructor(
    private readonly listener: (readout: RemoteDiskReadout) => void,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** Counts `backend` from now on. */
  watch(backend: RemoteChunkBackend): void {
    let file = this.files.get(backend.name);
    if (!file) {
      file = { size: backend.size, stats: [], store: backend.store, offline: false, checkedAt: -1 };
      this.files.set(backend.name, file);
    }
    file.stats.push(backend.stats);
  }

  /** The figures now. */
  readout(): RemoteDiskReadout {
    const sum = noRemoteDiskStats();
    let imageBytes = 0;
    let offline = this.files.size > 0;
    for (const f of this.files.values()) {
      imageBytes += f.size;
      offline &&= f.offline;
      for (const s of f.stats) addRemoteDiskStats(sum, s);
    }
    const { fetchedBytes, requests, storeChunks, storeBytes, fullDownload } = sum;
    return { fetchedBytes, requests, storeChunks, storeBytes, imageBytes, offline, fullDownload };
  }

  /** Tells the listener the figures now if they changed since it last heard (a VM stopping). */
  flush(): void {
    if (this.files.size === 0) return;
    const r = this.readout();
    const key = JSON.stringify(r);
    if (key === this.last) return;
    this.last = key;
    this.listener(r);
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    this.ticks++;
    this.flush();
    void this.checkCoverage();
  }

  /**
   * Asks each store how much of its file it keeps, when the file fetched something since it
   * last asked, and every RECHECK_TICKS anyway (the page's "make available offline" fills
   * the store beside this VM); a file kept whole stays so. One count per file, not per chunk.
   */
  private async checkCoverage(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const f of this.files.values()) {
        const fetched = f.stats.reduce((n, s) => n + s.fetchedChunks, 0);
        if (f.offline || !f.store?.coverage || (fetched === f.checkedAt && this.ticks % RECHECK_TICKS !== 0)) continue;
        f.checkedAt = fetched;
        const c = await f.store.coverage().catch(() => undefined);
        if (c) f.offline = c.kept >= c.of;
      }
    } finally {
      this.checking = false;
    }
  }
}

/**
 * The readout as one line, the same on the VM card and in the management console:
 * what went over the network of how much, or that nothing did and why.
 */
export function describeRemoteDisk(r: RemoteDiskReadout): string {
  const local = r.storeBytes > 0 ? `${formatBytes(r.storeBytes)} read from this browser's copy` : '';
  if (r.fetchedBytes === 0) {
    if (r.offline) return `disk: available offline, nothing fetched${local ? ` (${local})` : ''}`;
    if (r.storeBytes > 0) return `disk: all read from this browser's copy (${formatBytes(r.storeBytes)}), nothing fetched`;
    return `disk: nothing fetched yet (${formatBytes(r.imageBytes)} on the server, read as the guest needs it)`;
  }
  const pct = Math.round((r.fetchedBytes / r.imageBytes) * 100);
  const parts = [`disk: ${formatBytes(r.fetchedBytes)} fetched of ${formatBytes(r.imageBytes)} (${pct} %), ${r.requests} request${r.requests === 1 ? '' : 's'}`];
  if (r.fullDownload) parts.push('the server ignores Range: the whole file came at once');
  if (local) parts.push(local);
  if (r.offline) parts.push('now available offline');
  return parts.join(' · ');
}
