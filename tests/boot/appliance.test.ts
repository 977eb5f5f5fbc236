// Appliance boots through the CLI: firmware + the kernel from the appliance's boot
// partition + root on virtio-blk, with guest writes in a differencing overlay.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { VhdDisk } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { sha256, tempDir } from '../disk/diskFixtures.ts';
import { CLEAN_POWEROFF, runCli as romvisor, writeScript } from './runCli.ts';
import { buildTestAppliance, PROMPT, type TestAppliance } from './testAppliance.ts';

let appliance: TestAppliance;
let dir: string;
let cleanup: () => void;
/** The CLI's data directory (unpack cache, default overlays) lives in the temp dir. */
let env: Record<string, string>;

before(async () => {
  appliance = await buildTestAppliance();
  ({ dir, cleanup } = tempDir('appliance'));
  env = { XDG_DATA_HOME: join(dir, 'data') };
});
after(() => cleanup());

const fileSha = (p: string) => sha256(readFileSync(p));

describe('an appliance VHD with an overlay', () => {
  const overlay = () => join(dir, 'session.vhd');

  it('keeps a file written and synced in one boot for the next boot, and never writes the base', async () => {
    const baseBefore = fileSha(appliance.path);
    const write = writeScript(dir, 'write', [
      { expect: PROMPT },
      { send: 'echo "written by romvisor $((6 * 7))" > /root/note.txt; dd if=/dev/urandom of=/root/blob bs=4096 count=64 2>/dev/null; md5sum /root/blob > /root/blob.md5; ' + CLEAN_POWEROFF },
      { expect: 'reboot: Power down' },
    ]);
    const first = await romvisor(['boot', appliance.path, '--overlay', overlay(), '--time', 'deterministic', '--script', write], { env });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-1000));
    assert.ok(existsSync(overlay()), 'the overlay file was created');
    assert.equal(fileSha(appliance.path), baseBefore, 'the base VHD is byte-for-byte unchanged');

    const read = writeScript(dir, 'read', [
      { expect: PROMPT },
      { send: 'cat /root/note.txt; md5sum -c /root/blob.md5; ' + CLEAN_POWEROFF },
      { expect: 'reboot: Power down' },
    ]);
    const second = await romvisor(['boot', appliance.path, '--overlay', overlay(), '--time', 'deterministic', '--script', read], { env });
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(-1000));
    assert.ok(/written by romvisor 42/.test(second.stdout) && /\/root\/blob: OK/.test(second.stdout), second.stdout.slice(-1000));
    assert.equal(fileSha(appliance.path), baseBefore);
  });

  it('exports a chain whose root file system e2fsck finds clean', async () => {
    assert.ok(existsSync(overlay()), 'needs the overlay of the previous test');
    const chain = await VhdDisk.open(await FileBackend.open(overlay(), { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
    const exported = join(dir, 'exported.vhd');
    const target = await FileBackend.create(exported);
    try {
      await chain.exportTo(target, 'dynamic');
    } finally {
      await target.dispose();
      await chain.dispose();
    }
    const raw = join(dir, 'exported.raw');
    execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', exported, raw]);
    const part = join(dir, 'root.ext4');
    const sectors = 512;
    execFileSync('dd', [`if=${raw}`, `of=${part}`, `bs=${sectors}`, `skip=${appliance.root.offset / sectors}`, `count=${appliance.root.length / sectors}`, 'status=none']);
    const fsck = spawnSync('/usr/sbin/e2fsck', ['-fn', part], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, `e2fsck -fn exited ${fsck.status}:\n${fsck.stdout}${fsck.stderr}`);
    const cat = spawnSync('/usr/sbin/debugfs', ['-R', 'cat /root/note.txt', part], { encoding: 'utf8' });
    assert.match(cat.stdout, /written by romvisor 42/);
  });
});

describe('a gzipped appliance', () => {
  it('is unpacked once into the data directory, and its default overlay persists there', async () => {
    const gz = join(dir, 'tiny.vhd.gz');
    writeFileSync(gz, gzipSync(readFileSync(appliance.path), { level: 1 }));
    const gzSha = fileSha(gz);
    // No --script: the persistent overlay is the default; the console is piped in.
    const first = await romvisor(['boot', gz], { env, input: 'echo persisted > /root/p.txt; ' + CLEAN_POWEROFF, timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-1000));
    const cache = join(env.XDG_DATA_HOME!, 'romvisor', 'cache');
    assert.deepEqual(readdirSync(cache), [`${gzSha}.vhd`]);
    const overlays = readdirSync(join(env.XDG_DATA_HOME!, 'romvisor', 'overlays'));
    assert.equal(overlays.length, 1);
    assert.match(overlays[0]!, /^tiny-[0-9a-f-]{36}\.vhd$/);

    const second = await romvisor(['boot', gz], { env, input: 'cat /root/p.txt; ' + CLEAN_POWEROFF, timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.ok(/^persisted\r?$/m.test(second.stdout), second.stdout.slice(-1000));
    assert.equal(fileSha(gz), gzSha);
  });

  it('leaves nothing behind with --snapshot', async () => {
    const gz = join(dir, 'tiny.vhd.gz');
    const script = writeScript(dir, 'snap', [{ expect: PROMPT }, { send: 'cat /root/p.txt; echo gone > /root/p.txt; ' + CLEAN_POWEROFF }, { expect: 'reboot: Power down' }]);
    const before = readdirSync(join(env.XDG_DATA_HOME!, 'romvisor', 'overlays'));
    const r = await romvisor(['boot', gz, '--snapshot', '--script', script], { env });
    assert.equal(r.code, 0, r.stderr);
    // The snapshot is a child of the base image itself, not of the persistent overlay.
    assert.match(r.stdout, /can't open '\/root\/p.txt'/);
    assert.deepEqual(readdirSync(join(env.XDG_DATA_HOME!, 'romvisor', 'overlays')), before);
  });
});

describe('a bad image', () => {
  it('exits 2 with the VHD error on one line', async () => {
    const bad = join(dir, 'corrupt.vhd');
    copyFileSync(appliance.path, bad);
    const bytes = readFileSync(bad);
    // Both footers (the tail and the copy at 0) lose their cookie.
    bytes.write('cxsparse', bytes.length - 512, 'latin1');
    bytes.write('cxsparse', 0, 'latin1');
    writeFileSync(bad, bytes);
    const r = await romvisor(['boot', bad, '--snapshot'], { env });
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^romvisor boot: VHD footer at 0x[0-9a-f]+: cookie is "cxsparse", expected "conectix"/);
  });

  it('exits 2 for a truncated .vhd.gz', async () => {
    const gz = join(dir, 'truncated.vhd.gz');
    const whole = gzipSync(readFileSync(appliance.path), { level: 1 });
    writeFileSync(gz, whole.subarray(0, whole.length >> 1));
    const r = await romvisor(['boot', gz], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^romvisor boot: .*truncated\.vhd\.gz: not a complete gzip file/);
  });

  it('exits 2 for a disk without a boot partition', async () => {
    const blank = join(dir, 'blank.vhd');
    const d = await VhdDisk.createDynamic(await FileBackend.create(blank), 8 * 1024 * 1024);
    await d.dispose();
    const r = await romvisor(['boot', blank, '--snapshot'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^romvisor boot: MBR at 0x1fe: boot signature is 0x0000, expected 0x55aa\n$/);
  });
});
