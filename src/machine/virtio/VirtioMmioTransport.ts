/**
 * The virtio-mmio transport, modern interface (version 2; virtio 1.x §4.2.2), for one
 * slot of the VirtioMmioBus. It holds the register file, negotiates features, keeps the
 * queue addresses, and raises the slot's interrupt. Guest register accesses arrive
 * synchronously from the core; a QueueNotify only records the kick, and `service()`,
 * which the machine calls between instruction slices, hands kicked queues to the device.
 */
import type { VirtioMmioDevice } from '../VirtioMmioBus.ts';
import type { GuestMemory } from './GuestMemory.ts';
import type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
import { VirtioError } from './VirtioError.ts';
import { Virtqueue } from './Virtqueue.ts';

// Register offsets (§4.2.2). Registers are 32 bits wide; the driver uses 32-bit accesses.
const MAGIC_VALUE = 0x000;
const VERSION = 0x004;
const DEVICE_ID = 0x008;
const VENDOR_ID = 0x00c;
const DEVICE_FEATURES = 0x010;
const DEVICE_FEATURES_SEL = 0x014;
const DRIVER_FEATURES = 0x020;
const DRIVER_FEATURES_SEL = 0x024;
const QUEUE_SEL = 0x030;
const QUEUE_NUM_MAX = 0x034;
const QUEUE_NUM = 0x038;
const QUEUE_READY = 0x044;
const QUEUE_NOTIFY = 0x050;
const INTERRUPT_STATUS = 0x060;
const INTERRUPT_ACK = 0x064;
const STATUS = 0x070;
const QUEUE_DESC_LOW = 0x080;
const QUEUE_DESC_HIGH = 0x084;
const QUEUE_DRIVER_LOW = 0x090;
const QUEUE_DRIVER_HIGH = 0x094;
const QUEUE_DEVICE_LOW = 0x0a0;
const QUEUE_DEVICE_HIGH = 0x0a4;
const SHM_LEN_LOW = 0x0b0;
const SHM_LEN_HIGH = 0x0b4;
const SHM_BASE_LOW = 0x0b8;
const SHM_BASE_HIGH = 0x0bc;
const CONFIG_GENERATION = 0x0fc;
const CONFIG = 0x100;

const MAGIC = 0x74726976; // "virt"
const VENDOR = 0x554d4551; // "QEMU"; Linux expects nothing of it

/** Device status bits (§2.1). */
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;

/** InterruptStatus bits (§4.2.2): a used buffer, a configuration change. */
export const INTERRUPT_USED_BUFFER = 1;
export const INTERRUPT_CONFIG_CHANGE = 2;

/** Transport feature bits (§6) this implementation may offer. */
export const VIRTIO_F_VERSION_1 = 1n << 32n;

interface QueueRegisters {
  num: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  queue: Virtqueue | undefined;
  /** Notified (or left with chains by the device) and not yet serviced. */
  kicked: boolean;
}

/** One queue's registers and the device's ring indices, in a machine state. */
export interface QueueState {
  num: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  kicked: boolean;
  /** The Virtqueue's indices when the queue is live (ready and its layout was accepted). */
  lastAvail?: number;
  usedIdx?: number;
}

/** The transport's registers and queues, in a machine state (VmState). */
export interface TransportState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  driverFeatures: bigint;
  queueSel: number;
  interruptStatus: number;
  epoch: number;
  instructions: bigint;
  configGeneration: number;
  queues: QueueState[];
}

const addr = (pair: [number, number]) => pair[1] * 0x1_0000_0000 + pair[0];

export class VirtioMmioTransport implements VirtioMmioDevice, VirtioDeviceHost {
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private queues: QueueRegisters[];
  private currentEpoch = 0;
  private instructions = 0n;
  private configGeneration = 0;
  /** The error that put the device in DEVICE_NEEDS_RESET, for diagnostics. */
  lastError: Error | undefined;
  /** Called when the device stops trusting its driver (DEVICE_NEEDS_RESET). */
  onFailure: ((error: Error) => void) | undefined;

  constructor(
    readonly device: VirtioDevice,
    readonly memory: GuestMemory,
    /** Drives the slot's PLIC line (level-triggered). */
    private readonly setIrq: (level: boolean) => void,
  ) {
    this.queues = this.freshQueues();
    device.attach?.(this);
  }

  private freshQueues(): QueueRegisters[] {
    return this.device.queueSizes.map(() => ({ num: 0, ready: false, desc: [0, 0], driver: [0, 0], device: [0, 0], queue: undefined, kicked: false }));
  }

