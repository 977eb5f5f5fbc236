// A fake virtio driver for unit tests of the virtio devices (src/machine/virtio/): it owns
// guest RAM, talks to a VirtioMmioTransport through its registers the way Linux does
// (feature negotiation per virtio 1.x §3.1.1, split virtqueues per §2.7), and can write
// rings the way a hostile guest would. Device-specific requests stay in each test file,
// usually in a subclass that passes its device to the constructor.
//
// Not a test file itself (tests/run.mjs runs only `*.test.ts`), and test-only: nothing
// under src/ outside `*.test.ts` may import it.
import assert from 'node:assert/strict';
import { GuestMemory, STATUS_FEATURES_OK, VIRTIO_F_VERSION_1, VirtioMmioTransport, type VirtioDevice } from '../../src/machine/virtio/index.ts';

/** Physical address of guest RAM byte 0 (where the virt machine puts RAM). */
export const DEFAULT_BASE = 0x8000_0000;

/** virtio-mmio register offsets (virtio 1.x §4.2.2) the tests use. */
export const REG = {
  magic: 0x000,
  version: 0x004,
  deviceId: 0x008,
  vendorId: 0x00c,
  features: 0x010,
  featuresSel: 0x014,
  driverFeatures: 0x020,
  driverFeaturesSel: 0x024,
  queueSel: 0x030,
  queueNumMax: 0x034,
  queueNum: 0x038,
  queueReady: 0x044,
  notify: 0x050,
  isr: 0x060,
  ack: 0x064,
  status: 0x070,
  descLo: 0x080,
  descHi: 0x084,
  availLo: 0x090,
  availHi: 0x094,
  usedLo: 0x0a0,
  usedHi: 0x0a4,
  generation: 0x0fc,
  config: 0x100,
} as const;

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;

/** One buffer of a descriptor chain. */
export interface Buf {
  /** Guest physical address. */
  addr: number;
  len: number;
  /** Device-writable (VIRTQ_DESC_F_WRITE). */
  write?: boolean;
  /** Raw flags, replacing the NEXT/WRITE the driver would compute: for hostile chains. */
  flags?: number;
  /** Raw next index, replacing the following slot: for hostile chains. */
  next?: number;
}

/** Where one queue's rings sit, as offsets into `ram` (add `base` for guest addresses). */
export interface RingLayout {
  desc: number;
  avail: number;
  used: number;
}

export interface FakeVirtioDriverOptions {
  /** Guest physical address of RAM byte 0; default DEFAULT_BASE. */
  base?: number;
  /** Bytes of guest RAM; default 1 MiB. */
  ramSize?: number;
  /** Queue size the driver sets up (QueueNum); default 8. */
  queueSize?: number;
  /** Offset of the first queue's rings; default 0x1000. Rings of queue q follow those of q - 1. */
  ringBase?: number;
}

const PAGE = 0x1000;
const pageAlign = (n: number) => Math.ceil(n / PAGE) * PAGE;

/**
 * Ring placement for `queues` queues of `size` entries from `ringBase` on: per queue a
 * descriptor table, then the available ring, then the used ring, each on its own 4 KiB page
 * (so with 8 entries queue q has desc 0x1000 + 0x3000q, avail 0x2000 + 0x3000q, used 0x3000 + 0x3000q).
 */
export function ringLayouts(queues: number, size: number, ringBase = PAGE): RingLayout[] {
  const descBytes = pageAlign(16 * size);
  const availBytes = pageAlign(6 + 2 * size);
  const usedBytes = pageAlign(6 + 8 * size);
  const stride = descBytes + availBytes + usedBytes;
  return Array.from({ length: queues }, (_, q) => {
    const desc = ringBase + q * stride;
    return { desc, avail: desc + descBytes, used: desc + descBytes + availBytes };
  });
}

