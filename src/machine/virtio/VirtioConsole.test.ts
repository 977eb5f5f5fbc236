// virtio-console behind the virtio-mmio transport, driven by a small fake driver that lays
// out port 0's two queues in a RAM array as Linux does, and sometimes as a hostile guest would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONSOLE_RECEIVEQ,
  CONSOLE_TRANSMITQ,
  INTERRUPT_CONFIG_CHANGE,
  INTERRUPT_USED_BUFFER,
  MAX_TRANSMIT_BYTES,
  STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_F_VERSION_1,
  VirtioConsole,
} from './index.ts';
import { DEFAULT_BASE as BASE, FakeVirtioDriver, REG, type Buf } from '../../../tests/virtio/FakeVirtioDriver.ts';

const RAM = 4 << 20;
const QSIZE = 8;
/** Buffers (a RAM offset), past the rings. */
const BUF = 0x10000;

/** The fake driver with virtio-console behind it, collecting what the console outputs. */
class FakeDriver extends FakeVirtioDriver<VirtioConsole> {
  readonly out: number[] = [];

  constructor(size = { cols: 80, rows: 24 }) {
    super(new VirtioConsole(size, { queueSize: QSIZE }), { base: BASE, ramSize: RAM, queueSize: QSIZE });
    this.con.onOutput = (b) => {
      for (const x of b) this.out.push(x);
    };
  }

  get con(): VirtioConsole {
    return this.device;
  }

  override negotiate(features = VIRTIO_F_VERSION_1 | VIRTIO_CONSOLE_F_SIZE): boolean {
    return super.negotiate(features);
  }

  /** Sends text on the transmitq from RAM at `at`. */
  transmit(text: string, at = BUF): number {
    const b = new TextEncoder().encode(text);
    this.ram.set(b, at);
    return this.submit(CONSOLE_TRANSMITQ, [{ addr: BASE + at, len: b.length }]);
  }

  get text(): string {
    return new TextDecoder().decode(Uint8Array.from(this.out));
  }
}

describe('virtio-console: identity and configuration space', () => {
  it('is device 3, offers VERSION_1 and F_SIZE, and has two queues', () => {
    const d = new FakeDriver({ cols: 132, rows: 43 });
    assert.equal(d.reg(0x008), 3);
    d.set(REG.featuresSel, 0);
    assert.equal(d.reg(REG.features), 1);
    d.set(REG.featuresSel, 1);
    assert.equal(d.reg(REG.features), 1);
    for (const q of [0, 1]) {
      d.set(REG.queueSel, q);
      assert.equal(d.reg(REG.queueNumMax), QSIZE);
    }
    d.set(REG.queueSel, 2);
    assert.equal(d.reg(REG.queueNumMax), 0, 'no control queue: MULTIPORT is not offered');
    assert.equal(d.reg(REG.config, 2), 132);
    assert.equal(d.reg(REG.config + 2, 2), 43);
    assert.equal(d.reg(REG.config, 4), 43 * 65536 + 132);
    assert.equal(d.reg(REG.config + 8, 4), 0, 'past the configuration space reads as 0');
  });

  it('refuses features it did not offer (MULTIPORT, EMERG_WRITE)', () => {
    assert.equal(new FakeDriver().negotiate(VIRTIO_F_VERSION_1 | (1n << 1n)), false);
    assert.equal(new FakeDriver().negotiate(VIRTIO_F_VERSION_1 | (1n << 2n)), false);
    assert.equal(new FakeDriver().negotiate(VIRTIO_CONSOLE_F_SIZE), false, 'no legacy driver');
  });

  it('rejects sizes the configuration space cannot carry', () => {
    assert.throws(() => new VirtioConsole({ cols: 0, rows: 24 }), RangeError);
    assert.throws(() => new VirtioConsole({ cols: 80, rows: 70000 }), RangeError);
    assert.throws(() => new VirtioConsole().resize({ cols: 1.5, rows: 2 }), RangeError);
  });

  it('ignores writes to the configuration space', () => {
    const d = new FakeDriver();
    d.t.write(REG.config, 4, 0x1234_5678);
    assert.deepEqual(d.con.size, { cols: 80, rows: 24 });
  });
});

