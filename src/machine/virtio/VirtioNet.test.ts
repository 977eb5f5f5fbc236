// virtio-net behind the virtio-mmio transport, driven by the shared fake driver: the
// configuration space, frames both ways with their virtio_net_hdr, the bounded receive
// queue, and chains a hostile driver writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INTERRUPT_USED_BUFFER,
  MAX_FRAME_BYTES,
  NET_HDR_BYTES,
  NET_RECEIVEQ,
  NET_TRANSMITQ,
  RX_QUEUE_FRAMES,
  STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VirtioNet,
} from './index.ts';
import { DEFAULT_BASE as BASE, FakeVirtioDriver, REG, VIRTQ_DESC_F_WRITE } from '../../../tests/virtio/FakeVirtioDriver.ts';
import { fuzzVirtioNet } from '../../../tests/virtio/virtioNetFuzz.ts';

const QSIZE = 8;
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);
/** Transmit buffers from here, receive buffers from RX_BUF (RAM offsets, past the rings). */
const TX_BUF = 0x10000;
const RX_BUF = 0x20000;
const RX_LEN = 1526;

class NetDriver extends FakeVirtioDriver<VirtioNet> {
  readonly sent: Uint8Array[] = [];
  constructor() {
    super(new VirtioNet(MAC, { queueSize: QSIZE }), { ramSize: 1 << 20, queueSize: QSIZE });
    this.device.onTransmit = (f) => this.sent.push(f);
  }
  override start(features = VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS): void {
    super.start(features);
  }
  /** Transmits `frame` behind a header of `hdrByte` bytes, header and frame in separate buffers. */
  transmit(frame: Uint8Array, hdrByte = 0): number {
    this.ram.fill(hdrByte, TX_BUF, TX_BUF + NET_HDR_BYTES);
    this.ram.set(frame, TX_BUF + 0x100);
    return this.submit(NET_TRANSMITQ, [
      { addr: BASE + TX_BUF, len: NET_HDR_BYTES },
      { addr: BASE + TX_BUF + 0x100, len: frame.length },
    ]);
  }
  /** Leaves `n` receive buffers of RX_LEN bytes (buffer i at RX_BUF + 0x800 i). */
  offerRx(n: number, len = RX_LEN): void {
    for (let i = 0; i < n; i++) this.submit(NET_RECEIVEQ, [{ addr: BASE + RX_BUF + 0x800 * i, len, write: true }]);
  }
}

function frame(length: number, fill = 0x5a): Uint8Array {
  const f = new Uint8Array(length).fill(fill);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MAC, 0x08, 0x00].slice(0, length));
  return f;
}

describe('virtio-net: identity and configuration space', () => {
  it('is device 1 with VERSION_1, MAC and STATUS, two queues, the MAC and link up in its configuration', () => {
    const d = new NetDriver();
    assert.equal(d.reg(REG.deviceId), 1);
    assert.equal(d.deviceFeatures(), VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS);
    for (const q of [0, 1]) {
      d.set(REG.queueSel, q);
      assert.equal(d.reg(REG.queueNumMax), QSIZE);
    }
    d.set(REG.queueSel, 2);
    assert.equal(d.reg(REG.queueNumMax), 0, 'no control queue');
    assert.deepEqual(Array.from({ length: 6 }, (_, i) => d.reg(REG.config + i, 1)), [...MAC]);
    assert.equal(d.reg(REG.config + 6, 2), 1, 'VIRTIO_NET_S_LINK_UP');
  });

  it('refuses offloads and mergeable buffers, which it does not offer', () => {
    for (const bit of [0n, 1n, 7n, 11n, 15n, 17n]) assert.equal(new NetDriver().negotiate(VIRTIO_F_VERSION_1 | (1n << bit)), false, `feature bit ${bit}`);
    assert.equal(new NetDriver().negotiate(VIRTIO_NET_F_MAC), false, 'no legacy driver');
  });

  it('refuses a multicast MAC and a MAC of the wrong length', () => {
    assert.throws(() => new VirtioNet(Uint8Array.of(1, 2, 3, 4, 5, 6)), /multicast/);
    assert.throws(() => new VirtioNet(Uint8Array.of(0x52, 0x54, 0)), /6 bytes/);
  });
});

describe('virtio-net: transmit', () => {
  it('passes the frame without its header on, returns the chain and interrupts', () => {
    const d = new NetDriver();
    d.start();
    const f = frame(60);
    const head = d.transmit(f, 0xee);
    assert.equal(d.sent.length, 0, 'nothing happens inside the MMIO write');
    d.t.service(1n);
    assert.deepEqual(d.sent, [f]);
    assert.equal(d.usedIdx(NET_TRANSMITQ), 1);
    assert.deepEqual(d.usedEntry(NET_TRANSMITQ, 0), { id: head, len: 0 });
    assert.equal(d.ack() & INTERRUPT_USED_BUFFER, INTERRUPT_USED_BUFFER);
    assert.deepEqual(d.device.stats, { txFrames: 1, txBytes: 60, rxFrames: 0, rxBytes: 0, txDropped: 0, rxDropped: 0 });
  });

  it('drops and counts a frame shorter than an Ethernet header or longer than 1518 bytes', () => {
    const d = new NetDriver();
    d.start();
    d.transmit(frame(13));
    d.transmit(frame(MAX_FRAME_BYTES + 1));
    d.transmit(frame(MAX_FRAME_BYTES));
    d.t.service(1n);
    assert.equal(d.sent.length, 1);
    assert.equal(d.sent[0]!.length, MAX_FRAME_BYTES);
    assert.equal(d.device.stats.txDropped, 2);
    assert.equal(d.usedIdx(NET_TRANSMITQ), 3, 'every chain goes back');
  });

  it('treats a device-writable buffer on the transmitq as a hostile driver: NEEDS_RESET, nothing sent', () => {
    const d = new NetDriver();
    d.start();
    d.submit(NET_TRANSMITQ, [{ addr: BASE + TX_BUF, len: 64, write: true }]);
    d.t.service(1n);
    assert.equal(d.sent.length, 0);
    assert.ok(d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET);
    assert.match(d.failures[0]!.message, /transmit chain at descriptor 0 has a device-writable buffer/);
  });
});

