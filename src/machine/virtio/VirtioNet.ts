/**
 * virtio-net (virtio 1.x §5.1): one receive and one transmit queue, a MAC address, the link
 * status, and no offloads. What the guest transmits goes to `onTransmit` as an Ethernet
 * frame as soon as the transport hands the queue over (between slices, right after the
 * kick). Frames for the guest arrive through `receive`, which the host calls only between
 * runs (never inside the core): it fills a buffer the driver left on the receiveq and
 * interrupts, or waits in a bounded queue until the driver leaves one; past that bound
 * frames are dropped and counted, as a real card's FIFO would.
 *
 * Every buffer starts with the 12-byte virtio_net_hdr of VERSION_1 (§5.1.6):
 *   flags u8, gso_type u8, hdr_len u16, gso_size u16, csum_start u16, csum_offset u16,
 *   num_buffers u16
 * With no offloads negotiated the device writes a header of zeros and num_buffers 1 on
 * receive, and on transmit ignores what the driver put there.
 *
 * Every chain is checked by Virtqueue; a device-writable buffer on the transmitq or a
 * device-readable one on the receiveq is a hostile driver: DEVICE_NEEDS_RESET. A transmit
 * frame shorter than an Ethernet header or longer than MAX_FRAME_BYTES is dropped and
 * counted: the driver's chain goes back, the host never sees the bytes.
 */
import type { Virtqueue } from './Virtqueue.ts';
import type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
import { VirtioError } from './VirtioError.ts';
import { VIRTIO_F_VERSION_1 } from './VirtioMmioTransport.ts';
import { formatMac } from '../../format/formatMac.ts';

export const VIRTIO_ID_NET = 1;
/** Feature bits (§5.1.3): the configuration space holds the MAC; and the link status. */
export const VIRTIO_NET_F_MAC = 1n << 5n;
export const VIRTIO_NET_F_STATUS = 1n << 16n;
/** config.status bit: the link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** Queue indices (§5.1.2), without multiqueue or a control queue. */
export const NET_RECEIVEQ = 0;
export const NET_TRANSMITQ = 1;
/** The virtio_net_hdr of VERSION_1, num_buffers included. */
export const NET_HDR_BYTES = 12;
/** Destination and source MAC and EtherType. */
export const ETHERNET_HEADER_BYTES = 14;
/** The largest frame without GSO: 1500 bytes of payload, the header, and a VLAN tag. */
export const MAX_FRAME_BYTES = 1518;
/**
 * Frames waiting for receive buffers, at most. A guest that stops reading (or a flood
 * from another) cannot make the host hold more than this many per card.
 */
export const RX_QUEUE_FRAMES = 1024;

/**
 * Configuration space (§5.1.4) up to the fields offered: mac[6] @0, status u16 @6.
 * max_virtqueue_pairs (@8) and mtu (@10) exist only with MQ and MTU, not offered.
 */
const CONFIG_BYTES = 8;
const DEFAULT_QUEUE_SIZE = 256;

export interface VirtioNetStats {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** Transmitted frames not passed on: shorter than an Ethernet header or longer than MAX_FRAME_BYTES. */
  txDropped: number;
  /** Frames for the guest dropped: the waiting queue was full, a buffer too small, or the driver not up. */
  rxDropped: number;
}

export interface VirtioNetOptions {
  /** QueueNumMax of both queues, a power of two (default 256). */
  queueSize?: number;
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly features = VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS;
  readonly queueSizes: readonly number[];
  readonly config = new Uint8Array(CONFIG_BYTES);
  readonly stats: VirtioNetStats = { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, txDropped: 0, rxDropped: 0 };
  /** Receives every frame the guest transmits (a copy it may keep). */
  onTransmit: ((frame: Uint8Array) => void) | undefined;
  private host: VirtioDeviceHost | undefined;
  /** Frames for the guest that found no receive buffer yet, oldest first. */
  private readonly waiting: Uint8Array[] = [];

