// `romvisor backup verify|restore|create` as a user runs them, on an archive made the way
// the page makes one (a built-in base named by sha256, a VM's differencing disk, a shared
// folder): the restored directory boots with `romvisor boot`, its disk chain checks and
// reads the same through qemu-img, and the directory goes back into an archive with what
// the guest wrote since. Damaged or unsatisfiable archives are refused with nothing written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { BackupArchive, bytesSource, toArchiveJson, writeBackupArchive, type BackupServer, type EntrySource } from '../../src/backup/index.ts';
import { MemoryBackend, VhdDisk } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { unpackVhdGz } from '../../src/boot/applianceDisk.node.ts';
import { CLEAN_POWEROFF, runCli, writeScript } from '../boot/runCli.ts';
import { collect } from './sampleArchive.ts';

const BASE_GZ = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'romvisor-backup-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const PROMPT = '~ # ';

/** A page-made archive: VM web-1 on the built-in base, its disk `overlay`, a shared file. */
async function pageLikeArchive(overlay: string, baseSha256 = createHash('sha256').update(readFileSync(BASE_GZ)).digest('hex')): Promise<Uint8Array> {
  const backend = await FileBackend.open(overlay, { readOnly: true });
  const raw = await backend.read(0, backend.size);
  await backend.dispose();
  // Its parent is the unpacked base; only the unique id the overlay names is needed here.
  let parentUuid: string | undefined;
  const probe = await VhdDisk.open(await FileBackend.open(overlay, { readOnly: true }), {
    readOnly: true,
    parentResolver: async (ref) => {
      parentUuid = ref.uniqueId;
      return undefined;
    },
  }).catch(() => undefined);
  await probe?.dispose();
  const footer = raw.subarray(raw.length - 512);
  const hex = Array.from(footer.subarray(68, 84), (b) => b.toString(16).padStart(2, '0')).join('');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const sources: EntrySource[] = [bytesSource('images/disk-1.vhd', 'disk', raw)];
  const add = (bytes: Uint8Array) => {
    sources.push(bytesSource(`records/${sources.length}.bin`, 'data', bytes));
    return `records/${sources.length - 1}.bin`;
  };
  const server: BackupServer = {
    images: [
      { id: 'img-base', vhdUuid: parentUuid!, virtualSize: 72 * 2 ** 20, record: { id: 'img-base', kind: 'base', origin: 'builtin', name: 'base', sourceSha256: baseSha256 }, base: { origin: 'builtin', name: 'base', sha256: baseSha256 } },
      { id: 'disk-1', vhdUuid: uuid, parentUuid: parentUuid!, virtualSize: 72 * 2 ** 20, record: { id: 'disk-1', kind: 'child', origin: 'vm', name: 'base (VM disk)', size: raw.length, chunkSize: 65536, virtualSize: 72 * 2 ** 20, vhdUuid: uuid, parentId: 'img-base', state: 'ready', createdAt: 1, writes: 4 }, entry: 'images/disk-1.vhd' },
    ],
    stores: { vms: [{ value: { id: 'vm-1', name: 'web-1', applianceId: 'builtin:base', memoryMiB: 64, harts: 1, diskImageId: 'disk-1', createdAt: 1 } }] },
    shares: [{ vmId: 'vm-1', files: [toArchiveJson({ path: 'note.txt', kind: 'file', mode: 0o100644, mtimeNs: 1_700_000_000_000_000_000n, data: new TextEncoder().encode('from-the-share\n') }, add, 'share') as Record<string, unknown>] }],
  };
  return collect(writeBackupArchive(server, sources, { createdBy: 'test' }));
}
async function bootAndRun(dir: string, vm: string, command: string, expect: string): Promise<string> {
  const script = writeScript(work, `s-${Date.now()}`, [{ expect: PROMPT }, { send: `${command}; echo END-$((6*7))\n` }, { expect: 'END-42' }, { send: CLEAN_POWEROFF }, { expect: 'reboot: Power down' }]);
  const r = await runCli(['boot', 'base', '--overlay', join(dir, 'vms', vm, 'disk.vhd'), '--share', join(dir, 'vms', vm, 'share'), '--name', vm, '--script', script], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  assert.ok(r.stdout.includes(expect), `the guest printed ${JSON.stringify(expect)}:\n${r.stdout.slice(-1500)}`);
  return r.stdout;
}

describe('romvisor backup on the command line', () => {
  it('restores a page-made archive into a directory that boots, whose chain qemu-img reads, and makes an archive of it again with what the guest wrote', { timeout: 900_000 }, async () => {
    // The VM's disk, written by a guest: what the page would have in its store.
    const overlay = join(work, 'page-disk.vhd');
    const first = writeScript(work, 'write', [{ expect: PROMPT }, { send: `echo page-wrote-$((40+2)) > /root/mine.txt; ${CLEAN_POWEROFF}` }, { expect: 'reboot: Power down' }]);
    const w = await runCli(['boot', 'base', '--overlay', overlay, '--script', first], { timeoutMs: 240_000 });
    assert.equal(w.code, 0, w.stderr);
    const archive = join(work, 'page.rvbackup');
    writeFileSync(archive, await pageLikeArchive(overlay));

    const v = await runCli(['backup', 'verify', archive]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /every sha256 matches, every disk and state reads/);
    assert.match(v.stdout, /VM web-1: 64 MiB, on builtin base \(sha256 [0-9a-f]{12}\S+\), disk [\d.]+ \w+, 1 shared-folder object/);

    const dir = join(work, 'server');
    const r = await runCli(['backup', 'restore', archive, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`romvisor boot base --overlay ${dir}/vms/web-1/disk.vhd --mem 64M --share ${dir}/vms/web-1/share --name web-1`));
    const disk = join(dir, 'vms', 'web-1', 'disk.vhd');
    const check = await runCli(['vhd', 'check', disk]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems found \(differencing [0-9a-f-]+ -> dynamic/);
    const info = execFileSync('qemu-img', ['info', '--output=json', disk], { encoding: 'utf8' });
    assert.equal(JSON.parse(info).format, 'vpc');
    // The restored chain reads as the original: both flattened, converted to raw by qemu-img.
    const raws = [];
    for (const [name, top] of [['orig', overlay], ['restored', disk]] as const) {
      const flat = join(work, `${name}-flat.vhd`);
      const e = await runCli(['vhd', 'export', top, flat]);
      assert.equal(e.code, 0, e.stderr);
      execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', flat, join(work, `${name}.raw`)]);
      raws.push(readFileSync(join(work, `${name}.raw`)));
    }
    assert.ok(raws[0]!.equals(raws[1]!), 'the restored disk reads byte for byte as the original');

    await bootAndRun(dir, 'web-1', 'cat /root/mine.txt /mnt/host/note.txt; echo cli-wrote > /root/cli.txt', 'from-the-share');
    const back = join(work, 'back.rvbackup');
    const c = await runCli(['backup', 'create', dir, back]);
    assert.equal(c.code, 0, c.stderr);
    const file = await FileBackend.open(back, { readOnly: true });
    const a = await BackupArchive.open(file);
    await a.verify();
    await file.dispose();
    assert.equal(a.manifest.createdBy, 'romvisor cli 0.1');
    const rec = a.server.images.find((i) => i.id === 'disk-1')!.record;
    assert.equal(rec.writes, 5, 'the disk written since the restore counts one more write');
    const dir2 = join(work, 'server2');
    assert.equal((await runCli(['backup', 'restore', back, dir2])).code, 0);
    const out = await bootAndRun(dir2, 'web-1', 'cat /root/mine.txt /root/cli.txt /mnt/host/note.txt', 'cli-wrote');
    assert.match(out, /page-wrote-42\r?\ncli-wrote\r?\nfrom-the-share/);
  });

  it('refuses a damaged archive, another version of a built-in base and a directory in use, writing nothing', { timeout: 300_000 }, async () => {
    const overlay = join(work, 'page-disk.vhd');
    const good = await pageLikeArchive(overlay);
    const damaged = join(work, 'damaged.rvbackup');
    const bad = good.slice();
    bad[bad.length - 5000] ^= 1;
    writeFileSync(damaged, bad);
    const d = await runCli(['backup', 'restore', damaged, join(work, 'never')]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /romvisor backup restore: backup archive: entry "[^"]+" \(\d+ bytes at 0x[0-9a-f]+\) has sha256 [0-9a-f]{64}, the manifest says/);
    assert.ok(!existsSync(join(work, 'never')) && !existsSync(join(work, 'never.partial')), 'nothing was written');
    assert.equal((await runCli(['backup', 'verify', damaged])).code, 2);

    const other = join(work, 'other.rvbackup');
    writeFileSync(other, await pageLikeArchive(overlay, 'cd'.repeat(32)));
    const o = await runCli(['backup', 'restore', other, join(work, 'never')]);
    assert.equal(o.code, 2);
    assert.match(o.stderr, /stand on built-in appliance "base" with sha256 cdcdcdcdcdcdcdcd\S+; this romvisor's .*base\.vhd\.gz has [0-9a-f]{16}\S+: nothing was restored/);
    assert.ok(!existsSync(join(work, 'never')));

    const goodFile = join(work, 'good.rvbackup');
    writeFileSync(goodFile, good);
    const busy = join(work, 'busy');
    assert.equal((await runCli(['backup', 'restore', goodFile, busy])).code, 0);
    const again = await runCli(['backup', 'restore', goodFile, busy]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists and is not empty: a restore never writes over a server/);
    const cut = join(work, 'cut.rvbackup');
    writeFileSync(cut, good.subarray(0, good.length - 1));
    const t = await runCli(['backup', 'verify', cut]);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /cut short/);
  });
});

describe('a VM with a snapshot restored by the CLI', () => {
  it('keeps the chain VM disk → snapshot disk → built-in base, each reading as before, with locators vhd check follows', { timeout: 300_000 }, async () => {
    const gzSha = createHash('sha256').update(readFileSync(BASE_GZ)).digest('hex');
    const unpacked = await unpackVhdGz(BASE_GZ, join(work, 'cache'));
    const base = await VhdDisk.open(await FileBackend.open(unpacked, { readOnly: true }), { readOnly: true });
    const snapBackend = new MemoryBackend(undefined, { maxSize: 2 ** 30 });
    const snap = await VhdDisk.createDifferencing(snapBackend, base, { parentName: base.uuid });
    await snap.write(9 * 2 ** 20 + 512, new Uint8Array(3000).fill(0x61));
    await snap.flush();
    const topBackend = new MemoryBackend(undefined, { maxSize: 2 ** 30 });
    const top = await VhdDisk.createDifferencing(topBackend, snap, { parentName: snap.uuid });
    await top.write(9 * 2 ** 20 + 1024, new Uint8Array(700).fill(0x62));
    await top.write(40 * 2 ** 20, new Uint8Array(4096).fill(0x63));
    await top.flush();
    const expected = await top.read(0, top.virtualSize);
    const sources: EntrySource[] = [bytesSource('images/snap.vhd', 'disk', snapBackend.bytes().slice()), bytesSource('images/top.vhd', 'disk', topBackend.bytes().slice())];
    const server: BackupServer = {
      images: [
        { id: 'img-base', vhdUuid: base.uuid, virtualSize: base.virtualSize, record: { id: 'img-base', kind: 'base', origin: 'builtin', name: 'base', sourceSha256: gzSha }, base: { origin: 'builtin', name: 'base', sha256: gzSha } },
        { id: 'disk-snap', vhdUuid: snap.uuid, parentUuid: base.uuid, virtualSize: base.virtualSize, record: { id: 'disk-snap', kind: 'child', origin: 'vm', parentId: 'img-base' }, entry: 'images/snap.vhd' },
        { id: 'disk-top', vhdUuid: top.uuid, parentUuid: snap.uuid, virtualSize: base.virtualSize, record: { id: 'disk-top', kind: 'child', origin: 'vm', parentId: 'disk-snap' }, entry: 'images/top.vhd' },
      ],
      stores: {
        vms: [{ value: { id: 'vm-1', name: 'snappy', applianceId: 'builtin:base', memoryMiB: 64, diskImageId: 'disk-top', createdAt: 1 } }],
        snapshots: [{ key: 'snap-1', value: { id: 'snap-1', vmId: 'vm-1', name: 'first', takenAt: 2, imageId: 'disk-snap', withState: false } }],
      },
      shares: [],
    };
    await top.dispose();
    const archive = join(work, 'snappy.rvbackup');
    writeFileSync(archive, await collect(writeBackupArchive(server, sources, { createdBy: 'test' })));
    const dir = join(work, 'snappy');
    const r = await runCli(['backup', 'restore', archive, dir]);
    assert.equal(r.code, 0, r.stderr);
    const check = await runCli(['vhd', 'check', join(dir, 'vms', 'snappy', 'disk.vhd')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /differencing [0-9a-f-]+ -> differencing [0-9a-f-]+ -> dynamic /);
    const restored = await VhdDisk.open(await FileBackend.open(join(dir, 'vms', 'snappy', 'disk.vhd'), { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
    assert.equal(restored.uuid, server.images[2]!.vhdUuid);
    assert.equal(restored.parent?.uuid, server.images[1]!.vhdUuid);
    assert.ok(Buffer.from(await restored.read(0, restored.virtualSize)).equals(Buffer.from(expected)), 'the restored chain reads as the original');
    await restored.dispose();
    // The snapshot record went into server.json with the VM, and back into an archive.
    const back = join(work, 'snappy-back.rvbackup');
    assert.equal((await runCli(['backup', 'create', dir, back])).code, 0);
    const file = await FileBackend.open(back, { readOnly: true });
    const a = await BackupArchive.open(file);
    await a.verify();
    await file.dispose();
    assert.deepEqual(a.server.stores.snapshots, server.stores.snapshots);
    assert.deepEqual(a.server.images.map((i) => [i.id, i.parentUuid ?? null]), server.images.map((i) => [i.id, i.parentUuid ?? null]));
  });
});
