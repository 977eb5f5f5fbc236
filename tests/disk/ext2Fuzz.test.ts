import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ext2Error, Ext2Reader, MemoryBackend } from '../../src/disk/index.ts';
import { pattern, run, tempDir } from './diskFixtures.ts';
import { SeededRandom } from '../SeededRandom.ts';

let dir: string;
let cleanup: () => void;
const images = new Map<string, Uint8Array>();

before(() => {
  ({ dir, cleanup } = tempDir('ext2-fuzz'));
  const src = join(dir, 'src');
  mkdirSync(join(src, 'a/b'), { recursive: true });
  writeFileSync(join(src, 'a/b/file'), pattern(300_000, 1));
  writeFileSync(join(src, 'small'), 'x');
  for (let i = 0; i < 30; i++) writeFileSync(join(src, `a/n${i}`), pattern(i * 100, i));
  for (const fsType of ['ext2', 'ext4']) {
    const img = join(dir, `${fsType}.img`);
    writeFileSync(img, new Uint8Array(0));
    run('mke2fs', ['-q', '-F', '-t', fsType, '-O', '^has_journal', '-b', '1024', '-d', src, img, '2048']);
    images.set(fsType, readFileSync(img));
  }
});
after(() => cleanup());

/** Walks the whole tree, reading every file: every path a damaged image can take. */
async function walk(fs: Ext2Reader, path: string, depth: number): Promise<void> {
  if (depth > 6) return;
  for (const e of await fs.readDir(path)) {
    if (e.name === '.' || e.name === '..') continue;
    const child = `${path === '/' ? '' : path}/${e.name}`;
    const st = await fs.stat(child);
    if (st.type === 'directory') await walk(fs, child, depth + 1);
    else if (st.type === 'file') await fs.readFile(child, { maxBytes: 4 * 1024 * 1024 });
  }
}

describe('damaged ext2/ext4 file systems', () => {
  for (const fsType of ['ext2', 'ext4']) {
    it(`${fsType}: 300 seeded mutations end in success or an Ext2Error`, async () => {
      const base = images.get(fsType)!;
      const random = new SeededRandom(12345);
      const rnd = (): number => random.next();
      let ok = 0;
      const failures: string[] = [];
      for (let i = 0; i < 300; i++) {
        // A copy: `base` is a Buffer, whose slice() is a view, so damage would pile up case after case.
        const bytes = new Uint8Array(base);
        const flips = 1 + Math.floor(rnd() * 4);
        // Metadata lives mostly in the first groups' superblock, descriptors and inode tables.
        for (let k = 0; k < flips; k++) {
          const at = rnd() < 0.8 ? 1024 + Math.floor(rnd() * 300 * 1024) : Math.floor(rnd() * bytes.length);
          bytes[at]! ^= 1 << Math.floor(rnd() * 8);
        }
        try {
          await walk(await Ext2Reader.open(new MemoryBackend(bytes)), '/', 0);
          ok++;
        } catch (e) {
          if (!(e instanceof Ext2Error)) failures.push(`case ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(ok > 10, `only ${ok} damaged images could be walked`);
    });
  }
});