describe('virtio-console: resize', () => {
  it('announces the size with a configuration change after the first transmit, once', () => {
    const d = new FakeDriver();
    d.start();
    assert.equal(d.irq, false);
    const gen = d.reg(REG.generation);
    d.transmit('hello');
    d.t.service(0n);
    assert.equal(d.ack(), INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE);
    assert.equal(d.irq, false);
    assert.notEqual(d.reg(REG.generation), gen);
    d.transmit('again');
    d.t.service(0n);
    assert.equal(d.ack(), INTERRUPT_USED_BUFFER);
  });

  it('changes cols/rows, moves the generation and raises a configuration-change interrupt', () => {
    const d = new FakeDriver();
    d.start();
    const gen = d.reg(REG.generation);
    d.con.resize({ cols: 120, rows: 40 });
    assert.equal(d.irq, true);
    assert.equal(d.reg(REG.isr), INTERRUPT_CONFIG_CHANGE);
    assert.equal(d.reg(REG.config, 2), 120);
    assert.equal(d.reg(REG.config + 2, 2), 40);
    assert.equal(d.reg(REG.generation), gen + 1);
    d.ack();
    d.con.resize({ cols: 120, rows: 40 });
    assert.equal(d.irq, false, 'the same size again is no change');
    assert.equal(d.con.stats.resizes, 1);
  });

  it('does not interrupt a driver that is not yet live, but the new size is there to read', () => {
    const d = new FakeDriver();
    d.con.resize({ cols: 50, rows: 10 });
    assert.equal(d.irq, false);
    assert.equal(d.reg(REG.config, 2), 50);
  });
});

describe('virtio-console: transmit and receive', () => {
  it('passes transmitted bytes on and returns each chain at once with 0 bytes written', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_TRANSMITQ, [{ addr: BASE + BUF, len: 3 }, { addr: BASE + BUF + 0x100, len: 2 }], false);
    d.ram.set([0x61, 0x62, 0x63], BUF);
    d.ram.set([0x0d, 0x0a], BUF + 0x100);
    const head2 = d.transmit('$ ', BUF + 0x200);
    d.t.service(0n);
    assert.equal(d.text, 'abc\r\n$ ');
    assert.equal(d.usedIdx(CONSOLE_TRANSMITQ), 2);
    assert.deepEqual(d.usedEntry(CONSOLE_TRANSMITQ, 1), { id: head2, len: 0 });
    assert.equal(d.con.stats.bytesOut, 7);
  });

  it('fills receive buffers only when there is input, splitting it over buffers', () => {
    const d = new FakeDriver();
    assert.equal(d.con.ready, false);
    assert.equal(d.con.input(new Uint8Array([1])), 0, 'not live yet');
    d.start();
    const h1 = d.submit(CONSOLE_RECEIVEQ, [{ addr: BASE + BUF, len: 4, write: true }]);
    const h2 = d.submit(CONSOLE_RECEIVEQ, [{ addr: BASE + BUF + 0x100, len: 4, write: true }]);
    d.t.service(0n);
    assert.equal(d.usedIdx(CONSOLE_RECEIVEQ), 0, 'buffers wait for input');
    assert.equal(d.irq, false);
    assert.equal(d.con.ready, true);
    assert.equal(d.con.input(new TextEncoder().encode('ls -l\r')), 6);
    assert.equal(d.usedIdx(CONSOLE_RECEIVEQ), 2);
    assert.deepEqual(d.usedEntry(CONSOLE_RECEIVEQ, 0), { id: h1, len: 4 });
    assert.deepEqual(d.usedEntry(CONSOLE_RECEIVEQ, 1), { id: h2, len: 2 });
    assert.equal(new TextDecoder().decode(d.ram.subarray(BUF, BUF + 4)), 'ls -');
    assert.equal(new TextDecoder().decode(d.ram.subarray(BUF + 0x100, BUF + 0x102)), 'l\r');
    assert.equal(d.irq, true);
    assert.equal(d.con.input(new Uint8Array([1])), 0, 'no buffer left: the caller keeps the byte');
  });

  it('caps one transmit chain at MAX_TRANSMIT_BYTES', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_TRANSMITQ, [{ addr: BASE, len: RAM }, { addr: BASE, len: RAM }]);
    d.t.service(0n);
    assert.equal(d.out.length, MAX_TRANSMIT_BYTES);
    assert.equal(d.con.stats.dropped, 2 * RAM - MAX_TRANSMIT_BYTES);
    assert.equal(d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET, 0);
  });

  it('starts over after a reset: no input until the driver is live again', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_RECEIVEQ, [{ addr: BASE + BUF, len: 4, write: true }]);
    d.set(REG.status, 0);
    assert.equal(d.con.ready, false);
    assert.equal(d.con.input(new Uint8Array([1])), 0);
  });
});

