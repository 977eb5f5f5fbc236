// VhdDisk.mergeParent, what deleting a snapshot does to the disks over it: a chain of
// files (base <- s1 <- s2 <- current, and a second current over s1) written with random
// sector runs that overlap across layers, the expected contents of every disk kept as plain
// raw files beside them, and after each merge qemu-img compares a dynamic export of every
// remaining disk with its raw model (qemu-img reads no VHD chains, so the export is how
// it sees one). qemu-img check does not do VHD; `checkVhd` (romvisor vhd check) does.
import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkVhd, MemoryBackend, VhdDisk, VhdError, type BlockBackend, type ParentResolver } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { qemuImg, tempDir, waitForQemuImg } from './diskFixtures.ts';

const SIZE = 4 * 1024 * 1024;
const BLOCK = 256 * 1024;
const SECTOR = 512;
let dir: string;
let cleanup: () => void;

before(async () => {
  await waitForQemuImg();
  ({ dir, cleanup } = tempDir('vhd-merge'));
});
after(() => cleanup());

const path = (name: string) => join(dir, `${name}.vhd`);
const open = async (name: string, readOnly = true) => VhdDisk.open(await FileBackend.open(path(name), { readOnly }), { parentResolver: fileParentResolver(), readOnly });

/** Writes random sector runs (some inside one block, some across blocks) into the disk and its model. */
async function scribble(name: string, model: Uint8Array, rnd: SeededRandom, runs: number): Promise<void> {
  const disk = await open(name, false);
  try {
    for (let i = 0; i < runs; i++) {
      const sectors = rnd.chance(0.2) ? rnd.int(BLOCK / SECTOR, (2 * BLOCK) / SECTOR) : rnd.int(1, 24);
      const first = rnd.below(SIZE / SECTOR - sectors);
      const data = rnd.bytes(sectors * SECTOR);
      await disk.write(first * SECTOR, data);
      model.set(data, first * SECTOR);
    }
  } finally {
    await disk.dispose();
  }
}

async function child(name: string, parent: string): Promise<void> {
  const p = await open(parent);
  const d = await VhdDisk.createDifferencing(await FileBackend.create(path(name)), p, { parentRelativePath: `./${parent}.vhd`, parentName: `${parent}.vhd` });
  await d.dispose();
}

/** qemu-img's verdict on a disk: its chain exported as one dynamic VHD against the raw model. */
async function qemuSame(name: string, model: Uint8Array): Promise<void> {
  const raw = join(dir, `${name}.model.raw`);
  const flat = join(dir, `${name}.flat.vhd`);
  writeFileSync(raw, model);
  const disk = await open(name);
  const target = await FileBackend.create(flat);
  try {
    await disk.exportTo(target, 'dynamic');
  } finally {
    await target.dispose();
    await disk.dispose();
  }
  const out = qemuImg('compare', '-f', 'raw', '-F', 'vpc', raw, flat);
  assert.match(out, /Images are identical/, `${name}: ${out}`);
}

async function sound(name: string): Promise<string[]> {
  const report = await checkVhd(await FileBackend.open(path(name), { readOnly: true }), { parentResolver: fileParentResolver() });
  assert.deepEqual(report.problems, [], `${name}: ${report.problems.join('; ')}`);
  return report.chain.map((c) => c.uuid);
}

async function uuidOf(name: string): Promise<string> {
  const d = await open(name);
  const u = d.uuid;
  await d.dispose();
  return u;
}

async function merge(name: string): Promise<void> {
  const d = await open(name, false);
  try {
    await d.mergeParent();
  } finally {
    await d.dispose();
  }
}

