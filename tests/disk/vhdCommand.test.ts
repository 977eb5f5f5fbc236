import assert from 'node:assert/strict';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDiskSize, vhdCommand } from '../../src/cli/vhdCommand.ts';
import { MBR_TYPE_LINUX, MbrPartitionTable, VhdDisk } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { pattern, qemuImg, qemuVirtualSize, run, sha256, tempDir, waitForQemuImg } from './diskFixtures.ts';
import { holdDiskLock } from './diskLockHolder.ts';

const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;
before(async () => {
  await waitForQemuImg();
  ({ dir, cleanup } = tempDir('vhd-cli'));
});
after(() => cleanup());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string; bytes: Uint8Array[] }> {
  let out = '';
  let err = '';
  const bytes: Uint8Array[] = [];
  const code = await vhdCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), stdoutBytes: (b) => bytes.push(b) });
  return { code, out, err, bytes };
}

describe('romvisor vhd sizes', () => {
  it('parses binary suffixes and refuses partial sectors', () => {
    assert.equal(parseDiskSize('64M'), 64 * MiB);
    assert.equal(parseDiskSize('1G'), 1024 * MiB);
    assert.equal(parseDiskSize('512k'), 512 * 1024);
    assert.equal(parseDiskSize('1048576'), MiB);
    assert.throws(() => parseDiskSize('1000'), /not a positive multiple of 512/);
    assert.throws(() => parseDiskSize('lots'), /not a number/);
  });
});

describe('romvisor vhd commands', () => {
  it('creates images qemu-img sizes exactly, and describes them with info', async () => {
    const path = join(dir, 'a.vhd');
    const r = await cli('create', path, '64M');
    assert.equal(r.code, 0, r.err);
    assert.equal(qemuVirtualSize(path), 64 * MiB);
    const fixed = join(dir, 'f.vhd');
    assert.equal((await cli('create', fixed, '3M', '--type', 'fixed')).code, 0);
    assert.equal(qemuVirtualSize(fixed), 3 * MiB);
    const i = await cli('info', path);
    assert.equal(i.code, 0);
    assert.match(i.out, /type:\s+dynamic/);
    assert.match(i.out, /virtual size:\s+67108864 bytes \(64 MiB\)/);
    assert.match(i.out, /allocated:\s+0 of 32 blocks/);
    assert.match(i.out, /creator:\s+"win "/);
  });

  it('creates a differencing child, exports the chain, and checks both', async () => {
    const base = join(dir, 'base.vhd');
    const raw = join(dir, 'base.raw');
    const content = pattern(4 * MiB, 3);
    writeFileSync(raw, content);
    assert.equal((await cli('convert', raw, base)).code, 0);
    qemuImg('compare', '-f', 'vpc', '-F', 'raw', base, raw);
    mkdirSync(join(dir, 'overlays'));
    const child = join(dir, 'overlays/child.vhd');
    const c = await cli('create', child, '--parent', base);
    assert.equal(c.code, 0, c.err);
    const i = await cli('info', child);
    assert.match(i.out, /type:\s+differencing/);
    assert.match(i.out, /locator:\s+W2ru \.\.\/base\.vhd/);
    assert.equal((await cli('check', child)).code, 0);
    const flat = join(dir, 'flat.vhd');
    const e = await cli('export', child, flat, '--type', 'fixed');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /flattened from 2 disk/);
    qemuImg('compare', '-f', 'vpc', '-F', 'raw', flat, raw);
  });

  it('exits 2 from check on a damaged image and from info on a non-image', async () => {
    const path = join(dir, 'damaged.vhd');
    await cli('create', path, '4M');
    const bytes = readFileSync(path);
    bytes[bytes.length - 512 + 1] ^= 0x20; // tail cookie; the copy at 0 is intact
    writeFileSync(path, bytes);
    const c = await cli('check', path);
    assert.equal(c.code, 2);
    assert.match(c.out, /cookie is "cOnectix", expected "conectix"; opened from the footer copy/);
    assert.equal(c.err, `romvisor vhd check: ${path} is damaged (1 problem)\n`);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, new Uint8Array(4096).fill(7));
    const i = await cli('info', junk);
    assert.equal(i.code, 2);
    assert.equal(i.err.trim().split('\n').length, 1);
    assert.match(i.err, /VHD footer at 0xe00: cookie is "\\x07\\x07/);
    assert.equal((await cli('info', join(dir, 'missing.vhd'))).code, 2);
    assert.equal((await cli('create', join(dir, 'x.vhd'), '12345')).code, 2);
    assert.equal((await cli('frobnicate')).code, 2);
  });

  it('prints a file from the ext4 file system on partition 1', async () => {
    const src = join(dir, 'fs');
    mkdirSync(join(src, 'boot'), { recursive: true });
    writeFileSync(join(src, 'appliance.json'), '{"name":"cli"}\n');
    writeFileSync(join(src, 'boot/Image'), pattern(200_000, 4));
    const part = join(dir, 'part.img');
    writeFileSync(part, new Uint8Array(0));
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, part, '8M']);
    const disk = new Uint8Array(10 * MiB);
    disk.set(MbrPartitionTable.create([{ type: MBR_TYPE_LINUX, firstLba: 2048, sectorCount: (8 * MiB) / 512 }], disk.length));
    disk.set(readFileSync(part), MiB);
    const raw = join(dir, 'appliance.raw');
    writeFileSync(raw, disk);
    const vhd = join(dir, 'appliance.vhd');
    assert.equal((await cli('convert', raw, vhd)).code, 0);
    const r = await cli('cat', vhd, '/appliance.json');
    assert.equal(r.code, 0, r.err);
    assert.equal(new TextDecoder().decode(r.bytes[0]), '{"name":"cli"}\n');
    const img = await cli('cat', vhd, 'boot/Image');
    assert.ok(Buffer.from(img.bytes[0]!).equals(Buffer.from(pattern(200_000, 4))));
    const missing = await cli('cat', vhd, '/nope');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /"\/nope" not found/);
  });
});

