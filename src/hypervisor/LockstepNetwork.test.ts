// A deterministic scenario's network as its workers meet it: one quantum posted at a time
// with the guest time to run to, the frames a guest sent crossing only at the quantum's end
// (delivered with the next quantum), a guest that ended leaving, replies that are not
// frames counted and left out, and nothing posted before start().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromName, QUANTUM_TICKS } from '../net/index.ts';
import type { LockstepQuantum, LockstepReply } from '../worker/VmWorkerApi.ts';
import { LockstepNetwork } from './LockstepNetwork.ts';

function frame(dst: string, src: string, tag: number, bytes = 60): ArrayBuffer {
  const f = new Uint8Array(bytes);
  f.set(macFromName(dst), 0);
  f.set(macFromName(src), 6);
  f[12] = 0x88; // a local experimental EtherType: the services ignore it
  f[13] = 0xb5;
  f[14] = tag;
  return f.buffer;
}

/**
 * A worker's end: answers each quantum with what `plan` says for that quantum (by its
 * index), and records what it was given.
 */
function fakeWorker(port: MessagePort, plan: (n: number) => Partial<LockstepReply> & { raw?: unknown } = () => ({})) {
  const seen: { boundary: bigint; tags: number[] }[] = [];
  port.onmessage = (e: MessageEvent) => {
    const q = e.data as LockstepQuantum;
    seen.push({ boundary: q.boundary, tags: q.frames.map((f) => new Uint8Array(f)[14]!) });
    const p = plan(seen.length - 1);
    const frames = p.frames ?? [];
    port.postMessage(p.raw ?? { frames, ended: p.ended ?? false }, frames.filter((f) => f instanceof ArrayBuffer));
  };
  return seen;
}

const until = async (what: string, cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), `timed out waiting for ${what}`);
};

describe('LockstepNetwork', () => {
  it('runs every guest to the same boundary, and a frame crosses at the end of the quantum it was sent in', async () => {
    const net = new LockstepNetwork();
    const a = net.attach('alpha');
    const b = net.attach('beta');
    const toA = fakeWorker(a.workerPort, (n) => (n === 0 ? { frames: [frame('beta', 'alpha', 7), frame('beta', 'alpha', 8)] } : {}));
    const toB = fakeWorker(b.workerPort, (n) => (n === 1 ? { frames: [frame('alpha', 'beta', 9)] } : {}));
    try {
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(toA.length + toB.length, 0, 'nothing runs before start()');
      net.start();
      await until('three quanta', () => toA.length >= 3 && toB.length >= 3);
      assert.deepEqual(toA.slice(0, 3).map((q) => q.boundary), [QUANTUM_TICKS, 2n * QUANTUM_TICKS, 3n * QUANTUM_TICKS]);
      assert.deepEqual(toB.slice(0, 3).map((q) => q.boundary), toA.slice(0, 3).map((q) => q.boundary));
      assert.deepEqual(toB.slice(0, 3).map((q) => q.tags), [[], [7, 8], []], 'sent in quantum 1, given to beta with quantum 2, in order');
      assert.deepEqual(toA.slice(0, 3).map((q) => q.tags), [[], [], [9]]);
      assert.equal(a.port.stats.sentFrames, 2);
      assert.equal(b.port.stats.receivedFrames, 2);
    } finally {
      net.dispose();
    }
  });

  it('a guest that ended leaves before its last frames cross; the others run on', async () => {
    const net = new LockstepNetwork();
    const a = net.attach('alpha');
    const b = net.attach('beta');
    const toA = fakeWorker(a.workerPort, (n) => (n === 1 ? { frames: [frame('beta', 'alpha', 1)], ended: true } : {}));
    const toB = fakeWorker(b.workerPort);
    try {
      net.start();
      await until('beta runs on', () => toB.length >= 5);
      assert.equal(toA.length, 2, 'alpha got no quantum after it ended');
      assert.ok(toB.every((q) => q.tags.length === 0), 'its last frame never crossed');
      assert.equal(net.switch.portList.filter((p) => p.kind === 'vm').length, 1);
    } finally {
      net.dispose();
    }
  });

  it('counts what is not a frame in a reply and leaves it out; a reply nobody asked for is refused', async () => {
    const net = new LockstepNetwork();
    const a = net.attach('alpha');
    const b = net.attach('beta');
    const bad = [new ArrayBuffer(13), frame('beta', 'alpha', 2, 1519), 'text' as unknown as ArrayBuffer, frame('beta', 'alpha', 3)];
    fakeWorker(a.workerPort, (n) => (n === 0 ? { raw: { frames: bad, ended: false } } : {}));
    const toB = fakeWorker(b.workerPort);
    try {
      net.start();
      await until('two quanta', () => toB.length >= 2);
      assert.deepEqual(toB[1]!.tags, [3], 'only the well-sized frame crossed');
      assert.equal(a.rejected, 3);
      b.workerPort.postMessage({ frames: [], ended: false });
      b.workerPort.postMessage('hello');
      await until('the refusals', () => b.rejected >= 1);
    } finally {
      net.dispose();
    }
  });

  it('a guest that is switched off (detach) no longer holds the others back, and leaves its DHCP name free', async () => {
    const net = new LockstepNetwork();
    const a = net.attach('alpha');
    const b = net.attach('beta');
    // alpha never answers: its worker is hung or being stopped.
    a.workerPort.onmessage = () => {};
    const toB = fakeWorker(b.workerPort);
    try {
      net.start();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(toB.length, 1, 'beta waits for alpha at the end of the first quantum');
      a.detach();
      await until('beta to run on', () => toB.length >= 3);
      const again = net.attach('alpha');
      fakeWorker(again.workerPort);
      await until('the new alpha to join', () => net.switch.portList.filter((p) => p.kind === 'vm').length === 2);
    } finally {
      net.dispose();
    }
  });
});