  get now(): bigint {
    return this.instructions;
  }
  get epoch(): number {
    return this.currentEpoch;
  }
  /** The device status register, as the driver reads it. */
  get deviceStatus(): number {
    return this.status;
  }

  read(offset: number, size: number): number {
    if (offset >= CONFIG) return this.readConfig(offset - CONFIG, size);
    if (size !== 4) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MAGIC_VALUE: return MAGIC;
      case VERSION: return 2;
      case DEVICE_ID: return this.device.deviceId;
      case VENDOR_ID: return VENDOR;
      case DEVICE_FEATURES:
        return this.deviceFeaturesSel < 2 ? Number((this.device.features >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn) : 0;
      case QUEUE_NUM_MAX: return this.device.queueSizes[this.queueSel] ?? 0;
      case QUEUE_READY: return q?.ready ? 1 : 0;
      case INTERRUPT_STATUS: return this.interruptStatus;
      case STATUS: return this.status;
      // No shared memory regions: their length reads as all ones (§4.2.2).
      case SHM_LEN_LOW:
      case SHM_LEN_HIGH:
      case SHM_BASE_LOW:
      case SHM_BASE_HIGH:
        return 0xffff_ffff;
      // Moves at every change of the configuration space (a console resize).
      case CONFIG_GENERATION: return this.configGeneration;
      default: return 0;
    }
  }

