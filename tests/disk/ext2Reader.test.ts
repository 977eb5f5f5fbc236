import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Ext2Error,
  Ext2Reader,
  MBR_TYPE_LINUX,
  MbrPartitionTable,
  MemoryBackend,
  openPartitionFileSystem,
  PartitionError,
  readPartitionFile,
  VhdDisk,
} from '../../src/disk/index.ts';
import { pattern, run, tempDir } from './diskFixtures.ts';

const MiB = 1024 * 1024;
const DISK_SIZE = 48 * MiB;
const P1 = { firstLba: 2048, sectorCount: (24 * MiB) / 512 }; // ext4
const P2 = { firstLba: 2048 + (24 * MiB) / 512, sectorCount: (20 * MiB) / 512 }; // ext2

let dir: string;
let cleanup: () => void;
let disk: VhdDisk;
const files = new Map<string, Uint8Array>();

/** The tree both file systems are made from (mke2fs -d), remembered for comparison. */
function populate(root: string): void {
  const put = (rel: string, data: Uint8Array): void => {
    writeFileSync(join(root, rel), data);
    files.set(`/${rel}`, data);
  };
  mkdirSync(join(root, 'boot/nested/deeper'), { recursive: true });
  put('appliance.json', new TextEncoder().encode(JSON.stringify({ name: 'test', memory: 64 })));
  put('small.txt', new TextEncoder().encode('hello\n'));
  // 3 MB: with 1 KiB blocks this needs double-indirect blocks on ext2; several extents on ext4.
  put('boot/Image', pattern(3_000_000, 1));
  put('boot/nested/deeper/leaf.bin', pattern(70_000, 2));
  put('empty', new Uint8Array(0));
  for (let i = 0; i < 40; i++) put(`boot/nested/f${i}`, pattern(100 + i, 10 + i));
  // 20 data chunks separated by holes: more extents than fit in the inode (tree depth 1).
  const fd = openSync(join(root, 'sparse.bin'), 'w');
  const sparse = new Uint8Array(19 * 65536 + 4096);
  for (let i = 0; i < 20; i++) {
    const chunk = pattern(4096, 100 + i);
    writeSync(fd, chunk, 0, chunk.length, i * 65536);
    sparse.set(chunk, i * 65536);
  }
  closeSync(fd);
  files.set('/sparse.bin', sparse);
  symlinkSync('boot/Image', join(root, 'vmlinux'));
  symlinkSync('../../small.txt', join(root, 'boot/nested/up'));
}

before(async () => {
  ({ dir, cleanup } = tempDir('ext2'));
  const src = join(dir, 'src');
  mkdirSync(src);
  populate(src);
  const raw = new Uint8Array(DISK_SIZE);
  raw.set(MbrPartitionTable.create([{ type: MBR_TYPE_LINUX, bootable: true, ...P1 }, { type: MBR_TYPE_LINUX, ...P2 }], DISK_SIZE, 0x1234abcd));
  for (const [name, part, fsType] of [['p1.img', P1, 'ext4'], ['p2.img', P2, 'ext2']] as const) {
    const img = join(dir, name);
    writeFileSync(img, new Uint8Array(0));
    run('mke2fs', ['-q', '-F', '-t', fsType, '-b', '1024', '-d', src, img, `${(part.sectorCount * 512) / 1024}`]);
    raw.set(readFileSync(img), part.firstLba * 512);
  }
  const sparseExtents = run('debugfs', ['-R', 'ex /sparse.bin', join(dir, 'p1.img')]);
  assert.match(sparseExtents, /^\s*0\/\s*1\s/m, 'fixture: sparse.bin should have an extent tree of depth 1');
  disk = await VhdDisk.createDynamic(new MemoryBackend(), DISK_SIZE);
  await disk.write(0, raw);
});
after(() => cleanup());

describe('MBR partition table', () => {
  it('reads back the table it created', async () => {
    const table = await MbrPartitionTable.read(disk);
    assert.equal(table.diskSignature, 0x1234abcd);
    assert.deepEqual(table.partitions, [
      { number: 1, type: 0x83, bootable: true, ...P1 },
      { number: 2, type: 0x83, bootable: false, ...P2 },
    ]);
  });

  it('refuses overlapping, oversized and GPT tables', async () => {
    assert.throws(() => MbrPartitionTable.create([{ type: 0x83, firstLba: 1, sectorCount: 100 }, { type: 0x83, firstLba: 50, sectorCount: 10 }], MiB), (e: unknown) => e instanceof PartitionError && e.code === 'overlap');
    assert.throws(() => MbrPartitionTable.create([{ type: 0x83, firstLba: 2048, sectorCount: 2048 }], MiB), (e: unknown) => e instanceof PartitionError && e.code === 'out-of-range');
    const gpt = MbrPartitionTable.create([{ type: 0x83, firstLba: 1, sectorCount: 100 }], MiB);
    gpt[446 + 4] = 0xee;
    await assert.rejects(MbrPartitionTable.read(new MemoryBackend(gpt)), (e: unknown) => e instanceof PartitionError && e.code === 'gpt-unsupported');
    await assert.rejects(MbrPartitionTable.read(new MemoryBackend(new Uint8Array(512))), (e: unknown) => e instanceof PartitionError && e.code === 'no-signature' && e.message.includes('0x0000'));
  });
});

