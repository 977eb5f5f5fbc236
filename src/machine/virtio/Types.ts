/**
 * The contracts between the virtio-mmio transport and the device types behind it
 * (virtio-blk, virtio-console).
 */
import type { GuestMemory } from './GuestMemory.ts';
import type { Virtqueue } from './Virtqueue.ts';

/** A virtio device type: what it offers, and what it does with buffers the driver made available. */
export interface VirtioDevice {
  /** Device ID (virtio 1.x §5): 2 = block. */
  readonly deviceId: number;
  /** Every feature bit the device offers, transport bits such as VIRTIO_F_VERSION_1 included. */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues. */
  readonly queueSizes: readonly number[];
  /** The device-specific configuration space, read by the driver at 0x100 + offset. */
  readonly config: Uint8Array;
  /**
   * The driver notified `queue`: take its chains with `queue.pop()` and start the work.
   * Called by the machine between instruction slices, never inside an MMIO callback.
   * Throwing a VirtioError marks the device DEVICE_NEEDS_RESET.
   * @returns true when chains were left in the ring (e.g. too much I/O in flight), so
   *   the transport calls again after later completions.
   */
  process(index: number, queue: Virtqueue, host: VirtioDeviceHost): boolean;
  /** The driver reset the device. Work still in flight must not touch guest memory afterwards. */
  reset(): void;
  /**
   * Called once by the transport it sits behind, for devices that act on their own (console
   * input, a configuration change) rather than only when the driver kicks a queue.
   */
  attach?(host: VirtioDeviceHost): void;
}

/** What the transport gives a device while it processes and completes requests. */
export interface VirtioDeviceHost {
  readonly memory: GuestMemory;
  /** Instructions the hart has executed: when the work was taken from the ring. */
  readonly now: bigint;
  /** Increases at every device reset; a completion from an older epoch is dropped. */
  readonly epoch: number;
  /**
   * Returns a chain to the driver through the used ring of `queue` and interrupts it,
   * unless the device was reset since `epoch` (then nothing is written; returns false).
   */
  putUsed(queue: number, head: number, written: number, epoch: number): boolean;
  /** Marks the device DEVICE_NEEDS_RESET and tells the driver (configuration change). */
  fail(error: Error): void;
  /**
   * Queue `index` while the device is live (DRIVER_OK, not DEVICE_NEEDS_RESET, the queue
   * ready), for a device that fills buffers when it has data rather than when kicked.
   */
  liveQueue(index: number): Virtqueue | undefined;
  /** The configuration space changed: moves the generation and, once DRIVER_OK, interrupts. */
  configChanged(): void;
}
