// virtio-9p behind the virtio-mmio transport, driven by the fake driver: the mount tag, 9P
// messages split over several buffers as Linux's zero-copy path sends them, completions at
// fixed instruction counts in deterministic time, and reset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionScheduler, VIRTIO_9P_MOUNT_TAG, VIRTIO_F_VERSION_1, Virtio9p } from './index.ts';
import { MemoryShare, NinePReader, NinePServer, NinePWriter, P9 } from '../../share/index.ts';
import type { TimeMode } from '../TimeMode.ts';
import { DEFAULT_BASE as BASE, FakeVirtioDriver, REG, type Buf } from '../../../tests/virtio/FakeVirtioDriver.ts';

const QSIZE = 16;
/** Request buffers go from here on, each request's own, so several can be in flight. */
const BUFFERS = 0x40000;

class FakeGuest extends FakeVirtioDriver<Virtio9p> {
  readonly scheduler: CompletionScheduler;
  readonly server: NinePServer;
  now = 0n;
  private tag = 1;
  private cursor = BUFFERS;
  /** Where the reply room of each chain (by head) is. */
  private readonly replyAt = new Map<number, number>();

  constructor(mode: TimeMode = 'realtime') {
    const scheduler = new CompletionScheduler(mode, 1000n);
    const server = new NinePServer(new MemoryShare());
    super(new Virtio9p(server, scheduler, { queueSize: QSIZE }), { base: BASE, queueSize: QSIZE });
    this.scheduler = scheduler;
    this.server = server;
  }

  /**
   * Puts a T-message at OUT split into `outSplit` pieces and `inRoom` bytes of reply room at
   * IN split into `inSplit` pieces, kicks, and returns the chain head.
   */
  request(message: Uint8Array, opts: { outSplit?: number[]; inRoom?: number; inSplit?: number[] } = {}): number {
    const OUT = this.cursor;
    const IN = OUT + message.length;
    this.cursor = IN + (opts.inRoom ?? 4096);
    this.ram.set(message, OUT);
    this.ram.fill(0xee, IN, IN + (opts.inRoom ?? 4096));
    const bufs: Buf[] = [];
    let at = 0;
    for (const len of [...(opts.outSplit ?? []), message.length - (opts.outSplit ?? []).reduce((a, b) => a + b, 0)]) {
      bufs.push({ addr: BASE + OUT + at, len });
      at += len;
    }
    at = 0;
    const room = opts.inRoom ?? 4096;
    for (const len of [...(opts.inSplit ?? []), room - (opts.inSplit ?? []).reduce((a, b) => a + b, 0)]) {
      bufs.push({ addr: BASE + IN + at, len, write: true });
      at += len;
    }
    const head = this.submit(0, bufs);
    this.replyAt.set(head, IN);
    return head;
  }

  message(type: number, body: (w: NinePWriter) => void): Uint8Array {
    const w = new NinePWriter(type, this.tag++);
    body(w);
    return w.finish();
  }

  /** The reply in used-ring slot `slot`. */
  reply(slot: number): NinePReader {
    const { id, len } = this.usedEntry(0, slot);
    const at = this.replyAt.get(id)!;
    return new NinePReader(this.ram.slice(at, at + len));
  }

  async step(advance = 0n): Promise<void> {
    this.t.service(this.now);
    await this.scheduler.whenSettled();
    await new Promise((r) => setImmediate(r));
    this.now += advance;
    this.scheduler.applyDue(this.now);
  }
}

const version = (g: FakeGuest) => g.message(P9.TVERSION, (w) => w.u32(65536).str('9P2000.L'));