export class FakeVirtioDriver<D extends VirtioDevice = VirtioDevice> {
  readonly base: number;
  readonly ram: Uint8Array;
  readonly mem: GuestMemory;
  readonly view: DataView;
  readonly t: VirtioMmioTransport;
  /** The level of the slot's interrupt line. */
  irq = false;
  /** Errors the transport reported when it set DEVICE_NEEDS_RESET. */
  readonly failures: Error[] = [];
  /** QueueNum the driver writes when it sets up a queue. */
  readonly queueSize: number;
  /** Ring placement of each of the device's queues (RAM offsets). */
  readonly rings: readonly RingLayout[];
  /** One past the last byte of the rings: buffers can go from here on. */
  readonly ringsEnd: number;
  private readonly availIdx: number[];
  private readonly nextDesc: number[];
  /** The size each queue was set up with (for ring arithmetic). */
  private readonly sizes: number[];

  constructor(
    readonly device: D,
    opts: FakeVirtioDriverOptions = {},
  ) {
    this.base = opts.base ?? DEFAULT_BASE;
    this.ram = new Uint8Array(opts.ramSize ?? 1 << 20);
    this.mem = new GuestMemory(this.ram, this.base);
    this.view = new DataView(this.ram.buffer);
    this.queueSize = opts.queueSize ?? 8;
    const n = device.queueSizes.length;
    this.rings = ringLayouts(n, this.queueSize, opts.ringBase);
    const last = ringLayouts(n + 1, this.queueSize, opts.ringBase)[n]!;
    this.ringsEnd = last.desc;
    assert.ok(this.ringsEnd <= this.ram.length, 'the rings fit in RAM');
    this.availIdx = new Array<number>(n).fill(0);
    this.nextDesc = new Array<number>(n).fill(0);
    this.sizes = new Array<number>(n).fill(this.queueSize);
    this.t = new VirtioMmioTransport(device, this.mem, (level) => (this.irq = level));
    this.t.onFailure = (e) => this.failures.push(e);
  }

  /** Guest physical address of RAM offset `offset`. */
  addr(offset: number): number {
    return this.base + offset;
  }
  /** Ring placement of queue `q`. */
  ring(q: number): RingLayout {
    const r = this.rings[q];
    if (!r) throw new RangeError(`the device has no queue ${q}`);
    return r;
  }

  /** A register read (32 bits unless `size` says otherwise, as for the config space). */
  reg(offset: number, size = 4): number {
    return this.t.read(offset, size);
  }
  /** A 32-bit register write. */
  set(offset: number, v: number): void {
    this.t.write(offset, 4, v);
  }
  /** A 64-bit address into a LOW/HIGH register pair. */
  private set64(lo: number, hi: number, v: number): void {
    this.set(lo, v % 2 ** 32);
    this.set(hi, Math.floor(v / 2 ** 32));
  }

  /** The device's feature bits, both halves. */
  deviceFeatures(): bigint {
    this.set(REG.featuresSel, 0);
    const lo = BigInt(this.reg(REG.features));
    this.set(REG.featuresSel, 1);
    return (BigInt(this.reg(REG.features)) << 32n) | lo;
  }

  /**
   * Feature negotiation in the order §3.1.1 gives: ACKNOWLEDGE, DRIVER, the driver's
   * features (both halves), FEATURES_OK, then read it back. Returns whether FEATURES_OK stuck.
   */
  negotiate(features: bigint = VIRTIO_F_VERSION_1): boolean {
    this.set(REG.status, 1);
    this.set(REG.status, 3);
    this.set(REG.driverFeaturesSel, 0);
    this.set(REG.driverFeatures, Number(features & 0xffff_ffffn));
    this.set(REG.driverFeaturesSel, 1);
    this.set(REG.driverFeatures, Number(features >> 32n));
    this.set(REG.status, 3 | STATUS_FEATURES_OK);
    return (this.reg(REG.status) & STATUS_FEATURES_OK) !== 0;
  }

