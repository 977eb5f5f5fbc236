// The in-memory folder the page's shared folders live in while their VM runs: the page's
// own operations on it (drops, downloads, save and restore) and its bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryShare } from './index.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('MemoryShare', () => {
  it('puts a file under new directories, replaces it, reads it back, and lists it', () => {
    const m = new MemoryShare();
    m.putFile('a/b/c.txt', bytes('one'));
    m.putFile('a/b/c.txt', bytes('two!'));
    assert.equal(new TextDecoder().decode(m.readFile('a/b/c.txt')), 'two!');
    assert.deepEqual(m.summary(), [
      { path: 'a', kind: 'dir', size: 0 },
      { path: 'a/b', kind: 'dir', size: 0 },
      { path: 'a/b/c.txt', kind: 'file', size: 4 },
    ]);
    assert.equal(m.usedBytes, 4);
    assert.throws(() => m.putFile('a/../x', bytes('x')), { code: 'EINVAL' });
    assert.throws(() => m.putFile('a/b', bytes('x')), { code: 'EEXIST' });
    assert.throws(() => m.readFile('a'), { code: 'EISDIR' });
  });

  it('refuses what does not fit (ENOSPC) and changes nothing then', () => {
    const m = new MemoryShare({ maxBytes: 10, maxObjects: 3 });
    m.putFile('f', bytes('12345678'));
    assert.throws(() => m.putFile('g', bytes('abc')), { code: 'ENOSPC' });
    assert.deepEqual(m.summary().map((e) => e.path), ['f']);
    m.putFile('g', bytes('ab'));
    assert.throws(() => m.putFile('h', bytes('')), { code: 'ENOSPC' });
    assert.equal(m.usedBytes, 10);
  });

  it('saves as entries and loads them back the same, links included', async () => {
    const m = new MemoryShare();
    m.putFile('d/f.bin', Uint8Array.of(0, 1, 2, 255));
    await m.symlink(['d', 'ln'], '/etc/passwd');
    const copy = new MemoryShare();
    copy.load(m.entries());
    assert.deepEqual(copy.entries(), m.entries());
    assert.equal(await copy.readlink(['d', 'ln']), '/etc/passwd');
  });

  it('keeps an unlinked file readable through a handle still open, and frees it at close', async () => {
    const m = new MemoryShare();
    m.putFile('tmp', bytes('still here'));
    const h = await m.open(['tmp'], { read: true, write: true, truncate: false });
    await m.remove(['tmp'], false);
    assert.equal(new TextDecoder().decode(await h.read(0, 100)), 'still here');
    await h.write(10, bytes('!'));
    assert.equal(new TextDecoder().decode(await h.read(0, 100)), 'still here!');
    assert.equal(m.usedBytes, 11, 'the open file still holds its bytes');
    await h.close();
    assert.equal(m.usedBytes, 0);
    m.putFile('old', bytes('replaced'));
    m.putFile('new', bytes('x'));
    const old = await m.open(['old'], { read: true, write: false, truncate: false });
    await m.rename(['new'], ['old']);
    assert.equal(new TextDecoder().decode(await old.read(0, 100)), 'replaced');
    await old.close();
    await old.close();
    assert.equal(m.usedBytes, 1);
  });
});
