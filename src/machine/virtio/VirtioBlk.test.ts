// virtio-blk behind the virtio-mmio transport, driven by a small fake driver that writes
// rings into a RAM array the way Linux does, and sometimes the way a hostile guest would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBackend } from '../../disk/index.ts';
import {
  CompletionScheduler,
  INTERRUPT_CONFIG_CHANGE,
  INTERRUPT_USED_BUFFER,
  STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_F_VERSION_1,
  VirtioBlk,
  type BlockDevice,
} from './index.ts';
import type { TimeMode } from '../TimeMode.ts';
import { DEFAULT_BASE as BASE, FakeVirtioDriver, REG, type Buf } from '../../../tests/virtio/FakeVirtioDriver.ts';

const RAM = 1 << 20;
const QSIZE = 8;
/** Request buffers (a RAM offset), past the rings. */
const BUF = 0x10000;

/** The fake driver with virtio-blk behind it, and what the machine does between slices. */
class FakeGuest extends FakeVirtioDriver<VirtioBlk> {
  readonly disk: BlockDevice;
  readonly scheduler: CompletionScheduler;
  now = 0n;

  constructor(disk: BlockDevice, mode: TimeMode = 'realtime', opts: { readOnly?: boolean } = {}) {
    const scheduler = new CompletionScheduler(mode, 1000n);
    super(new VirtioBlk(disk, scheduler, { serial: 'fake-serial', queueSize: QSIZE, readOnly: opts.readOnly }), { base: BASE, ramSize: RAM, queueSize: QSIZE });
    this.disk = disk;
    this.scheduler = scheduler;
  }

  get blk(): VirtioBlk {
    return this.device;
  }

  override negotiate(features = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH): boolean {
    return super.negotiate(features);
  }

  /** A block request: header at BUF, data at BUF+0x100, status at BUF+0xff. */
  request(type: number, sector: number, dataLen: number, dataWritable: boolean): number {
    this.view.setUint32(BUF, type, true);
    this.view.setUint32(BUF + 4, 0, true);
    this.view.setBigUint64(BUF + 8, BigInt(sector), true);
    this.ram[BUF + 0xff] = 0xee;
    const bufs: Buf[] = [{ addr: BASE + BUF, len: 16 }];
    if (dataLen) bufs.push({ addr: BASE + BUF + 0x100, len: dataLen, write: dataWritable });
    bufs.push({ addr: BASE + BUF + 0xff, len: 1, write: true });
    return this.submit(0, bufs);
  }

  get status(): number {
    return this.ram[BUF + 0xff]!;
  }

  /** What the machine does between slices: service kicked queues, let work settle, apply. */
  async step(advance = 0n): Promise<void> {
    this.t.service(this.now);
    await this.scheduler.whenSettled();
    await new Promise((r) => setImmediate(r));
    this.now += advance;
    this.scheduler.applyDue(this.now);
  }
}

/** A disk whose every request waits until the test releases it. */
class GatedDisk implements BlockDevice {
  readonly inner = new MemoryBackend(64 * 512);
  readonly gates: (() => void)[] = [];
  calls = 0;
  get size() {
    return this.inner.size;
  }
  get readOnly() {
    return false;
  }
  private gate<T>(f: () => Promise<T>): Promise<T> {
    this.calls++;
    return new Promise<void>((r) => this.gates.push(r)).then(f);
  }
  read(o: number, l: number) {
    return this.gate(() => this.inner.read(o, l));
  }
  write(o: number, d: Uint8Array) {
    return this.gate(() => this.inner.write(o, d));
  }
  flush() {
    return this.gate(() => this.inner.flush());
  }
}

describe('virtio-mmio feature negotiation', () => {
  it('accepts VERSION_1 with offered features and shows the capacity in the config space', () => {
    const g = new FakeGuest(new MemoryBackend(100 * 512));
    assert.equal(g.reg(0x000), 0x74726976);
    assert.equal(g.reg(0x004), 2);
    assert.equal(g.reg(0x008), 2);
    assert.ok(g.negotiate());
    assert.equal(g.reg(REG.config), 100);
    assert.equal(g.reg(REG.config + 4), 0);
    g.set(REG.queueSel, 0);
    assert.equal(g.reg(REG.queueNumMax), QSIZE);
  });

  it('refuses a driver without VERSION_1 or asking for features not offered', () => {
    assert.equal(new FakeGuest(new MemoryBackend(512)).negotiate(VIRTIO_BLK_F_FLUSH), false);
    assert.equal(new FakeGuest(new MemoryBackend(512)).negotiate(VIRTIO_F_VERSION_1 | (1n << 28n)), false);
  });

  it('offers VIRTIO_BLK_F_RO for a read-only disk', () => {
    const g = new FakeGuest(new MemoryBackend(512, { readOnly: true }));
    assert.ok(g.reg(REG.features) & Number(VIRTIO_BLK_F_RO));
    assert.ok(g.negotiate(VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_RO));
  });
});

