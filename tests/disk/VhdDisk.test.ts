import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chsGeometry, MemoryBackend, VhdDisk, VhdError, type BlockBackend } from '../../src/disk/index.ts';
import { pattern } from './diskFixtures.ts';

const MiB = 1024 * 1024;

function isVhdError(code: string, text?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof VhdError, `expected a VhdError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (text) assert.ok(e.message.includes(text), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(text)}`);
    return true;
  };
}

/** Records every write as a snapshot of the whole backend after it, to replay crashes. */
class SnapshotBackend extends MemoryBackend {
  readonly snapshots: Uint8Array[] = [];
  override async write(offset: number, data: Uint8Array): Promise<void> {
    await super.write(offset, data);
    this.snapshots.push(this.bytes());
  }
}

describe('CHS geometry follows the VHD specification', () => {
  it('computes the known geometries of common sizes', () => {
    assert.deepEqual(chsGeometry((10 * MiB) / 512), { cylinders: 301, heads: 4, sectorsPerTrack: 17 });
    assert.deepEqual(chsGeometry((1024 * MiB) / 512), { cylinders: 2080, heads: 16, sectorsPerTrack: 63 });
    // Past 65535×16×255 sectors the geometry saturates.
    assert.deepEqual(chsGeometry(2 ** 40 / 512), { cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
  });
});

describe('opening a damaged VHD', () => {
  it('opens a dynamic disk from the footer copy when the tail footer is damaged, with a warning', async () => {
    const b = new MemoryBackend();
    const disk = await VhdDisk.createDynamic(b, 4 * MiB);
    await disk.write(MiB, pattern(4096, 1));
    const bytes = b.bytes();
    bytes[bytes.length - 512 + 3] ^= 0xff; // corrupt the tail cookie: 'e' becomes 0x9a, a C1 byte, quoted escaped
    const reopened = await VhdDisk.open(new MemoryBackend(bytes));
    assert.equal(reopened.warnings.length, 1);
    assert.match(reopened.warnings[0]!, /VHD footer at 0x[0-9a-f]+: cookie is "con\\x9actix", expected "conectix"; opened from the footer copy at 0x0/);
    assert.deepEqual(await reopened.read(MiB, 4096), pattern(4096, 1));
    // The next allocation rewrites a good tail footer, which repairs the file.
    await reopened.write(3 * MiB, pattern(512, 2));
    const repaired = await VhdDisk.open(new MemoryBackend((reopened.backend as MemoryBackend).bytes()));
    assert.deepEqual(repaired.warnings, []);
  });

  it('names the field, offset and bad value in its errors', async () => {
    const b = new MemoryBackend();
    await VhdDisk.createFixed(b, MiB);
    const bytes = b.bytes();
    bytes.set(new TextEncoder().encode('cxsparse'), MiB);
    await assert.rejects(VhdDisk.open(new MemoryBackend(bytes)), isVhdError('bad-cookie', 'VHD footer at 0x100000: cookie is "cxsparse", expected "conectix"'));
    const b2 = b.bytes();
    b2[MiB + 70] ^= 1; // inside the unique id: the checksum no longer matches
    await assert.rejects(VhdDisk.open(new MemoryBackend(b2)), isVhdError('bad-checksum', 'VHD footer at 0x100000: checksum is 0x'));
    await assert.rejects(VhdDisk.open(new MemoryBackend(new Uint8Array(100))), isVhdError('truncated', '100 bytes'));
  });

  it('refuses a fixed disk whose data area is shorter than its footer says', async () => {
    const b = new MemoryBackend();
    await VhdDisk.createFixed(b, MiB);
    const bytes = b.bytes();
    const cut = new Uint8Array(bytes.length - 4096);
    cut.set(bytes.subarray(0, MiB - 4096));
    cut.set(bytes.subarray(MiB), MiB - 4096);
    await assert.rejects(VhdDisk.open(new MemoryBackend(cut)), isVhdError('truncated'));
  });

  it('refuses sizes that are not whole sectors when creating', async () => {
    await assert.rejects(VhdDisk.createDynamic(new MemoryBackend(), 1000), isVhdError('bad-size', '1000'));
  });
});

describe('reads and writes', () => {
  it('rejects out-of-range reads with a VhdError rather than reading past the disk', async () => {
    const disk = await VhdDisk.createDynamic(new MemoryBackend(), MiB);
    await assert.rejects(disk.read(MiB - 512, 1024), isVhdError('out-of-range'));
    await assert.rejects(disk.read(-1, 1), isVhdError('out-of-range'));
    await assert.rejects(disk.write(MiB, new Uint8Array(512)), isVhdError('out-of-range'));
  });

  it('handles unaligned reads and writes within and across blocks', async () => {
    const disk = await VhdDisk.createDynamic(new MemoryBackend(), 2 * MiB, { blockSize: 4096 });
    const model = new Uint8Array(2 * MiB);
    const rnd = pattern(64, 5);
    for (let i = 0; i < 16; i++) {
      const at = (rnd[i]! * 7919 + i * 12345) % (2 * MiB - 9000);
      const data = pattern(1 + ((rnd[i + 16]! * 37) % 9000), i + 100);
      await disk.write(at, data);
      model.set(data, at);
    }
    assert.deepEqual(await disk.read(0, 2 * MiB), model);
    assert.deepEqual(await disk.read(4095, 3), model.subarray(4095, 4098));
  });

  it('serialises concurrent writes to the same unallocated block', async () => {
    const disk = await VhdDisk.createDynamic(new MemoryBackend(), MiB);
    await Promise.all([disk.write(0, pattern(512, 1)), disk.write(512, pattern(512, 2)), disk.write(1024, pattern(512, 3))]);
    assert.equal(disk.allocatedBlocks, 1);
    assert.deepEqual(await disk.read(512, 512), pattern(512, 2));
  });

  it('never leaves a BAT entry pointing at garbage if the process dies mid-allocation', async () => {
    const parentBytes = new MemoryBackend();
    const parent = await VhdDisk.createDynamic(parentBytes, 4 * MiB);
    await parent.write(0, pattern(4 * MiB, 8));
    const childBackend = new SnapshotBackend();
    const child = await VhdDisk.createDifferencing(childBackend, parent);
    const before = childBackend.snapshots.length;
    await child.write(2 * MiB + 512, pattern(1024, 9));
    const crashPoints = childBackend.snapshots.slice(before);
    assert.ok(crashPoints.length >= 3);
    for (const [i, snapshot] of crashPoints.entries()) {
      const reopened = await VhdDisk.open(new MemoryBackend(snapshot), { parentResolver: async () => new MemoryBackend(parentBytes.bytes()) });
      const got = await reopened.read(2 * MiB, 2048);
      const old = pattern(4 * MiB, 8).subarray(2 * MiB, 2 * MiB + 2048);
      const updated = old.slice();
      updated.set(pattern(1024, 9), 512);
      const isOld = Buffer.from(got).equals(Buffer.from(old));
      const isNew = Buffer.from(got).equals(Buffer.from(updated));
      assert.ok(isOld || isNew, `crash after write ${i}: block shows neither old nor new data`);
      if (i === crashPoints.length - 1) assert.ok(isNew);
    }
  });
});

describe('a backend that refuses writes', () => {
  it('keeps a read-only disk untouched', async () => {
    const b = new MemoryBackend();
    await VhdDisk.createDynamic(b, MiB);
    const disk = await VhdDisk.open(b, { readOnly: true });
    const spy: BlockBackend = b;
    await assert.rejects(disk.write(0, new Uint8Array(512)), isVhdError('read-only'));
    assert.equal(spy.size, b.size);
  });
});