  /**
   * Sets up queue `q` (§4.2.3.2): QueueSel, QueueNum, the three ring addresses, QueueReady.
   * Defaults are this driver's ring placement; `size`, `desc`, `avail`, `used` (guest
   * physical addresses) override them, e.g. with something a device must refuse.
   */
  setupQueue(q: number, over: { size?: number; desc?: number; avail?: number; used?: number } = {}): void {
    const r = this.ring(q);
    const size = over.size ?? this.queueSize;
    this.sizes[q] = size;
    this.availIdx[q] = 0;
    this.nextDesc[q] = 0;
    this.set(REG.queueSel, q);
    this.set(REG.queueNum, size);
    this.set64(REG.descLo, REG.descHi, over.desc ?? this.addr(r.desc));
    this.set64(REG.availLo, REG.availHi, over.avail ?? this.addr(r.avail));
    this.set64(REG.usedLo, REG.usedHi, over.used ?? this.addr(r.used));
    this.set(REG.queueReady, 1);
  }

  /** ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK: the driver is live. */
  driverOk(): void {
    this.set(REG.status, 15);
  }

  /** Negotiates `features` (asserting the device accepts them), sets up every queue, then DRIVER_OK. */
  start(features?: bigint): void {
    assert.ok(this.negotiate(features));
    for (let q = 0; q < this.rings.length; q++) this.setupQueue(q);
    this.driverOk();
  }

  /** Writes descriptor `index` of queue `q` as it is given, raw. */
  writeDescriptor(q: number, index: number, d: { addr: number; len: number; flags: number; next: number }): void {
    const at = this.ring(q).desc + 16 * index;
    this.view.setBigUint64(at, BigInt(d.addr), true);
    this.view.setUint32(at + 8, d.len, true);
    this.view.setUint16(at + 12, d.flags, true);
    this.view.setUint16(at + 14, d.next, true);
  }

  /**
   * Writes `bufs` as a chain into the next free descriptor slots of queue `q` (wrapping),
   * makes its head available and, unless `notify` is false, kicks the queue. Returns the head.
   */
  submit(q: number, bufs: Buf[], notify = true): number {
    const size = this.sizes[q]!;
    const head = this.nextDesc[q]! % size;
    bufs.forEach((b, i) => {
      const last = i === bufs.length - 1;
      this.writeDescriptor(q, (head + i) % size, {
        addr: b.addr,
        len: b.len,
        flags: b.flags ?? ((last ? 0 : VIRTQ_DESC_F_NEXT) | (b.write ? VIRTQ_DESC_F_WRITE : 0)),
        next: b.next ?? (head + i + 1) % size,
      });
    });
    this.nextDesc[q]! += bufs.length;
    this.publish(q, head);
    if (notify) this.kick(q);
    return head;
  }

  /** Puts `head` in the next available-ring slot of queue `q` and moves its idx on (no kick). */
  publish(q: number, head: number): void {
    const r = this.ring(q);
    const idx = this.availIdx[q]!;
    this.view.setUint16(r.avail + 4 + 2 * (idx % this.sizes[q]!), head, true);
    this.setAvailIdx(q, (idx + 1) & 0xffff);
  }

  /** Writes the available ring's idx of queue `q` as given: hostile drivers run it ahead. */
  setAvailIdx(q: number, idx: number): void {
    this.availIdx[q] = idx & 0xffff;
    this.view.setUint16(this.ring(q).avail + 2, idx & 0xffff, true);
  }

  /** Writes available-ring slot `slot` of queue `q` as given. */
  setAvailEntry(q: number, slot: number, head: number): void {
    this.view.setUint16(this.ring(q).avail + 4 + 2 * slot, head, true);
  }

  /** QueueNotify for queue `q`. */
  kick(q: number): void {
    this.set(REG.notify, q);
  }

  /** The used ring's idx of queue `q`. */
  usedIdx(q: number): number {
    return this.view.getUint16(this.ring(q).used + 2, true);
  }
  /** Used-ring entry `i` of queue `q` (no wrapping: `i` is the slot). */
  usedEntry(q: number, i: number): { id: number; len: number } {
    const u = this.ring(q).used;
    return { id: this.view.getUint32(u + 4 + 8 * i, true), len: this.view.getUint32(u + 8 + 8 * i, true) };
  }

  /** Reads InterruptStatus and acknowledges all of it; returns what it was. */
  ack(): number {
    const isr = this.reg(REG.isr);
    this.set(REG.ack, isr);
    return isr;
  }
}
