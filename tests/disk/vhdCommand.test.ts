import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseSize, vhdCommand } from '../../src/cli/vhdCommand.ts';
import { MBR_TYPE_LINUX, MbrPartitionTable } from '../../src/disk/index.ts';
import { pattern, qemuImg, qemuVirtualSize, run, tempDir, waitForQemuImg } from './diskFixtures.ts';

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
    assert.equal(parseSize('64M'), 64 * MiB);
    assert.equal(parseSize('1G'), 1024 * MiB);
    assert.equal(parseSize('512k'), 512 * 1024);
    assert.equal(parseSize('1048576'), MiB);
    assert.throws(() => parseSize('1000'), /not a positive multiple of 512/);
    assert.throws(() => parseSize('lots'), /not a number/);
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

  it('exits 1 from check on a damaged image and 2 from info on a non-image', async () => {
    const path = join(dir, 'damaged.vhd');
    await cli('create', path, '4M');
    const bytes = readFileSync(path);
    bytes[bytes.length - 512 + 1] ^= 0x20; // tail cookie; the copy at 0 is intact
    writeFileSync(path, bytes);
    const c = await cli('check', path);
    assert.equal(c.code, 1);
    assert.match(c.out, /cookie is "cOnectix", expected "conectix"; opened from the footer copy/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, new Uint8Array(4096).fill(7));
    const i = await cli('info', junk);
    assert.equal(i.code, 2);
    assert.equal(i.err.trim().split('\n').length, 1);
    assert.match(i.err, /VHD footer at 0xe00: cookie is "\\u0007/);
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