describe('virtio-blk requests', () => {
  it('writes and reads back sectors, completing with OK, a used entry and an interrupt', async () => {
    const disk = new MemoryBackend(64 * 512);
    const g = new FakeGuest(disk);
    g.start();
    for (let i = 0; i < 1024; i++) g.ram[BUF + 0x100 + i] = (i * 7) & 0xff;
    const head = g.request(VIRTIO_BLK_T_OUT, 3, 1024, false);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_OK);
    assert.deepEqual(g.usedEntry(0, 0), { id: head, len: 1 });
    assert.deepEqual((await disk.read(3 * 512, 1024)).subarray(0, 4), Uint8Array.from([0, 7, 14, 21]));
    assert.equal(g.irq, true);
    assert.equal(g.reg(REG.isr), INTERRUPT_USED_BUFFER);
    g.set(REG.ack, INTERRUPT_USED_BUFFER);
    assert.equal(g.irq, false);

    g.ram.fill(0, BUF + 0x100, BUF + 0x500);
    g.request(VIRTIO_BLK_T_IN, 3, 1024, true);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_OK);
    assert.equal(g.usedEntry(0, 1).len, 1025);
    assert.equal(g.ram[BUF + 0x100 + 3], 21);
    assert.equal(g.usedIdx(0), 2);
  });

  it('answers GET_ID, FLUSH, unknown types and bad ranges', async () => {
    const g = new FakeGuest(new MemoryBackend(64 * 512));
    g.start();
    g.request(VIRTIO_BLK_T_GET_ID, 0, 20, true);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_OK);
    assert.equal(new TextDecoder().decode(g.ram.subarray(BUF + 0x100, BUF + 0x10b)), 'fake-serial');
    g.request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_OK);
    g.request(99, 0, 0, false);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_UNSUPP);
    g.request(VIRTIO_BLK_T_IN, 63, 1024, true); // runs one sector past the end
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_IOERR);
    g.request(VIRTIO_BLK_T_IN, 2 ** 52, 512, true);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_IOERR);
    g.request(VIRTIO_BLK_T_OUT, 0, 100, false); // not whole sectors
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_IOERR);
    assert.equal(g.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET, 0);
  });

  it('fails writes to a read-only disk and requests the disk rejects with IOERR', async () => {
    const ro = new FakeGuest(new MemoryBackend(64 * 512, { readOnly: true }));
    ro.start();
    ro.request(VIRTIO_BLK_T_OUT, 0, 512, false);
    await ro.step();
    assert.equal(ro.status, VIRTIO_BLK_S_IOERR);

    const failing: BlockDevice = { size: 64 * 512, readOnly: false, read: () => Promise.reject(new Error('disk gone')), write: () => Promise.resolve(), flush: () => Promise.resolve() };
    const g = new FakeGuest(failing);
    const seen: unknown[] = [];
    g.blk.onDiskError = (e) => seen.push(e);
    g.start();
    g.request(VIRTIO_BLK_T_IN, 0, 512, true);
    await g.step();
    assert.equal(g.status, VIRTIO_BLK_S_IOERR);
    assert.equal((seen[0] as Error).message, 'disk gone');
  });
});

describe('asynchronous completion', () => {
  it('does no disk work inside the notify callback, and returns nothing before the disk resolves', async () => {
    const disk = new GatedDisk();
    const g = new FakeGuest(disk);
    g.start();
    g.request(VIRTIO_BLK_T_OUT, 0, 512, false);
    assert.equal(disk.calls, 0, 'QueueNotify only records the kick');
    g.t.service(0n);
    assert.equal(disk.calls, 1);
    await new Promise((r) => setImmediate(r));
    g.scheduler.applyDue(0n);
    assert.equal(g.usedIdx(0), 0);
    assert.equal(g.irq, false);
    disk.gates.shift()!();
    await g.scheduler.whenSettled();
    g.scheduler.applyDue(0n);
    assert.equal(g.usedIdx(0), 1);
    assert.equal(g.irq, true);
  });

  it('in deterministic mode completes exactly `latency` instructions after submission, waiting for a slow disk', async () => {
    const disk = new GatedDisk();
    const g = new FakeGuest(disk, 'deterministic');
    g.start();
    g.request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    g.t.service(5000n);
    assert.equal(g.scheduler.nextDue, 6000n);
    assert.equal(g.scheduler.blockedAt(5999n), false);
    assert.equal(g.scheduler.blockedAt(6000n), true, 'due and not settled: the machine must wait here');
    disk.gates.shift()!();
    await g.scheduler.whenSettled();
    g.scheduler.applyDue(5999n);
    assert.equal(g.usedIdx(0), 0, 'settled early, but not visible before it is due');
    g.scheduler.applyDue(6000n);
    assert.equal(g.usedIdx(0), 1);
  });

  it('drops completions of requests that were in flight when the driver reset the device', async () => {
    const disk = new GatedDisk();
    const g = new FakeGuest(disk);
    g.start();
    g.request(VIRTIO_BLK_T_IN, 0, 512, true);
    g.t.service(0n);
    g.set(REG.status, 0);
    g.view.setUint16(g.ring(0).used + 2, 0x1234, true);
    disk.gates.shift()!();
    await g.scheduler.settleAll();
    await new Promise((r) => setImmediate(r));
    g.scheduler.applyDue(0n);
    assert.equal(g.usedIdx(0), 0x1234, 'the used ring of the old queue is untouched');
    assert.equal(g.status, 0xee);
  });
});