describe('virtio-net: receive', () => {
  it('writes a zero header with num_buffers 1 and the frame into the next receive buffer, and interrupts', () => {
    const d = new NetDriver();
    d.start();
    d.offerRx(2);
    d.t.service(1n);
    const f = frame(100, 0x33);
    assert.equal(d.device.receive(f), true);
    assert.equal(d.usedIdx(NET_RECEIVEQ), 1);
    assert.deepEqual(d.usedEntry(NET_RECEIVEQ, 0), { id: 0, len: NET_HDR_BYTES + 100 });
    const hdr = d.ram.subarray(RX_BUF, RX_BUF + NET_HDR_BYTES);
    assert.deepEqual([...hdr], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert.deepEqual(d.ram.subarray(RX_BUF + NET_HDR_BYTES, RX_BUF + NET_HDR_BYTES + 100), f);
    assert.equal(d.ack() & INTERRUPT_USED_BUFFER, INTERRUPT_USED_BUFFER);
  });

  it('keeps frames until the driver leaves buffers, then fills them in order when it kicks', () => {
    const d = new NetDriver();
    d.start();
    d.device.receive(frame(60, 1));
    d.device.receive(frame(61, 2));
    assert.equal(d.device.waitingFrames, 2);
    assert.equal(d.usedIdx(NET_RECEIVEQ), 0);
    d.offerRx(1);
    d.t.service(1n);
    assert.equal(d.usedIdx(NET_RECEIVEQ), 1);
    assert.equal(d.usedEntry(NET_RECEIVEQ, 0).len, NET_HDR_BYTES + 60);
    d.offerRx(1);
    d.t.service(2n);
    assert.equal(d.usedEntry(NET_RECEIVEQ, 1).len, NET_HDR_BYTES + 61);
    assert.equal(d.device.waitingFrames, 0);
  });

  it('bounds the waiting queue: past RX_QUEUE_FRAMES frames are dropped and counted', () => {
    const d = new NetDriver();
    d.start();
    for (let i = 0; i < RX_QUEUE_FRAMES + 10; i++) d.device.receive(frame(60));
    assert.equal(d.device.waitingFrames, RX_QUEUE_FRAMES);
    assert.equal(d.device.stats.rxDropped, 10);
  });

  it('drops frames while no driver is up, and those waiting at a reset', () => {
    const d = new NetDriver();
    assert.equal(d.device.receive(frame(60)), false);
    d.start();
    d.device.receive(frame(60));
    d.set(REG.status, 0);
    assert.equal(d.device.waitingFrames, 0);
    assert.equal(d.device.stats.rxDropped, 2);
  });

  it('returns a buffer too small for the frame empty, and counts the drop', () => {
    const d = new NetDriver();
    d.start();
    d.offerRx(1, 64);
    d.t.service(1n);
    d.device.receive(frame(100));
    assert.deepEqual(d.usedEntry(NET_RECEIVEQ, 0), { id: 0, len: 0 });
    assert.equal(d.device.stats.rxDropped, 1);
    assert.equal(d.device.stats.rxFrames, 0);
  });

  it('treats a device-readable receive buffer as a hostile driver: NEEDS_RESET, never a host exception', () => {
    const d = new NetDriver();
    d.start();
    d.submit(NET_RECEIVEQ, [{ addr: BASE + RX_BUF, len: RX_LEN, flags: 0 }]);
    d.t.service(1n);
    assert.doesNotThrow(() => d.device.receive(frame(60)), 'the chain is looked at when a frame needs it');
    assert.ok(d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET);
    assert.match(d.failures[0]!.message, /receive chain at descriptor 0 has a device-readable buffer/);
    assert.equal(d.device.receive(frame(60)), false, 'a failed device takes no frames');
  });

  it('fails the device when a receive buffer lies outside RAM, found while delivering', () => {
    const d = new NetDriver();
    d.start();
    d.submit(NET_RECEIVEQ, [{ addr: BASE + (1 << 20) - 8, len: RX_LEN, flags: VIRTQ_DESC_F_WRITE }], false);
    assert.doesNotThrow(() => d.device.receive(frame(60)));
    assert.ok(d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET);
    assert.match(d.failures[0]!.message, /not inside guest RAM/);
  });
});

describe('virtio-net: fuzzing', () => {
  it('survives 1,000 mutated descriptor chains and frames with typed errors only', () => {
    const r = fuzzVirtioNet(1000, 20261203);
    assert.deepEqual(r.failures, []);
    assert.ok(r.needsReset > 0 && r.framesSent > 0 && r.framesReceived > 0, `the cases reach every path: ${JSON.stringify(r)}`);
  });
});