describe('merging a snapshot disk into the disks over it', () => {
  it('keeps every sector of every remaining disk, as qemu-img reads them', async () => {
    const rnd = new SeededRandom(18_2026);
    const base = await VhdDisk.createDynamic(await FileBackend.create(path('base')), SIZE, { blockSize: BLOCK });
    await base.dispose();
    const mBase = new Uint8Array(SIZE);
    await scribble('base', mBase, rnd, 40);
    await child('s1', 'base');
    const mS1 = mBase.slice();
    await scribble('s1', mS1, rnd, 60);
    await child('s2', 's1');
    const mS2 = mS1.slice();
    await scribble('s2', mS2, rnd, 60);
    await child('cur', 's2');
    const mCur = mS2.slice();
    await scribble('cur', mCur, rnd, 60);
    await child('side', 's1');
    const mSide = mS1.slice();
    await scribble('side', mSide, rnd, 30);
    for (const [n, m] of [['s1', mS1], ['s2', mS2], ['cur', mCur], ['side', mSide]] as const) await qemuSame(n, m);

    // Delete snapshot s1: both disks over it take in its sectors and name base as parent.
    await merge('s2');
    await merge('side');
    unlinkSync(path('s1'));
    const baseUuid = await uuidOf('base');
    assert.deepEqual(await sound('s2'), [await uuidOf('s2'), baseUuid]);
    assert.deepEqual(await sound('side'), [await uuidOf('side'), baseUuid]);
    assert.deepEqual((await sound('cur')).slice(1), [await uuidOf('s2'), baseUuid]);
    for (const [n, m] of [['s2', mS2], ['cur', mCur], ['side', mSide]] as const) await qemuSame(n, m);

    // Then s2: the current disk sits right on the base, still reading what it wrote.
    await merge('cur');
    unlinkSync(path('s2'));
    assert.deepEqual(await sound('cur'), [await uuidOf('cur'), baseUuid]);
    await qemuSame('cur', mCur);
    await qemuSame('side', mSide);

    // A merged disk is an ordinary differencing disk: it takes writes and keeps them.
    await scribble('cur', mCur, rnd, 10);
    await qemuSame('cur', mCur);
  });

  it('refuses a disk whose parent is the base, and a read-only disk', async () => {
    const base = await VhdDisk.createDynamic(await FileBackend.create(path('b2')), SIZE, { blockSize: BLOCK });
    await base.dispose();
    await child('c2', 'b2');
    const d = await open('c2', false);
    await assert.rejects(d.mergeParent(), (e: unknown) => e instanceof VhdError && e.code === 'unsupported-type');
    await d.dispose();
    await child('c3', 'c2');
    const ro = await open('c3', true);
    await assert.rejects(ro.mergeParent(), (e: unknown) => e instanceof VhdError && e.code === 'read-only');
    await ro.dispose();
  });

  it('a merge cut short after any write leaves the disk reading what it read, over its old parent', async () => {
    const rnd = new SeededRandom(4242);
    const files = new Map<string, Uint8Array>();
    const resolver: ParentResolver = async (ref) => {
      const b = files.get(ref.uniqueId);
      return b && new MemoryBackend(b.slice(), { readOnly: true });
    };
    const keep = async (d: VhdDisk, b: MemoryBackend) => {
      await d.flush();
      files.set(d.uuid, b.bytes().slice());
    };
    const model = new Uint8Array(SIZE);
    const write = async (d: VhdDisk, runs: number) => {
      for (let i = 0; i < runs; i++) {
        const sectors = rnd.int(1, 40);
        const first = rnd.below(SIZE / SECTOR - sectors);
        const data = rnd.bytes(sectors * SECTOR);
        await d.write(first * SECTOR, data);
        model.set(data, first * SECTOR);
      }
    };
    const bb = new MemoryBackend();
    const base = await VhdDisk.createDynamic(bb, SIZE, { blockSize: BLOCK });
    await write(base, 20);
    await keep(base, bb);
    const mb = new MemoryBackend();
    const mid = await VhdDisk.createDifferencing(mb, base, { parentName: base.uuid });
    await write(mid, 40);
    await keep(mid, mb);
    const tb = new MemoryBackend();
    const top = await VhdDisk.createDifferencing(tb, mid, { parentName: mid.uuid });
    await write(top, 40);
    await top.flush();
    const topBytes = tb.bytes().slice();
    await top.dispose();

    // Counts the writes of a whole merge, then cuts one short at points along it.
    let total = 0;
    for (const cut of [Infinity, 1, 2, 5, 11, 23, 47, 95]) {
      const mem = new MemoryBackend(topBytes.slice());
      let writes = 0;
      const dying: BlockBackend = {
        get size() { return mem.size; },
        readOnly: false,
        read: (o, l) => mem.read(o, l),
        write: async (o, d) => {
          if (++writes > cut) throw new Error('the tab closed');
          await mem.write(o, d);
        },
        settle: () => mem.settle(),
        flush: () => mem.flush(),
        dispose: () => mem.dispose(),
      };
      const d = await VhdDisk.open(dying, { parentResolver: resolver });
      const outcome = await d.mergeParent().then(() => 'done', (e: Error) => e.message);
      await d.dispose().catch(() => {});
      if (cut === Infinity) {
        total = writes;
        assert.equal(outcome, 'done');
        continue;
      }
      if (cut >= total) break;
      assert.equal(outcome, 'the tab closed');
      const again = await VhdDisk.open(new MemoryBackend(mem.bytes().slice(), { readOnly: true }), { parentResolver: resolver, readOnly: true });
      try {
        assert.equal(again.parent?.uuid, mid.uuid, `cut after ${cut} of ${total} writes: still over its old parent`);
        assert.ok(Buffer.from(await again.read(0, SIZE)).equals(model), `cut after ${cut} of ${total} writes: reads what it read`);
      } finally {
        await again.dispose();
      }
    }
    assert.ok(total > 47, `a merge of this chain takes ${total} writes`);
  });
});
