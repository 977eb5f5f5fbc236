/**
 * virtio-blk (virtio 1.x §5.2): one request queue over an asynchronous disk (a VhdDisk,
 * or any BlockBackend). A request is taken from the ring between slices: its header is
 * read and, for a write, its data copied out of guest RAM at that moment; the disk works
 * on it in the background; the CompletionScheduler decides when the guest sees the result,
 * and only then is read data copied into guest RAM, the status byte written, the chain
 * returned and the interrupt raised.
 *
 * Request layout (§5.2.6): device-readable header { type u32, reserved u32, sector u64 },
 * then data (readable for OUT, writable for IN), then one device-writable status byte.
 */
import type { BlockBackend } from '../../disk/index.ts';
import type { CompletionScheduler, WorkOutcome } from './CompletionScheduler.ts';
import type { DescriptorChain, Virtqueue } from './Virtqueue.ts';
import type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
import { VirtioError } from './VirtioError.ts';
import { VIRTIO_F_VERSION_1 } from './VirtioMmioTransport.ts';
import type { RamRange } from './GuestMemory.ts';

export const VIRTIO_ID_BLOCK = 2;

// Feature bits (§5.2.3).
export const VIRTIO_BLK_F_SEG_MAX = 1n << 2n;
export const VIRTIO_BLK_F_RO = 1n << 5n;
export const VIRTIO_BLK_F_BLK_SIZE = 1n << 6n;
export const VIRTIO_BLK_F_FLUSH = 1n << 9n;

// Request types and status values (§5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

const SECTOR = 512;
const HEADER_BYTES = 16;
/** GET_ID answers with at most this many bytes, not NUL-terminated when all are used. */
const ID_BYTES = 20;
/**
 * Configuration space (§5.2.4), the fields up to blk_size: capacity u64 @0, size_max u32
 * @8, seg_max u32 @12, geometry @16 (4 bytes), blk_size u32 @20.
 */
const CONFIG_BYTES = 24;
const DEFAULT_QUEUE_SIZE = 256;
/** One request moves at most this much; a larger one fails with IOERR (host memory guard). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/**
 * Data bytes in flight at once before the device leaves further chains in the ring until
 * some complete: a guest cannot make the host buffer more than about this much.
 */
const MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

/** The disk behind the device: a VhdDisk or a BlockBackend. Byte addressed, asynchronous. */
export type BlockDevice = Pick<BlockBackend, 'size' | 'readOnly' | 'read' | 'write' | 'flush'>;

export interface VirtioBlkOptions {
  /** Offer VIRTIO_BLK_F_RO and fail writes even if the disk would take them. */
  readOnly?: boolean;
  /** What GET_ID answers (up to 20 bytes of ASCII); default "romvisor". */
  serial?: string;
  /** QueueNumMax of the request queue, a power of two (default 256). */
  queueSize?: number;
}

/** Running totals, for benchmarks and the inspector. */
export interface VirtioBlkStats {
  reads: number;
  writes: number;
  flushes: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
}

/**
 * What the guest sees when a request completes, as data (a machine state holds those not
 * yet applied): the status byte at `statusAt`, read data scattered over `dataIn`, the chain
 * `head` returned on `queue` with `written` + 1 bytes, unless the device was reset since `epoch`.
 */
export interface BlkCompletion {
  queue: number;
  head: number;
  epoch: number;
  statusAt: number;
  status: number;
  /** Data bytes written into the chain (the status byte not counted). */
  written: number;
  /** Data bytes this request holds in flight (MAX_INFLIGHT_BYTES), released when applied. */
  inflight: number;
  data?: Uint8Array;
  dataIn?: RamRange[];
  bytesWritten?: number;
  /** The disk's error, for `onDiskError` (never in a machine state). */
  error?: unknown;
}