describe('romvisor vhd check: damaged (exit 2) or sound (exit 0)', () => {
  it('passes a sound image, and one whose warnings damage nothing', async () => {
    const path = join(dir, 'sound.vhd');
    await cli('convert', writeRaw('sound.raw', 3 * MiB, 20), path);
    const c = await cli('check', path);
    assert.equal(c.code, 0, c.out + c.err);
    assert.match(c.out, /no problems found \(dynamic /);
    // qemu marks a whole bitmap present, also the sectors of a last block past the end of
    // a disk whose size is not a whole number of blocks: not damage.
    const q = join(dir, 'qemu.vhd');
    qemuImg('create', '-f', 'vpc', q, '5M');
    run('qemu-io', ['-f', 'vpc', '-c', 'write -P 0x55 4M 512', q]);
    const qc = await cli('check', q);
    assert.equal(qc.code, 0, qc.out + qc.err);
    assert.match(qc.out, /warning: VHD sector bitmap of block 2 .* past the end of the disk/);
  });

  it('fails an image with overlapping BAT entries or a bad footer checksum', async () => {
    const good = readFileSync((await convertPattern('overlap', 4 * MiB, 21)).vhd);
    const overlap = Buffer.from(good);
    overlap.copy(overlap, 1536 + 4, 1536, 1540); // BAT entry 1 := BAT entry 0
    const bat = join(dir, 'overlap.vhd');
    writeFileSync(bat, overlap);
    const c = await cli('check', bat);
    assert.equal(c.code, 2);
    assert.match(c.out, /VHD block 1 \(BAT entry at 0x604\) at 0x800 overlaps block 0/);
    assert.match(c.err, /^romvisor vhd check: .*overlap\.vhd is damaged \(1 problem\)\n$/);

    for (const [name, at] of [['tail', good.length - 512 + 70], ['copy', 70]] as const) {
      const bytes = Buffer.from(good);
      bytes[at]! ^= 1; // inside the unique id: the checksum no longer matches
      const path = join(dir, `checksum-${name}.vhd`);
      writeFileSync(path, bytes);
      const r = await cli('check', path);
      assert.equal(r.code, 2, `${name}: ${r.out}`);
      assert.match(r.out, /checksum is 0x[0-9a-f]+, expected 0x/);
    }
  });
});

/** A raw file of `size` pattern bytes in the test directory. */
function writeRaw(name: string, size: number, seed: number): string {
  const path = join(dir, name);
  writeFileSync(path, pattern(size, seed));
  return path;
}

/** NAME.raw of pattern bytes, converted to a dynamic NAME.vhd. */
async function convertPattern(name: string, size: number, seed: number): Promise<{ raw: string; vhd: string }> {
  const raw = writeRaw(`${name}.raw`, size, seed);
  const vhd = join(dir, `${name}.vhd`);
  const r = await cli('convert', raw, vhd);
  assert.equal(r.code, 0, r.err);
  return { raw, vhd };
}

const fileSha = (path: string): string => sha256(readFileSync(path));

describe('romvisor vhd never destroys its input', () => {
  /** base.vhd (pattern data) and child.vhd over it with data of its own, in a fresh directory. */
  async function chain(name: string): Promise<{ base: string; child: string; sums: () => string[] }> {
    mkdirSync(join(dir, name));
    const { vhd: base } = await convertPattern(`${name}/base`, 4 * MiB, 30);
    const child = join(dir, name, 'child.vhd');
    assert.equal((await cli('create', child, '--parent', base)).code, 0);
    const disk = await VhdDisk.open(await FileBackend.open(child), { parentResolver: fileParentResolver() });
    await disk.write(MiB, pattern(64 * 1024, 31));
    await disk.dispose();
    return { base, child, sums: () => [fileSha(base), fileSha(child)] };
  }

  function refused(r: { code: number; err: string }, pattern: RegExp): void {
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, pattern);
  }

  it('refuses to export a child over its own parent, or over itself', async () => {
    const { base, child, sums } = await chain('over-parent');
    const before = sums();
    refused(await cli('export', child, base), /is the same file as .*base\.vhd, the parent of .*child\.vhd; refusing to overwrite an input/);
    refused(await cli('export', child, child), /is the same file as .*child\.vhd/);
    assert.deepEqual(sums(), before, 'base and child are byte-for-byte unchanged');
    assert.equal((await cli('check', child)).code, 0);
  });

  it('sees through a symlink or a hard link to an input (export, convert, create)', async () => {
    const { base, child, sums } = await chain('links');
    const before = sums();
    const links = join(dir, 'links');
    symlinkSync('child.vhd', join(links, 'sym-child.vhd'));
    linkSync(child, join(links, 'hard-child.vhd'));
    symlinkSync(base, join(links, 'sym-base.vhd'));
    linkSync(base, join(links, 'hard-base.vhd'));
    for (const out of ['sym-child.vhd', 'hard-child.vhd', 'sym-base.vhd', 'hard-base.vhd']) {
      refused(await cli('export', child, join(links, out)), /is the same file as/);
      refused(await cli('convert', child, join(links, out)), /is the same file as/);
    }
    for (const out of ['sym-base.vhd', 'hard-base.vhd']) {
      refused(await cli('convert', base, join(links, out)), /is the same file as .*base\.vhd/);
      refused(await cli('create', join(links, out), '--parent', base), /is the same file as .*base\.vhd/);
    }
    // A raw input too.
    const raw = writeRaw('links/disk.raw', MiB, 32);
    const rawSum = fileSha(raw);
    symlinkSync('disk.raw', join(links, 'sym-raw.vhd'));
    refused(await cli('convert', raw, join(links, 'sym-raw.vhd')), /is the same file as .*disk\.raw/);
    assert.equal(fileSha(raw), rawSum);
    assert.deepEqual(sums(), before);
  });

  it('writes through a symlink to a file that does not exist yet, and keeps the link', async () => {
    const { child } = await chain('dangling');
    const link = join(dir, 'dangling', 'out-link.vhd');
    symlinkSync('flat/out.vhd', link);
    mkdirSync(join(dir, 'dangling', 'flat'));
    const r = await cli('export', child, link);
    assert.equal(r.code, 0, r.err);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.ok(lstatSync(join(dir, 'dangling', 'flat', 'out.vhd')).isFile());
    assert.equal((await cli('check', link)).code, 0);
    assert.deepEqual(readdirSync(join(dir, 'dangling', 'flat')), ['out.vhd'], 'no temporary or lock file is left');
  });

  it('leaves the old output as it was, and no temporary file, when an export fails', async () => {
    const { child } = await chain('failing');
    const out = join(dir, 'failing', 'out.vhd');
    writeFileSync(out, 'the previous export\n');
    const listing = readdirSync(join(dir, 'failing')).sort();
    // The disk fills up half way through writing the new image.
    const write = FileBackend.prototype.write;
    let writes = 0;
    FileBackend.prototype.write = function (this: FileBackend, offset: number, data: Uint8Array) {
      if (this.path.endsWith('.tmp') && ++writes > 1) {
        return Promise.reject(Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write' }));
      }
      return write.call(this, offset, data);
    };
    let r;
    try {
      r = await cli('export', child, out);
    } finally {
      FileBackend.prototype.write = write;
    }
    refused(r, /ENOSPC/);
    assert.ok(writes > 1, 'the failure came while writing the new image');
    assert.equal(readFileSync(out, 'utf8'), 'the previous export\n');
    assert.deepEqual(readdirSync(join(dir, 'failing')).sort(), listing);
    // The same export succeeds afterwards and replaces the file.
    assert.equal((await cli('export', child, out)).code, 0);
    assert.equal((await cli('check', out)).code, 0);
  });

  it('refuses a disk another process writes, and shares one that others read', async () => {
    const { base, child } = await chain('locked');
    const writer = await holdDiskLock(child, 'write');
    try {
      refused(await cli('export', child, join(dir, 'locked', 'out.vhd')), new RegExp(`: ${child} is in use by process ${writer.child.pid}\\n$`));
      refused(await cli('create', child, '4M'), new RegExp(`is in use by process ${writer.child.pid}`));
    } finally {
      await writer.stop();
    }
    assert.ok(!existsSync(join(dir, 'locked', 'out.vhd')));
    const reader = await holdDiskLock(base, 'read');
    try {
      const r = await cli('export', child, join(dir, 'locked', 'out.vhd'));
      assert.equal(r.code, 0, r.err);
      refused(await cli('convert', child, base), /is the same file as/);
      refused(await cli('create', base, '4M'), new RegExp(`: ${base} is in use by process ${reader.child.pid}\\n$`));
    } finally {
      await reader.stop();
    }
  });
});