  constructor(
    /** The card's MAC address, six bytes. */
    readonly mac: Uint8Array,
    opts: VirtioNetOptions = {},
  ) {
    if (mac.length !== 6) throw new RangeError(`virtio-net: a MAC address has 6 bytes, got ${mac.length}`);
    if (mac[0]! & 1) throw new RangeError(`virtio-net: MAC ${formatMac(mac)} is a multicast address`);
    const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queueSize) || queueSize < 2 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) {
      throw new RangeError(`virtio-net: queue size ${queueSize} is not a power of two from 2 to 32768`);
    }
    this.queueSizes = [queueSize, queueSize];
    this.config.set(mac, 0);
    new DataView(this.config.buffer).setUint16(6, VIRTIO_NET_S_LINK_UP, true);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  reset(): void {
    // What waited for the old driver's buffers is stale for the new one (a real card
    // flushes its FIFO on reset too).
    this.stats.rxDropped += this.waiting.length;
    this.waiting.length = 0;
  }

  /** What a machine state keeps: the frames waiting for receive buffers (copies). */
  captureState(): { waiting: Uint8Array[] } {
    return { waiting: this.waiting.map((f) => f.slice()) };
  }

  applyState(s: { waiting: Uint8Array[] }): void {
    this.waiting.length = 0;
    this.waiting.push(...s.waiting);
  }

  /** Frames waiting for the guest to leave receive buffers. */
  get waitingFrames(): number {
    return this.waiting.length;
  }

  process(index: number, queue: Virtqueue, host: VirtioDeviceHost): boolean {
    if (index === NET_TRANSMITQ) {
      for (let chain = queue.pop(); chain; chain = queue.pop()) {
        if (chain.writable.length > 0) {
          throw new VirtioError('bad-descriptor', `virtio-net: transmit chain at descriptor ${chain.head} has a device-writable buffer`);
        }
        const length = chain.readableBytes - NET_HDR_BYTES;
        const frame = length >= ETHERNET_HEADER_BYTES && length <= MAX_FRAME_BYTES ? host.memory.gather(chain.readable, NET_HDR_BYTES, length) : undefined;
        host.putUsed(index, chain.head, 0, host.epoch);
        if (!frame) {
          this.stats.txDropped++;
          continue;
        }
        this.stats.txFrames++;
        this.stats.txBytes += length;
        this.onTransmit?.(frame);
      }
      return false;
    }
    // The driver left receive buffers: frames that waited for them go in now.
    this.fill(queue, host);
    return false;
  }

  /**
   * A frame for the guest: into a receive buffer now if the driver left one, else into the
   * bounded waiting queue (dropped and counted when it is full or the driver is not up).
   * Call only between runs of the guest. Returns whether the frame was kept.
   */
  receive(frame: Uint8Array): boolean {
    const host = this.host;
    if (!host || frame.length > MAX_FRAME_BYTES || this.waiting.length >= RX_QUEUE_FRAMES) {
      this.stats.rxDropped++;
      return false;
    }
    const queue = host.liveQueue(NET_RECEIVEQ);
    if (!queue) {
      // No driver, or one that was told to reset: the link partner's frames fall on the floor.
      this.stats.rxDropped++;
      return false;
    }
    this.waiting.push(frame);
    try {
      this.fill(queue, host);
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      host.fail(e);
    }
    return true;
  }

  /** Moves waiting frames into the receive buffers the driver made available. */
  private fill(queue: Virtqueue, host: VirtioDeviceHost): void {
    while (this.waiting.length > 0) {
      const chain = queue.pop();
      if (!chain) return;
      if (chain.readable.length > 0) {
        throw new VirtioError('bad-descriptor', `virtio-net: receive chain at descriptor ${chain.head} has a device-readable buffer`);
      }
      const frame = this.waiting.shift()!;
      if (chain.writableBytes < NET_HDR_BYTES + frame.length) {
        // Without MRG_RXBUF every buffer must hold a whole frame (§5.1.6.3.1); Linux gives
        // 1526 bytes or more. A smaller one goes back empty and the frame is lost.
        host.putUsed(NET_RECEIVEQ, chain.head, 0, host.epoch);
        this.stats.rxDropped++;
        continue;
      }
      const packet = new Uint8Array(NET_HDR_BYTES + frame.length);
      // flags, gso_type, hdr_len, gso_size, csum_start, csum_offset all 0; num_buffers 1.
      packet[10] = 1;
      packet.set(frame, NET_HDR_BYTES);
      host.memory.scatter(chain.writable, packet);
      host.putUsed(NET_RECEIVEQ, chain.head, packet.length, host.epoch);
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
    }
  }
}