describe('a hostile driver', () => {
  const hostile: [string, (g: FakeGuest) => void][] = [
    ['a head index beyond the queue size', (g) => {
      g.setAvailEntry(0, 0, QSIZE + 3);
      g.setAvailIdx(0, 1);
      g.kick(0);
    }],
    ['a descriptor loop', (g) => g.submit(0, [{ addr: BASE + BUF, len: 16, flags: 1, next: 0 }])],
    ['an available index far ahead', (g) => {
      g.setAvailIdx(0, QSIZE + 1);
      g.kick(0);
    }],
    ['a buffer outside RAM', (g) => g.submit(0, [{ addr: BASE + RAM - 8, len: 16 }, { addr: BASE + BUF, len: 1, write: true }])],
    ['a buffer below RAM', (g) => g.submit(0, [{ addr: 0x1000, len: 16 }, { addr: BASE + BUF, len: 1, write: true }])],
    ['an address past 2^64 - 1 when added to its length', (g) => g.submit(0, [{ addr: 0xffff_ffff_ffff_f000, len: 0x2000 }, { addr: BASE + BUF, len: 1, write: true }])],
    ['a readable buffer after a writable one', (g) => g.submit(0, [{ addr: BASE + BUF, len: 16, write: true }, { addr: BASE + BUF, len: 16 }])],
    ['an indirect descriptor', (g) => g.submit(0, [{ addr: BASE + BUF, len: 16, flags: 4 }])],
    ['no status byte', (g) => g.submit(0, [{ addr: BASE + BUF, len: 16 }])],
    ['a zero-length status buffer', (g) => g.submit(0, [{ addr: BASE + BUF, len: 16 }, { addr: BASE + BUF, len: 0, write: true }])],
  ];
  for (const [what, act] of hostile) {
    it(`gets DEVICE_NEEDS_RESET and a configuration interrupt for ${what}`, async () => {
      const g = new FakeGuest(new MemoryBackend(64 * 512));
      g.start();
      act(g);
      await g.step();
      assert.ok(g.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET, `status 0x${g.reg(REG.status).toString(16)}`);
      assert.ok(g.reg(REG.isr) & INTERRUPT_CONFIG_CHANGE);
      assert.match(g.t.lastError!.message, /virtqueue 0|virtio-blk/);
      // Ignored from now on, until a reset brings the device back.
      g.request(VIRTIO_BLK_T_GET_ID, 0, 20, true);
      await g.step();
      g.set(REG.status, 0);
      assert.equal(g.reg(REG.status), 0);
      assert.equal(g.irq, false);
    });
  }

  for (const [what, setup] of [
    ['a queue size that is not a power of two', (g: FakeGuest) => {
      g.setupQueue(0, { size: 6 });
      g.driverOk();
    }],
    ['a misaligned descriptor table', (g: FakeGuest) => {
      g.setupQueue(0, { desc: g.addr(g.ring(0).desc + 8) });
      g.driverOk();
    }],
    ['a used ring outside RAM', (g: FakeGuest) => {
      g.setupQueue(0, { used: BASE + RAM - 16 });
      g.driverOk();
    }],
  ] as const) {
    it(`refuses ${what} with DEVICE_NEEDS_RESET`, () => {
      const g = new FakeGuest(new MemoryBackend(512));
      assert.ok(g.negotiate());
      setup(g);
      assert.ok(g.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET);
    });
  }

  it('never throws out of the device for random rings (2,000 cases)', async () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 2000; n++) {
      const g = new FakeGuest(new MemoryBackend(64 * 512));
      g.start();
      const { desc: DESC, avail: AVAIL } = g.ring(0);
      for (let i = 0; i < 16 * QSIZE; i++) g.ram[DESC + i] = rand() < 0.5 ? (rand() * 256) | 0 : 0;
      // Mostly plausible addresses, so some requests get as far as the disk.
      for (let d = 0; d < QSIZE; d++) if (rand() < 0.7) g.view.setBigUint64(DESC + 16 * d, BigInt(BASE + BUF + ((rand() * 0x1000) | 0)), true);
      for (let i = 0; i < 2 * QSIZE; i++) g.ram[AVAIL + 4 + i] = (rand() * 12) | 0;
      for (let i = 0; i < 64; i++) g.ram[BUF + i] = rand() < 0.5 ? (rand() * 10) | 0 : 0;
      g.setAvailIdx(0, (rand() * (QSIZE + 3)) | 0);
      g.kick(0);
      await g.step();
    }
  });
});
