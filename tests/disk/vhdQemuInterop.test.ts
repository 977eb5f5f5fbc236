import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryBackend, VhdDisk } from '../../src/disk/index.ts';
import { FileBackend } from '../../src/disk/node.ts';
import { pattern, qemuImg, qemuVirtualSize, tempDir, waitForQemuImg } from './diskFixtures.ts';

const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;

before(async () => {
  await waitForQemuImg();
  ({ dir, cleanup } = tempDir('vhd-qemu'));
});
after(() => cleanup());

/** A raw image with pattern data in some places and zero holes in others. */
function sparsePattern(size: number, seed: number): Uint8Array {
  const raw = new Uint8Array(size);
  const p = pattern(size, seed);
  // Data in block 0, a partial middle block, and the very last sector; holes in between.
  raw.set(p.subarray(0, 3 * 512), 0);
  raw.set(p.subarray(size / 2, size / 2 + 700 * 1024), size / 2);
  raw.set(p.subarray(size - 512), size - 512);
  return raw;
}

async function openFile(path: string): Promise<VhdDisk> {
  return VhdDisk.open(await FileBackend.open(path, { readOnly: true }));
}

describe('images made by qemu-img read byte-identically', () => {
  for (const subformat of ['dynamic', 'fixed'] as const) {
    it(`reads a qemu ${subformat} VHD converted from a patterned raw file exactly as qemu does`, async () => {
      const raw = sparsePattern(10 * MiB, 7);
      const rawPath = join(dir, `q-${subformat}.raw`);
      const vhdPath = join(dir, `q-${subformat}.vhd`);
      const backPath = join(dir, `q-${subformat}.back.raw`);
      writeFileSync(rawPath, raw);
      qemuImg('convert', '-f', 'raw', '-O', 'vpc', '-o', `subformat=${subformat}`, rawPath, vhdPath);
      qemuImg('convert', '-f', 'vpc', '-O', 'raw', vhdPath, backPath);
      const expected = readFileSync(backPath);
      const disk = await openFile(vhdPath);
      try {
        assert.equal(disk.type, subformat);
        assert.equal(disk.virtualSize, qemuVirtualSize(vhdPath));
        assert.deepEqual(disk.warnings, []);
        const got = await disk.read(0, disk.virtualSize);
        assert.ok(Buffer.from(got).equals(expected), 'contents differ from qemu-img convert -O raw');
      } finally {
        await disk.dispose();
      }
    });

    it(`opens an empty qemu-img create ${subformat} image as all zeros`, async () => {
      const vhdPath = join(dir, `empty-${subformat}.vhd`);
      qemuImg('create', '-q', '-f', 'vpc', '-o', `subformat=${subformat}`, vhdPath, '5M');
      const disk = await openFile(vhdPath);
      try {
        assert.equal(disk.virtualSize, qemuVirtualSize(vhdPath));
        const all = await disk.read(0, disk.virtualSize);
        assert.ok(all.every((b) => b === 0));
      } finally {
        await disk.dispose();
      }
    });
  }

  it('writes into a qemu dynamic image so that qemu reads the new data', async () => {
    const vhdPath = join(dir, 'q-write.vhd');
    qemuImg('create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', vhdPath, '8M');
    const disk = await VhdDisk.open(await FileBackend.open(vhdPath));
    const size = disk.virtualSize;
    const data = pattern(3 * 512, 3);
    await disk.write(5 * MiB + 512, data);
    await disk.dispose();
    const backPath = join(dir, 'q-write.raw');
    qemuImg('convert', '-f', 'vpc', '-O', 'raw', vhdPath, backPath);
    const back = readFileSync(backPath);
    assert.equal(back.length, size);
    const expected = new Uint8Array(size);
    expected.set(data, 5 * MiB + 512);
    assert.ok(back.equals(expected));
  });
});

describe('images made by romvisor are read by qemu-img with the intended size and content', () => {
  // 10 MiB + 3 sectors is not CHS-aligned: a reader going by geometry would shrink it.
  const sizes = [16 * MiB, 10 * MiB + 3 * 512];
  for (const size of sizes) {
    for (const type of ['dynamic', 'fixed'] as const) {
      it(`creates a ${type} disk of ${size} bytes that qemu-img reports and reads exactly`, async () => {
        const path = join(dir, `r-${type}-${size}.vhd`);
        const create = type === 'fixed' ? VhdDisk.createFixed : VhdDisk.createDynamic;
        const disk = await create(await FileBackend.create(path), size);
        const expected = sparsePattern(size - (size % (2 * 512)), 11);
        const full = new Uint8Array(size);
        full.set(expected);
        // Write in guest-sized pieces, including one straddling a block boundary.
        for (let off = 0; off < full.length; off += 64 * 1024) {
          const piece = full.subarray(off, Math.min(full.length, off + 64 * 1024));
          if (piece.some((b) => b !== 0)) await disk.write(off, piece);
        }
        await disk.write(2 * MiB - 512, full.subarray(2 * MiB - 512, 2 * MiB + 512));
        await disk.flush();
        await disk.dispose();
        assert.equal(qemuVirtualSize(path), size);
        const rawPath = `${path}.expected.raw`;
        writeFileSync(rawPath, full);
        qemuImg('compare', '-f', 'vpc', '-F', 'raw', path, rawPath);
        const back = join(dir, `r-${type}-${size}.raw`);
        qemuImg('convert', '-f', 'vpc', '-O', 'raw', path, back);
        assert.ok(readFileSync(back).equals(full));
      });
    }
  }

  it('exports a dynamic disk to both types that qemu-img reads identically', async () => {
    const size = 6 * MiB + 512;
    const src = await VhdDisk.createDynamic(new MemoryBackend(), size);
    const data = sparsePattern(6 * MiB, 5);
    await src.write(0, data.subarray(0, 4096));
    await src.write(3 * MiB, data.subarray(3 * MiB, 3 * MiB + 800 * 1024));
    const expected = await src.read(0, size);
    for (const type of ['dynamic', 'fixed'] as const) {
      const out = new MemoryBackend();
      await src.exportTo(out, type);
      const path = join(dir, `export-${type}.vhd`);
      writeFileSync(path, out.bytes());
      assert.equal(qemuVirtualSize(path), size);
      const back = join(dir, `export-${type}.raw`);
      qemuImg('convert', '-f', 'vpc', '-O', 'raw', path, back);
      assert.ok(readFileSync(back).equals(expected));
      if (type === 'dynamic') {
        const reopened = await VhdDisk.open(out);
        // Blocks 0 and 1 hold data; the other blocks were all zeros and stay unallocated.
        assert.equal(reopened.allocatedBlocks, 2);
      }
    }
  });
});