describe('virtio-9p', () => {
  it('offers MOUNT_TAG with the tag "host" in its configuration space, device ID 9', () => {
    const g = new FakeGuest();
    assert.equal(g.reg(REG.deviceId), 9);
    assert.equal(g.deviceFeatures() & VIRTIO_9P_MOUNT_TAG, VIRTIO_9P_MOUNT_TAG);
    assert.ok(g.negotiate(VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG));
    assert.equal(g.reg(REG.config, 2), 4);
    assert.equal(String.fromCharCode(...[0, 1, 2, 3].map((i) => g.reg(REG.config + 2 + i, 1))), 'host');
    assert.throws(() => new Virtio9p(new NinePServer(new MemoryShare()), new CompletionScheduler('realtime'), { tag: 'x'.repeat(32) }), RangeError);
  });

  it('gathers a request and scatters its reply across split buffers, as the zero-copy path sends them', async () => {
    const g = new FakeGuest();
    g.start(VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG);
    const head = g.request(version(g), { outSplit: [3, 4, 2], inSplit: [7, 1] });
    await g.step();
    assert.equal(g.usedIdx(0), 1);
    const used = g.usedEntry(0, 0);
    assert.equal(used.id, head);
    const r = g.reply(0);
    assert.equal(r.type, P9.TVERSION + 1);
    assert.equal(r.u32('msize'), 65536);
    assert.equal(r.str('version'), '9P2000.L');
    assert.equal(used.len, 7 + 4 + 2 + 8);
    // A write whose data follows its header in a buffer of its own, then a read back into a
    // reply split after its 11-byte header, as Linux does with user pages.
    g.request(g.message(P9.TATTACH, (w) => w.u32(0).u32(0xffff_ffff).str('').str('').u32(0)));
    g.request(g.message(P9.TWALK, (w) => w.u32(0).u32(1).u16(0)));
    g.request(g.message(P9.TLCREATE, (w) => w.u32(1).str('f').u32(2 | 0o100).u32(0o644).u32(0)));
    await g.step();
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    const write = g.message(P9.TWRITE, (w) => w.u32(1).u64(0).u32(data.length).bytes(data));
    g.request(write, { outSplit: [23] });
    await g.step();
    assert.equal(g.usedIdx(0), 5);
    const w = g.reply(4);
    assert.equal(w.type, P9.TWRITE + 1);
    assert.equal(w.u32('count'), 5000);
    g.request(g.message(P9.TREAD, (x) => x.u32(1).u64(0).u32(5000)), { inRoom: 5011, inSplit: [11, 4096] });
    await g.step();
    const rd = g.reply(5);
    assert.equal(rd.u32('count'), 5000);
    assert.deepEqual(rd.bytes(5000, 'data'), data);
  });

  it('completes each request a fixed instruction count after it was taken, in deterministic time', async () => {
    const g = new FakeGuest('deterministic');
    g.start(VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG);
    g.now = 500n;
    g.request(version(g));
    await g.step(999n);
    assert.equal(g.usedIdx(0), 0, 'not yet at 1499');
    assert.equal(g.irq, false);
    await g.step(1n);
    assert.equal(g.usedIdx(0), 1, 'at 1500');
    assert.equal(g.irq, true);
  });

  it('answers a chain with no room for a reply with nothing, and one too short with Rlerror', async () => {
    const g = new FakeGuest();
    g.start(VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG);
    g.request(version(g), { inRoom: 4 });
    await g.step();
    assert.deepEqual(g.usedEntry(0, 0), { id: 0, len: 0 });
    g.request(version(g), { inRoom: 11 });
    await g.step();
    const r = g.reply(1);
    assert.equal(r.type, P9.RLERROR);
    assert.equal(r.u32('ecode'), 34); // ERANGE: the Rversion did not fit
  });

  it('on reset drops replies in flight and ends the session: the old fids are gone', async () => {
    const g = new FakeGuest();
    g.start(VIRTIO_F_VERSION_1 | VIRTIO_9P_MOUNT_TAG);
    g.request(version(g));
    g.request(g.message(P9.TATTACH, (w) => w.u32(0).u32(0xffff_ffff).str('').str('').u32(0)));
    g.t.service(g.now);
    g.set(REG.status, 0);
    await g.scheduler.settleAll();
    g.scheduler.applyDue(g.now);
    assert.equal(g.usedIdx(0), 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(g.server.fidCount, 0);
  });
});
