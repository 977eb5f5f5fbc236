import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyOnWriteDisk } from './CopyOnWriteDisk.ts';
import { MemoryBackend } from './MemoryBackend.ts';

describe('CopyOnWriteDisk', () => {
  it('reads the base, overlays writes across chunk edges, and never writes the base', async () => {
    const base = new MemoryBackend();
    const original = Uint8Array.from({ length: 3 * 4096 + 100 }, (_, i) => (i * 13) & 0xff);
    await base.write(0, original);
    const cow = new CopyOnWriteDisk(base, 'base.img');
    assert.equal(cow.size, original.length);
    assert.deepEqual(await cow.read(10, 20), original.subarray(10, 30));
    const data = Uint8Array.from({ length: 5000 }, (_, i) => 255 - (i & 0xff));
    await cow.write(4000, data); // spans chunks 0, 1 and 2
    await cow.write(3 * 4096 + 90, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)); // the short last chunk
    const expected = original.slice();
    expected.set(data, 4000);
    expected.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3 * 4096 + 90);
    assert.deepEqual(await cow.read(0, expected.length), expected);
    assert.deepEqual(await cow.read(3990, 30), expected.subarray(3990, 4020));
    assert.deepEqual(await base.read(0, original.length), original, 'the base is untouched');
    assert.equal(cow.bytesHeld, 4 * 4096);
  });

  it('refuses ranges outside the disk', async () => {
    const base = new MemoryBackend();
    await base.write(0, new Uint8Array(1024));
    const cow = new CopyOnWriteDisk(base, 'base.img');
    await assert.rejects(cow.read(1000, 100), /base\.img: read of 100 bytes at 0x3e8 is outside its 1024 bytes/);
    await assert.rejects(cow.write(1020, new Uint8Array(8)), /write of 8 bytes/);
    await assert.rejects(cow.read(-1, 1), /outside/);
  });
});
