// The page's switch as a worker meets it: frames over a MessagePort as transferred
// ArrayBuffers, messages that are not a well-sized frame refused and counted, the capture,
// names the switch refuses, and detaching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromName, NetError } from '../net/index.ts';
import { ServerNetwork } from './ServerNetwork.ts';

function frame(dst: Uint8Array, src: Uint8Array, bytes = 60): ArrayBuffer {
  const f = new Uint8Array(bytes);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88; // a local experimental EtherType: the services ignore it
  f[13] = 0xb5;
  return f.buffer;
}

/** The next message a worker's end gets. */
function next(port: MessagePort): Promise<unknown> {
  return new Promise((resolve) => {
    port.onmessage = (e) => resolve(e.data);
  });
}

/** Lets the channels and the switch's microtask move what was posted. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('ServerNetwork', () => {
  it('carries a frame from one worker to another and captures it as pcap', async () => {
    const net = new ServerNetwork();
    const a = net.attach('alpha');
    const b = net.attach('beta');
    try {
      const got = next(b.workerPort);
      a.workerPort.postMessage(frame(macFromName('beta'), macFromName('alpha')));
      const data = await got;
      assert.ok(data instanceof ArrayBuffer);
      assert.deepEqual(new Uint8Array(data).subarray(0, 6), macFromName('beta'));
      assert.equal(a.port.stats.sentFrames, 1);
      assert.equal(b.port.stats.receivedFrames, 1);
      const stats = net.captureStats();
      assert.equal(stats.frames, 1);
      const pcap = new Uint8Array(await net.capture().arrayBuffer());
      const v = new DataView(pcap.buffer);
      assert.equal(v.getUint32(0, true), 0xa1b2c3d4);
      assert.equal(v.getUint32(20, true), 1, 'link type Ethernet');
      assert.equal(v.getUint32(24 + 8, true), 60, 'one 60-byte record');
      assert.equal(pcap.length, 24 + 16 + 60);
    } finally {
      a.workerPort.close();
      b.workerPort.close();
      net.dispose();
    }
  });

  it('refuses and counts messages that are not an Ethernet frame of a possible size', async () => {
    const net = new ServerNetwork();
    const a = net.attach('alpha');
    try {
      a.workerPort.postMessage(new ArrayBuffer(13));
      a.workerPort.postMessage(frame(macFromName('x'), macFromName('alpha'), 1519));
      a.workerPort.postMessage('not a frame');
      a.workerPort.postMessage(new Uint8Array(60));
      a.workerPort.postMessage(frame(macFromName('x'), macFromName('alpha'), 1518));
      await settle();
      assert.equal(a.rejected, 4);
      assert.equal(a.port.stats.sentFrames, 1, 'only the 1518-byte frame entered the switch');
      assert.equal(net.captureStats().frames, 1);
    } finally {
      a.workerPort.close();
      net.dispose();
    }
  });

  it('posts a worker no more frames than its credit; its acknowledgements give credit back', async () => {
    const net = new ServerNetwork(3);
    const a = net.attach('alpha');
    const b = net.attach('beta');
    const got: unknown[] = [];
    b.workerPort.onmessage = (e) => got.push(e.data);
    try {
      for (let i = 0; i < 5; i++) a.workerPort.postMessage(frame(macFromName('beta'), macFromName('alpha')));
      await settle();
      assert.equal(got.length, 3, 'three frames on credit');
      assert.equal(b.undelivered, 2, 'the rest dropped and counted');
      b.workerPort.postMessage(2);
      b.workerPort.postMessage(5); // more than it was ever given: refused
      await settle();
      assert.equal(b.rejected, 1);
      for (let i = 0; i < 3; i++) a.workerPort.postMessage(frame(macFromName('beta'), macFromName('alpha')));
      await settle();
      assert.equal(got.length, 5, 'two more after two were acknowledged');
      assert.equal(b.undelivered, 3);
    } finally {
      a.workerPort.close();
      b.workerPort.close();
      net.dispose();
    }
  });

  it('refuses a second VM of the same name and a name that is no host name; a detached name is free again', () => {
    const net = new ServerNetwork();
    try {
      const a = net.attach('web');
      assert.throws(() => net.attach('WEB'), NetError);
      assert.throws(() => net.attach('base_1'), NetError);
      assert.equal(a.lease(), undefined, 'no DHCP lease before the guest asks');
      a.detach();
      a.detach();
      const again = net.attach('web');
      assert.equal(net.sw.portList.filter((p) => p.kind === 'vm').length, 1);
      again.workerPort.close();
    } finally {
      net.dispose();
    }
    assert.equal(net.sw.portList.filter((p) => p.kind === 'vm').length, 0, 'dispose detaches every VM');
  });
});