  write(offset: number, size: number, value: number): void {
    if (offset >= CONFIG) return; // no device offers a writable field (virtio-blk CONFIG_WCE, console EMERG_WRITE are not offered)
    if (size !== 4) return;
    value >>>= 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case DEVICE_FEATURES_SEL: this.deviceFeaturesSel = value; break;
      case DRIVER_FEATURES_SEL: this.driverFeaturesSel = value; break;
      case DRIVER_FEATURES:
        if (this.driverFeaturesSel < 2 && !(this.status & STATUS_FEATURES_OK)) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
        }
        break;
      case QUEUE_SEL: this.queueSel = value; break;
      // Queue layout registers are ignored once the queue is live: the driver must not change them then.
      case QUEUE_NUM: if (q && !q.ready) q.num = value; break;
      case QUEUE_DESC_LOW: if (q && !q.ready) q.desc[0] = value; break;
      case QUEUE_DESC_HIGH: if (q && !q.ready) q.desc[1] = value; break;
      case QUEUE_DRIVER_LOW: if (q && !q.ready) q.driver[0] = value; break;
      case QUEUE_DRIVER_HIGH: if (q && !q.ready) q.driver[1] = value; break;
      case QUEUE_DEVICE_LOW: if (q && !q.ready) q.device[0] = value; break;
      case QUEUE_DEVICE_HIGH: if (q && !q.ready) q.device[1] = value; break;
      case QUEUE_READY: if (q) this.setQueueReady(this.queueSel, q, value === 1); break;
      case QUEUE_NOTIFY: {
        // Only recorded: the chains are read between slices, outside this callback.
        const kicked = this.queues[value & 0xffff];
        if (kicked) kicked.kicked = true;
        break;
      }
      case INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        if (this.interruptStatus === 0) this.setIrq(false);
        break;
      case STATUS: this.writeStatus(value & 0xff); break;
      default: break;
    }
  }

  private readConfig(offset: number, size: number): number {
    const config = this.device.config;
    if (size > 4 || offset + size > config.length) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + config[offset + i]!;
    return v;
  }

  private setQueueReady(index: number, q: QueueRegisters, ready: boolean): void {
    q.ready = ready;
    q.queue = undefined;
    q.kicked = false;
    if (!ready) return;
    try {
      q.queue = new Virtqueue(this.memory, { size: q.num, descAddr: addr(q.desc), availAddr: addr(q.driver), usedAddr: addr(q.device) }, index);
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      this.fail(e);
    }
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const newlyFeaturesOk = value & STATUS_FEATURES_OK && !(this.status & STATUS_FEATURES_OK);
    // DEVICE_NEEDS_RESET is the device's to set; only a reset clears it.
    this.status = value | (this.status & STATUS_DEVICE_NEEDS_RESET);
    if (newlyFeaturesOk && !this.featuresAcceptable()) {
      // Left clear, FEATURES_OK tells the driver we refused its subset (§3.1.1).
      this.status &= ~STATUS_FEATURES_OK;
    }
  }

  /** The driver may accept only what we offered, and must accept VERSION_1 (no legacy interface). */
  private featuresAcceptable(): boolean {
    return (this.driverFeatures & ~this.device.features) === 0n && (this.driverFeatures & VIRTIO_F_VERSION_1) !== 0n;
  }

  /** Device reset (§2.4): back to the power-on state; in-flight work of the old epoch is dropped. */
  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.queues = this.freshQueues();
    this.currentEpoch++;
    this.lastError = undefined;
    if (this.interruptStatus !== 0) {
      this.interruptStatus = 0;
      this.setIrq(false);
    }
    this.device.reset();
  }

  /** The registers and queues, copied out (a machine state). */
  captureState(): TransportState {
    return {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: this.driverFeatures,
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      epoch: this.currentEpoch,
      instructions: this.instructions,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => ({
        num: q.num, ready: q.ready, desc: [...q.desc], driver: [...q.driver], device: [...q.device], kicked: q.kicked,
        ...(q.queue ? q.queue.indices : {}),
      })),
    };
  }

  /**
   * Rebuilds the live queues of a machine state against this transport's guest memory,
   * without changing anything: throws VirtioError when a ring does not fit the RAM.
   * `applyState` then installs them. The interrupt line is the PLIC's (restored with the core).
   */
  prepareState(s: TransportState): () => void {
    if (s.queues.length !== this.queues.length) throw new RangeError(`virtio transport: ${s.queues.length} queues in the state, the device has ${this.queues.length}`);
    const queues: QueueRegisters[] = s.queues.map((q, index) => {
      let queue: Virtqueue | undefined;
      if (q.ready && q.lastAvail !== undefined && q.usedIdx !== undefined) {
        queue = new Virtqueue(this.memory, { size: q.num, descAddr: addr(q.desc), availAddr: addr(q.driver), usedAddr: addr(q.device) }, index);
        queue.setIndices(q.lastAvail, q.usedIdx);
      }
      return { num: q.num, ready: q.ready, desc: [...q.desc], driver: [...q.driver], device: [...q.device], queue, kicked: q.kicked };
    });
    return () => {
      this.status = s.status;
      this.deviceFeaturesSel = s.deviceFeaturesSel;
      this.driverFeaturesSel = s.driverFeaturesSel;
      this.driverFeatures = s.driverFeatures;
      this.queueSel = s.queueSel;
      this.interruptStatus = s.interruptStatus;
      this.currentEpoch = s.epoch;
      this.instructions = s.instructions;
      this.configGeneration = s.configGeneration;
      this.queues = queues;
    };
  }

  /** The feature bits both sides agreed on (valid once FEATURES_OK is set). */
  get negotiatedFeatures(): bigint {
    return this.driverFeatures;
  }

  /**
   * Hands every kicked queue to the device. Call between instruction slices with the
   * hart's instruction count; returns true if the device was given a queue to look at.
   */
  service(now: bigint): boolean {
    if ((this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET)) !== STATUS_DRIVER_OK) return false;
    this.instructions = now;
    let serviced = false;
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i]!;
      if (!q.kicked || !q.queue) continue;
      q.kicked = false;
      serviced = true;
      try {
        q.kicked = this.device.process(i, q.queue, this);
      } catch (e) {
        if (!(e instanceof VirtioError)) throw e;
        this.fail(e);
        return true;
      }
    }
    return serviced;
  }

  putUsed(queue: number, head: number, written: number, epoch: number): boolean {
    const q = this.queues[queue];
    if (epoch !== this.currentEpoch || !q?.queue || this.status & STATUS_DEVICE_NEEDS_RESET) return false;
    q.queue.pushUsed(head, written);
    if (!q.queue.interruptSuppressed) this.raise(INTERRUPT_USED_BUFFER);
    return true;
  }

  liveQueue(index: number): Virtqueue | undefined {
    if ((this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET)) !== STATUS_DRIVER_OK) return undefined;
    return this.queues[index]?.queue;
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if ((this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET)) === STATUS_DRIVER_OK) this.raise(INTERRUPT_CONFIG_CHANGE);
  }

  fail(error: Error): void {
    this.lastError = error;
    this.status |= STATUS_DEVICE_NEEDS_RESET;
    if (this.status & STATUS_DRIVER_OK) this.raise(INTERRUPT_CONFIG_CHANGE);
    this.onFailure?.(error);
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.setIrq(true);
  }
}
