import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryBackend, VhdDisk, VhdError } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { pattern, qemuImg, qemuVirtualSize, sha256, tempDir, waitForQemuImg } from './diskFixtures.ts';

const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;
before(async () => {
  await waitForQemuImg();
  ({ dir, cleanup } = tempDir('vhd-diff'));
});
after(() => cleanup());

/** A base dynamic VHD file holding `content`, written with romvisor. */
async function makeBase(path: string, content: Uint8Array): Promise<void> {
  const base = await VhdDisk.createDynamic(await FileBackend.create(path), content.length);
  await base.write(0, content);
  await base.dispose();
}

describe('a differencing disk over a base file', () => {
  it('writes only into the child, reads new data over the parent, and exports the merged chain', async () => {
    const size = 8 * MiB;
    const baseContent = pattern(size, 1);
    const basePath = join(dir, 'base.vhd');
    await makeBase(basePath, baseContent);
    const baseHash = sha256(readFileSync(basePath));

    const childPath = join(dir, 'child.vhd');
    const parent = await VhdDisk.open(await FileBackend.open(basePath, { readOnly: true }));
    const child = await VhdDisk.createDifferencing(await FileBackend.create(childPath), parent, {
      parentRelativePath: './base.vhd',
      parentAbsolutePath: basePath,
    });
    const expected = baseContent.slice();
    const writes: [number, Uint8Array][] = [
      [512, pattern(1024, 2)], // inside block 0, leaving sector 0 and the rest to the parent
      [2 * MiB - 1024, pattern(4096, 3)], // across the block 0/1 boundary
      [7 * MiB + 100, pattern(33, 4)], // unaligned: widened to sectors by read-modify-write
    ];
    for (const [at, data] of writes) {
      await child.write(at, data);
      expected.set(data, at);
    }
    assert.ok(Buffer.from(await child.read(0, size)).equals(expected));
    assert.equal(await child.changedBytes(), 2 * 512 + 4096 + 512);
    await child.dispose();
    assert.equal(sha256(readFileSync(basePath)), baseHash, 'the parent file changed');

    // Re-open from the file alone: the parent is found through the locators.
    const reopened = await VhdDisk.open(await FileBackend.open(childPath), { parentResolver: fileParentResolver() });
    try {
      assert.equal(reopened.type, 'differencing');
      assert.equal(reopened.parent?.uuid, parent.uuid);
      assert.deepEqual(reopened.parentReference?.locators.map((l) => l.platform), ['W2ru', 'W2ku']);
      assert.ok(Buffer.from(await reopened.read(0, size)).equals(expected));
      for (const type of ['dynamic', 'fixed'] as const) {
        const outPath = join(dir, `flat-${type}.vhd`);
        const out = await FileBackend.create(outPath);
        await reopened.exportTo(out, type);
        await out.dispose();
        assert.equal(qemuVirtualSize(outPath), size);
        const rawPath = join(dir, `flat-${type}.raw`);
        qemuImg('convert', '-f', 'vpc', '-O', 'raw', outPath, rawPath);
        assert.ok(readFileSync(rawPath).equals(expected), `${type} export differs`);
      }
    } finally {
      await reopened.dispose();
    }
    assert.equal(sha256(readFileSync(basePath)), baseHash);
  });

  it('reads through a three-disk chain with each level overriding the one below', async () => {
    const size = 4 * MiB;
    const base = await VhdDisk.createDynamic(new MemoryBackend(), size, { blockSize: 64 * 1024 });
    await base.write(0, pattern(size, 9));
    const mid = await VhdDisk.createDifferencing(new MemoryBackend(), base);
    await mid.write(4096, pattern(8192, 10));
    const top = await VhdDisk.createDifferencing(new MemoryBackend(), mid);
    await top.write(8192, pattern(512, 11));
    const expected = pattern(size, 9);
    expected.set(pattern(8192, 10), 4096);
    expected.set(pattern(512, 11), 8192);
    assert.ok(Buffer.from(await top.read(0, size)).equals(expected));
    await top.dispose();
  });

  it('refuses a parent whose unique id does not match', async () => {
    const a = await VhdDisk.createDynamic(new MemoryBackend(), MiB);
    const childBackend = new MemoryBackend();
    await (await VhdDisk.createDifferencing(childBackend, a)).flush();
    const impostor = new MemoryBackend();
    await VhdDisk.createDynamic(impostor, MiB);
    await assert.rejects(
      VhdDisk.open(childBackend, { parentResolver: async () => impostor }),
      (e: unknown) => e instanceof VhdError && e.code === 'parent-mismatch' && e.message.includes(a.uuid),
    );
  });

  it('reports a missing parent and a parent loop with their own codes', async () => {
    const a = await VhdDisk.createDynamic(new MemoryBackend(), MiB);
    const childBackend = new MemoryBackend();
    await VhdDisk.createDifferencing(childBackend, a);
    await assert.rejects(VhdDisk.open(childBackend), (e: unknown) => e instanceof VhdError && e.code === 'parent-missing');
    await assert.rejects(
      VhdDisk.open(childBackend, { parentResolver: async () => undefined }),
      (e: unknown) => e instanceof VhdError && e.code === 'parent-missing',
    );
    // C's parent is P; P2 claims P's unique id but is itself a child of C: C -> P2 -> C.
    const p = await VhdDisk.createDynamic(new MemoryBackend(), MiB);
    const cBackend = new MemoryBackend();
    const c = await VhdDisk.createDifferencing(cBackend, p);
    const p2Backend = new MemoryBackend();
    await VhdDisk.createDifferencing(p2Backend, c, { uniqueId: p.footer.uniqueId });
    await assert.rejects(
      VhdDisk.open(new MemoryBackend(cBackend.bytes()), {
        parentResolver: async (ref) => (ref.uniqueId === p.uuid ? new MemoryBackend(p2Backend.bytes()) : new MemoryBackend(cBackend.bytes())),
      }),
      (e: unknown) => e instanceof VhdError && e.code === 'parent-loop',
    );
  });

  it('never writes to a read-only base', async () => {
    const base = new MemoryBackend();
    await VhdDisk.createDynamic(base, MiB);
    const ro = await VhdDisk.open(new MemoryBackend(base.bytes(), { readOnly: true }));
    await assert.rejects(ro.write(0, new Uint8Array(512)), (e: unknown) => e instanceof VhdError && e.code === 'read-only');
  });
});