for (const [number, fsType] of [[1, 'ext4'], [2, 'ext2']] as const) {
  describe(`reading files from partition ${number} (${fsType}) of a VHD`, () => {
    let fs: Ext2Reader;
    before(async () => {
      fs = await openPartitionFileSystem(disk, number);
    });

    it('uses the on-disk format mke2fs chose', () => {
      assert.equal(fs.blockSize, 1024);
      if (fsType === 'ext4') {
        assert.ok(fs.superblock.featureIncompat & 0x40, 'extents');
        assert.equal(fs.superblock.descSize, 64, '64-bit group descriptors');
      } else {
        assert.equal(fs.superblock.featureIncompat & 0x40, 0, 'no extents on ext2');
      }
    });

    it('reads every file byte for byte', async () => {
      for (const [path, data] of files) {
        const got = await fs.readFile(path);
        assert.ok(Buffer.from(got).equals(Buffer.from(data)), `${path} differs`);
      }
    });

    it('lists nested directories', async () => {
      const names = (await fs.readDir('/boot/nested')).map((e) => e.name).sort();
      assert.ok(names.includes('deeper') && names.includes('f39') && names.includes('.') && names.includes('..'));
      assert.equal(names.length, 40 + 4);
      assert.equal((await fs.stat('/boot/nested/deeper')).type, 'directory');
    });

    it('follows absolute and relative symlinks', async () => {
      assert.equal(await fs.readLink('/vmlinux'), 'boot/Image');
      assert.ok(Buffer.from(await fs.readFile('/vmlinux')).equals(Buffer.from(files.get('/boot/Image')!)));
      assert.equal(new TextDecoder().decode(await fs.readFile('boot/nested/up')), 'hello\n');
    });

    it('reports missing paths and wrong kinds with typed errors', async () => {
      await assert.rejects(fs.readFile('/nope'), (e: unknown) => e instanceof Ext2Error && e.code === 'not-found' && e.message.includes('"/nope"'));
      await assert.rejects(fs.readFile('/boot'), (e: unknown) => e instanceof Ext2Error && e.code === 'not-a-file');
      await assert.rejects(fs.readFile('/small.txt/x'), (e: unknown) => e instanceof Ext2Error && e.code === 'not-a-directory');
      await assert.rejects(fs.readFile('/boot/Image', { maxBytes: 1000 }), (e: unknown) => e instanceof Ext2Error && e.code === 'too-large');
    });
  });
}

describe('a journaled ext4 (the appliances\' root file system)', () => {
  const COMPAT_HAS_JOURNAL = 0x4;
  const INCOMPAT_RECOVER = 0x4;
  let img: string;
  before(() => {
    const src = join(dir, 'journaled-src');
    mkdirSync(src);
    writeFileSync(join(src, 'note.txt'), 'kept\n');
    img = join(dir, 'journaled.img');
    writeFileSync(img, new Uint8Array(0));
    // has_journal named explicitly, not left to the host's mke2fs.conf; 1024 blocks is the smallest journal.
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', 'has_journal', '-J', 'size=1', '-b', '1024', '-d', src, img, '8192']);
  });

  it('reads a clean journaled file system without warnings: the journal only matters when it needs recovery', async () => {
    const fs = await Ext2Reader.open(new MemoryBackend(readFileSync(img)));
    assert.ok(fs.superblock.featureCompat & COMPAT_HAS_JOURNAL, 'fixture: has_journal');
    assert.equal(fs.superblock.featureIncompat & INCOMPAT_RECOVER, 0, 'fixture: no needs_recovery');
    assert.equal(new TextDecoder().decode(await fs.readFile('/note.txt')), 'kept\n');
    assert.deepEqual(fs.warnings, []);
  });

  it('still reads one whose journal needs recovery, and warns that it was not replayed', async () => {
    // What a guest killed mid-write leaves behind: needs_recovery set, replayed by Linux at the next mount.
    run('debugfs', ['-w', '-R', 'feature needs_recovery', img]);
    const fs = await Ext2Reader.open(new MemoryBackend(readFileSync(img)));
    assert.ok(fs.superblock.featureIncompat & INCOMPAT_RECOVER, 'fixture: needs_recovery');
    assert.equal(new TextDecoder().decode(await fs.readFile('/note.txt')), 'kept\n');
    assert.equal(fs.warnings.length, 1);
    assert.match(fs.warnings[0]!, /journal needs recovery/);
  });
});

describe('readPartitionFile', () => {
  it('loads appliance.json from partition 1 the way the boot sequence does', async () => {
    const json = JSON.parse(new TextDecoder().decode(await readPartitionFile(disk, '/appliance.json')));
    assert.deepEqual(json, { name: 'test', memory: 64 });
  });

  it('rejects a superblock with a bad magic number', async () => {
    const table = await MbrPartitionTable.read(disk);
    const part = table.partition(disk, 1);
    const bytes = await part.read(0, 64 * 1024);
    bytes[1024 + 56] = 0;
    await assert.rejects(Ext2Reader.open(new MemoryBackend(bytes)), (e: unknown) => e instanceof Ext2Error && e.code === 'bad-magic' && e.message.includes('0xef00'));
  });
});