const withoutError = (c: BlkCompletion): BlkCompletion => {
  const { error: _error, ...rest } = c;
  return rest;
};

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly config = new Uint8Array(CONFIG_BYTES);
  readonly readOnly: boolean;
  readonly stats: VirtioBlkStats = { reads: 0, writes: 0, flushes: 0, bytesRead: 0, bytesWritten: 0, errors: 0 };
  /** Called with every error the disk rejected a request with (the guest sees IOERR). */
  onDiskError: ((error: unknown) => void) | undefined;
  /**
   * Errors the disk recovers from once the host acts (a full storage quota): a request that
   * meets one is not failed but waits, `onStall` is told, and `retryStalled()` tries again.
   * The guest never sees the error, so nothing it wrote is lost.
   */
  isRetryable: ((error: unknown) => boolean) | undefined;
  onStall: ((error: unknown) => void) | undefined;
  private stalled: (() => void)[] = [];
  private host: VirtioDeviceHost | undefined;
  /** What GET_ID answers. */
  readonly serial: Uint8Array;
  private inflightBytes = 0;

  constructor(
    readonly disk: BlockDevice,
    private readonly scheduler: CompletionScheduler,
    opts: VirtioBlkOptions = {},
  ) {
    const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queueSize) || queueSize < 4 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) {
      throw new RangeError(`virtio-blk: queue size ${queueSize} is not a power of two from 4 to 32768`);
    }
    this.queueSizes = [queueSize];
    this.readOnly = (opts.readOnly ?? false) || disk.readOnly;
    this.features = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH | (this.readOnly ? VIRTIO_BLK_F_RO : 0n);
    const v = new DataView(this.config.buffer);
    const sectors = Math.floor(disk.size / SECTOR);
    v.setUint32(0, sectors % 0x1_0000_0000, true);
    v.setUint32(4, Math.floor(sectors / 0x1_0000_0000), true);
    // Without indirect descriptors a request spends one descriptor each on header and status.
    v.setUint32(12, queueSize - 2, true);
    v.setUint32(20, SECTOR, true);
    this.serial = new TextEncoder().encode((opts.serial ?? 'romvisor').slice(0, ID_BYTES));
  }

  /** Capacity in 512-byte sectors, as the configuration space says. */
  get capacity(): number {
    return Math.floor(this.disk.size / SECTOR);
  }

  reset(): void {
    // In-flight requests finish against the disk but are dropped by the epoch check.
  }

  process(index: number, queue: Virtqueue, host: VirtioDeviceHost): boolean {
    return queue.takeWhile(() => this.inflightBytes >= MAX_INFLIGHT_BYTES, (chain) => this.start(index, chain, host));
  }

  private start(queueIndex: number, chain: DescriptorChain, host: VirtioDeviceHost): void {
    const mem = host.memory;
    // The status byte is the last byte of the last device-writable buffer.
    const last = chain.writable[chain.writable.length - 1];
    if (!last || last.length === 0) {
      throw new VirtioError('no-status', `virtio-blk: request at descriptor ${chain.head} has no device-writable status byte`);
    }
    const statusAt = last.offset + last.length - 1;
    const dataIn: RamRange[] = chain.writable.slice(0, -1);
    if (last.length > 1) dataIn.push({ offset: last.offset, length: last.length - 1 });
    const dataInBytes = chain.writableBytes - 1;
    const request = { queue: queueIndex, head: chain.head, epoch: host.epoch, statusAt };
    const now = host.now;

    // Requests that need no disk still complete through the scheduler, in order with the rest.
    const answer = (status: number, written = 0) => this.submit(now, Promise.resolve(), () => ({ ...request, status, written, inflight: 0 }));

    if (chain.readableBytes < HEADER_BYTES) return answer(VIRTIO_BLK_S_IOERR);
    const header = mem.gather(chain.readable, 0, HEADER_BYTES);
    const hv = new DataView(header.buffer);
    const type = hv.getUint32(0, true);
    const sector = hv.getUint32(12, true) * 0x1_0000_0000 + hv.getUint32(8, true);
    const dataOutBytes = chain.readableBytes - HEADER_BYTES;

    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const offset = this.checkRange(sector, dataInBytes);
        if (offset === undefined || dataOutBytes !== 0) return answer(VIRTIO_BLK_S_IOERR);
        this.inflightBytes += dataInBytes;
        this.stats.reads++;
        const work = dataInBytes === 0 ? Promise.resolve(new Uint8Array(0)) : this.persist(() => this.disk.read(offset, dataInBytes));
        return this.submit(now, work, (r) =>
          r.ok
            ? { ...request, status: VIRTIO_BLK_S_OK, written: dataInBytes, inflight: dataInBytes, data: r.value, dataIn }
            : { ...request, status: VIRTIO_BLK_S_IOERR, written: 0, inflight: dataInBytes, error: r.error },
        );
      }
      case VIRTIO_BLK_T_OUT: {
        const offset = this.checkRange(sector, dataOutBytes);
        if (offset === undefined || this.readOnly) return answer(VIRTIO_BLK_S_IOERR);
        // Copied when the request is taken, a point the machine decides; the driver leaves
        // the buffers alone until it sees the completion, so later copies would read the same.
        const data = mem.gather(chain.readable, HEADER_BYTES, dataOutBytes);
        this.inflightBytes += dataOutBytes;
        this.stats.writes++;
        const work = dataOutBytes === 0 ? Promise.resolve() : this.persist(() => this.disk.write(offset, data));
        return this.submit(now, work, (r) =>
          r.ok
            ? { ...request, status: VIRTIO_BLK_S_OK, written: 0, inflight: dataOutBytes, bytesWritten: dataOutBytes }
            : { ...request, status: VIRTIO_BLK_S_IOERR, written: 0, inflight: dataOutBytes, error: r.error },
        );
      }
      case VIRTIO_BLK_T_FLUSH: {
        this.stats.flushes++;
        return this.submit(now, this.persist(() => this.disk.flush()), (r) =>
          r.ok ? { ...request, status: VIRTIO_BLK_S_OK, written: 0, inflight: 0 } : { ...request, status: VIRTIO_BLK_S_IOERR, written: 0, inflight: 0, error: r.error },
        );
      }
      case VIRTIO_BLK_T_GET_ID: {
        const id = new Uint8Array(Math.min(ID_BYTES, dataInBytes));
        id.set(this.serial.subarray(0, id.length));
        return this.submit(now, Promise.resolve(), () => ({ ...request, status: VIRTIO_BLK_S_OK, written: id.length, inflight: 0, data: id, dataIn }));
      }
      default:
        return answer(VIRTIO_BLK_S_UNSUPP);
    }
  }

  /**
   * Hands work to the scheduler. What the guest will see is a BlkCompletion computed from
   * the work's outcome: data, so that a machine state can hold a completion not yet applied.
   */
  private submit<T>(now: bigint, work: Promise<T>, result: (outcome: WorkOutcome<T>) => BlkCompletion): void {
    this.scheduler.submit(now, work, (r) => this.finish(result(r)), (r) => ({ owner: this, record: withoutError(result(r)) }));
  }

  /** Applies a completion: read data and the status byte into guest RAM, the chain to the used ring. */
  private finish(c: BlkCompletion): void {
    this.inflightBytes -= c.inflight;
    if (c.error !== undefined) this.onDiskError?.(c.error);
    if (c.status !== VIRTIO_BLK_S_OK) this.stats.errors++;
    if (c.bytesWritten) this.stats.bytesWritten += c.bytesWritten;
    const host = this.host;
    if (!host || c.epoch !== host.epoch) return;
    if (c.data && c.dataIn) {
      host.memory.scatter(c.dataIn, c.data);
      this.stats.bytesRead += c.data.length;
    }
    host.memory.setU8(c.statusAt, c.status);
    host.putUsed(c.queue, c.head, c.written + 1, c.epoch);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  /** A completion from a machine state (validated by src/state) back into the scheduler, due at `due`. */
  restoreCompletion(due: bigint, record: BlkCompletion): void {
    this.inflightBytes += record.inflight;
    this.scheduler.restore(due, () => this.finish(record), () => ({ owner: this, record }));
  }

  /** The disk byte offset of `bytes` at `sector`, or undefined if the request is malformed or out of range. */
  private checkRange(sector: number, bytes: number): number | undefined {
    if (bytes % SECTOR !== 0 || bytes > MAX_REQUEST_BYTES) return undefined;
    if (sector > this.capacity || bytes / SECTOR > this.capacity - sector) return undefined;
    return sector * SECTOR;
  }

  /** Forgets the requests it had taken (their completions were dropped: the machine went back to an earlier state). */
  forgetInflight(): void {
    this.inflightBytes = 0;
    this.stalled = [];
  }

  /** Retries every request waiting on a retryable error (after the host freed space). */
  retryStalled(): void {
    const waiting = this.stalled;
    this.stalled = [];
    for (const go of waiting) go();
  }

  /** Runs a disk operation; a retryable failure waits for retryStalled() and runs it again. */
  private persist<T>(op: () => Promise<T>): Promise<T> {
    return op().catch((e: unknown) => {
      if (!this.isRetryable?.(e)) throw e;
      this.onStall?.(e);
      return new Promise<void>((resume) => this.stalled.push(resume)).then(() => this.persist(op));
    });
  }

}