describe('virtio-console: a hostile driver gets DEVICE_NEEDS_RESET', () => {
  const needsReset = (d: FakeDriver) => {
    assert.ok(d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET, 'DEVICE_NEEDS_RESET');
    assert.ok(d.reg(REG.isr) & INTERRUPT_CONFIG_CHANGE);
    assert.equal(d.failures.length, 1);
  };

  it('a device-writable buffer on the transmitq', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_TRANSMITQ, [{ addr: BASE + BUF, len: 4, write: true }]);
    d.t.service(0n);
    needsReset(d);
    assert.equal(d.out.length, 0);
  });

  it('a device-readable buffer on the receiveq', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_RECEIVEQ, [{ addr: BASE + BUF, len: 4 }]);
    d.t.service(0n);
    assert.equal(d.con.input(new Uint8Array([0x41])), 0);
    needsReset(d);
    assert.equal(d.ram[BUF], 0);
    assert.equal(d.con.ready, false);
  });

  it('a buffer outside RAM, a descriptor index past the queue, a loop, an indirect descriptor', () => {
    const hostile: Buf[][] = [
      [{ addr: BASE + RAM - 2, len: 4 }],
      [{ addr: BASE + BUF, len: 4, flags: 1, next: QSIZE }],
      [{ addr: BASE + BUF, len: 4, flags: 1, next: 0 }],
      [{ addr: BASE + BUF, len: 16, flags: 4 }],
    ];
    for (const bufs of hostile) {
      const d = new FakeDriver();
      d.start();
      d.submit(CONSOLE_TRANSMITQ, bufs);
      d.t.service(0n);
      needsReset(d);
      assert.equal(d.out.length, 0);
    }
  });

  it('receive buffers outside RAM are never written', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_RECEIVEQ, [{ addr: BASE + RAM, len: 1, write: true }]);
    assert.equal(d.con.input(new Uint8Array([0x41])), 0);
    needsReset(d);
  });

  it('an available index more than the queue size ahead', () => {
    const d = new FakeDriver();
    d.start();
    d.setAvailIdx(CONSOLE_RECEIVEQ, QSIZE + 1);
    assert.equal(d.con.input(new Uint8Array([0x41])), 0);
    needsReset(d);
  });

  it('recovers after a reset and renegotiation', () => {
    const d = new FakeDriver();
    d.start();
    d.submit(CONSOLE_TRANSMITQ, [{ addr: BASE + BUF, len: 4, write: true }]);
    d.t.service(0n);
    d.set(REG.status, 0);
    assert.equal(d.reg(REG.status), 0);
    const fresh = new FakeDriver();
    fresh.start();
    fresh.transmit('ok');
    fresh.t.service(0n);
    assert.equal(fresh.text, 'ok');
  });
});
