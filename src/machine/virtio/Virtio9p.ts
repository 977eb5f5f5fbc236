/**
 * virtio-9p (device ID 9, the 9P transport as QEMU and Linux's 9pnet_virtio implement it):
 * one request queue carrying 9P
 * messages to a file server (NinePServer over a shared folder). Each chain holds one
 * T-message in its device-readable buffers and room for the R-message in its
 * device-writable ones; Linux's zero-copy path splits either over several buffers (the
 * header, then the user's pages), so a message is gathered and a reply scattered as one
 * byte stream across them.
 *
 * As with virtio-blk, a request is taken from the ring between slices and copied out of
 * guest RAM then; the server works on it in the background; the CompletionScheduler decides
 * when the guest sees the reply (in deterministic time a fixed instruction count after it was
 * taken), and only then is it copied into guest RAM and the chain returned.
 *
 * Configuration space: tag_len u16, then the mount tag's bytes (VIRTIO_9P_MOUNT_TAG), which
 * the guest names in `mount -t 9p TAG`.
 */
import type { CompletionScheduler } from './CompletionScheduler.ts';
import type { DescriptorChain, Virtqueue } from './Virtqueue.ts';
import type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
import { VIRTIO_F_VERSION_1 } from './VirtioMmioTransport.ts';

export const VIRTIO_ID_9P = 9;
/** The configuration space holds a mount tag. */
export const VIRTIO_9P_MOUNT_TAG = 1n << 0n;
/** The tag every romvisor share carries; the appliances' init mounts it at /mnt/host. */
export const DEFAULT_MOUNT_TAG = 'host';
/** Linux reads the tag into a buffer of this size (MAX_TAG_LEN is 32 bytes with its NUL). */
const MAX_TAG_BYTES = 31;
/**
 * Linux's zero-copy reads and writes put up to ~128 page buffers in one chain and do not use
 * indirect descriptors, so the ring must be larger than that to hold more than one request.
 */
const DEFAULT_QUEUE_SIZE = 1024;
/** Request bytes copied out of guest RAM and not yet answered, before chains are left in the ring. */
const MAX_INFLIGHT_BYTES = 16 * 1024 * 1024;
/** The smallest reply: an Rlerror (size, type, tag, ecode). */
const RLERROR_BYTES = 11;

/** The file server behind the device: NinePServer, or anything that answers 9P messages. */
export interface NinePHandler {
  /** The most bytes of a request worth reading; a longer one is refused by the handler itself. */
  readonly maxRequestBytes: number;
  /** The reply to `request`, at most `replyRoom` bytes; never rejects. */
  handle(request: Uint8Array, replyRoom: number): Promise<Uint8Array>;
  /** The driver reset the device: the session (its fids, open files) ends. */
  reset(): Promise<void>;
  /**
   * The session as data for a machine state (its requests all answered), or the reason it
   * cannot be: an open file's handle lives in the host, so a session with one is not saved.
   */
  captureSession?(): NinePSession | { unsavable: string };
  /** Puts a captured session back into a server that has none yet. */
  restoreSession?(s: NinePSession): void;
}

/** A 9P session between requests with no file open: the agreed msize and each fid's path. */
export interface NinePSession {
  msize: number;
  versioned: boolean;
  fids: { fid: number; path: string[] }[];
}

/** Running totals, for benchmarks and the inspector. */
export interface Virtio9pStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

export class Virtio9p implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_9P;
  readonly features = VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG;
  readonly queueSizes: readonly number[];
  readonly config: Uint8Array;
  readonly stats: Virtio9pStats = { requests: 0, bytesIn: 0, bytesOut: 0 };
  private inflightBytes = 0;

  constructor(
    readonly server: NinePHandler,
    private readonly scheduler: CompletionScheduler,
    opts: { tag?: string; queueSize?: number } = {},
  ) {
    const tag = new TextEncoder().encode(opts.tag ?? DEFAULT_MOUNT_TAG);
    if (tag.length === 0 || tag.length > MAX_TAG_BYTES) throw new RangeError(`virtio-9p: mount tag of ${tag.length} bytes; 1 to ${MAX_TAG_BYTES} fit`);
    this.config = new Uint8Array(2 + tag.length);
    this.config[0] = tag.length;
    this.config.set(tag, 2);
    this.queueSizes = [opts.queueSize ?? DEFAULT_QUEUE_SIZE];
  }

  reset(): void {
    // Replies in flight are dropped by the epoch check; the server ends the session after them.
    void this.server.reset();
  }

  process(index: number, queue: Virtqueue, host: VirtioDeviceHost): boolean {
    return queue.takeWhile(() => this.inflightBytes >= MAX_INFLIGHT_BYTES, (chain) => this.start(index, chain, host));
  }

  private start(queueIndex: number, chain: DescriptorChain, host: VirtioDeviceHost): void {
    const mem = host.memory;
    const epoch = host.epoch;
    // Copied when taken, as virtio-blk copies a write; beyond what the server takes, only
    // the header is read, so that it can still answer with the request's tag.
    const bytes = Math.min(chain.readableBytes, Math.max(this.server.maxRequestBytes, 7));
    const request = mem.gather(chain.readable, 0, bytes);
    this.inflightBytes += bytes;
    this.stats.requests++;
    this.stats.bytesOut += bytes;
    const room = chain.writableBytes;
    const work = room < RLERROR_BYTES ? Promise.resolve(new Uint8Array(0)) : this.server.handle(request, room);
    this.scheduler.submit(host.now, work, (r) => {
      this.inflightBytes -= bytes;
      if (epoch !== host.epoch) return;
      // The handler never rejects; a reply that is missing or too long is not written.
      const reply = r.ok && r.value.length <= room ? r.value : new Uint8Array(0);
      mem.scatter(chain.writable, reply);
      this.stats.bytesIn += reply.length;
      host.putUsed(queueIndex, chain.head, reply.length, epoch);
    });
  }
}
