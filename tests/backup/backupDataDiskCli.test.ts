// A VM with a data disk (/dev/vdb, /data) through `romvisor backup` as a user runs it: an
// appliance with dataDiskMiB booted by the CLI writes a file to /data (its data disk's root)
// and another one after a snapshot-like freeze (a differencing child over it); the page's
// archive of that VM carries the whole data chain; `backup verify` lists the data disk,
// `backup restore` writes it beside the VM's overlay and prints a boot line that gives it
// (--data-disk); the restored chain reads byte for byte as the original (qemu-img compare
// of both, flattened), the guest booted from the printed line finds both files in /data, and
// `backup create` of the directory, restored again, gives the same data disk bytes again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupArchive, rangeSource, writeBackupArchive, type BackupServer, type EntrySource } from '../../src/backup/index.ts';
import { VhdDisk } from '../../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../../src/disk/node.ts';
import { QEMU_IMG } from '../disk/diskFixtures.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE } from '../repo/updateFixture.ts';
import { runCli, writeScript } from '../boot/runCli.ts';

const work = mkdtempSync(join(tmpdir(), 'romvisor-backup-data-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const PROMPT = '~ # ';
let appliance: string;

before(async () => {
  appliance = join((await makeUpdateRepository(work)).dir, `${UPDATE_APPLIANCE}-1.vhd`);
});

/** Runs `command` in a guest booted with `args`, then powers off through init (rcK unmounts /data). */
async function guest(args: string[], command: string): Promise<string> {
  const script = writeScript(work, `s-${Date.now()}`, [{ expect: PROMPT }, { send: `${command}; echo END-$((6*7))\n` }, { expect: 'END-42' }, { send: 'poweroff\n' }, { expect: 'reboot: Power down' }]);
  const r = await runCli(['boot', ...args, '--script', script], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  return r.stdout;
}

/** A disk chain's bytes as the guest sees them, for qemu-img: flattened by `vhd export` (QEMU's vpc reads no differencing disk). */
async function flat(top: string, name: string): Promise<string> {
  const out = join(work, `${name}.vhd`);
  const e = await runCli(['vhd', 'export', top, out]);
  assert.equal(e.code, 0, e.stderr);
  return out;
}

function qemuCompare(a: string, b: string): string {
  return execFileSync(QEMU_IMG, ['compare', '-f', 'vpc', '-F', 'vpc', a, b], { encoding: 'utf8' });
}

async function ids(path: string): Promise<{ uuid: string; parentUuid?: string; virtualSize: number }> {
  const d = await VhdDisk.open(await FileBackend.open(path, { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
  try {
    return { uuid: d.uuid, ...(d.parent ? { parentUuid: d.parent.uuid } : {}), virtualSize: d.virtualSize };
  } finally {
    await d.dispose();
  }
}

async function writeArchive(server: BackupServer, sources: EntrySource[], path: string): Promise<void> {
  writeFileSync(path, new Uint8Array(0));
  for await (const piece of writeBackupArchive(server, sources, { createdBy: 'test' })) await appendFile(path, piece);
}

describe('a VM with a data disk through romvisor backup', () => {
  it('travels in the archive, restores beside its overlay with a boot line that gives it, reads the same, and goes round again', { timeout: 1_500_000 }, async () => {
    // The VM as the page would hold it: its overlay, its data disk frozen by a snapshot with a child over it.
    const overlay = join(work, 'vm.vhd');
    const dataRoot = join(work, 'vm-data.vhd');
    const first = await guest([appliance, '--overlay', overlay, '--data-disk', dataRoot], 'echo one-$((40+2)) > /data/first');
    assert.match(first, /data: formatting the blank data disk \/dev\/vdb/);
    const dataTop = join(work, 'vm-data-top.vhd');
    const root = await VhdDisk.open(await FileBackend.open(dataRoot, { readOnly: true }), { readOnly: true });
    const child = await VhdDisk.createDifferencing(await FileBackend.create(dataTop), root, { parentAbsolutePath: dataRoot, parentRelativePath: 'vm-data.vhd' });
    await child.flush();
    await child.dispose();
    await guest([appliance, '--overlay', overlay, '--data-disk', dataTop], 'echo two-$((50+2)) > /data/second');

    const [sys, dRoot, dTop, base] = await Promise.all([ids(overlay), ids(dataRoot), ids(dataTop), ids(appliance)]);
    assert.equal(dTop.parentUuid, dRoot.uuid);
    const src = async (name: string, path: string) => rangeSource(name, 'disk', await FileBackend.open(path, { readOnly: true }));
    const sources: EntrySource[] = [await src('images/img-upd.vhd', appliance), await src('images/disk-1.vhd', overlay), await src('images/data-root.vhd', dataRoot), await src('images/data-top.vhd', dataTop)];
    const server: BackupServer = {
      images: [
        { id: 'img-upd', vhdUuid: base.uuid, virtualSize: base.virtualSize, record: { id: 'img-upd', kind: 'base', origin: 'imported', name: 'upd-1.vhd' }, entry: 'images/img-upd.vhd' },
        { id: 'disk-1', vhdUuid: sys.uuid, parentUuid: base.uuid, virtualSize: sys.virtualSize, record: { id: 'disk-1', kind: 'child', origin: 'vm', parentId: 'img-upd' }, entry: 'images/disk-1.vhd' },
        { id: 'data-root', vhdUuid: dRoot.uuid, virtualSize: dRoot.virtualSize, record: { id: 'data-root', kind: 'base', origin: 'snapshot', name: 'keeper data' }, entry: 'images/data-root.vhd' },
        { id: 'data-top', vhdUuid: dTop.uuid, parentUuid: dRoot.uuid, virtualSize: dTop.virtualSize, record: { id: 'data-top', kind: 'child', origin: 'vm', parentId: 'data-root', name: 'keeper data' }, entry: 'images/data-top.vhd' },
      ],
      stores: { vms: [{ value: { id: 'vm-1', name: 'keeper', applianceId: 'image:img-upd', memoryMiB: 64, diskImageId: 'disk-1', dataImageId: 'data-top', createdAt: 1 } }] },
      shares: [],
    };
    const archive = join(work, 'keeper.rvbackup');
    await writeArchive(server, sources, archive);

    const v = await runCli(['backup', 'verify', archive]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /VM keeper: 64 MiB, on carried base img-upd, disk [\d.]+ \w+, data disk 16(\.0)? MiB \([\d.]+ \w+ in the archive\)/);

    const dir = join(work, 'server');
    const r = await runCli(['backup', 'restore', archive, dir]);
    assert.equal(r.code, 0, r.stderr);
    const data = join(dir, 'vms', 'keeper', 'disk.data.vhd');
    const line = r.stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith('romvisor boot '));
    assert.ok(line, r.stdout);
    assert.ok(line.includes(`--data-disk ${data}`), line);
    const check = await runCli(['vhd', 'check', data]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems found \(differencing [0-9a-f-]+ -> dynamic/);
    assert.match(qemuCompare(await flat(dataTop, 'orig-data'), await flat(data, 'restored-data')), /Images are identical/);

    // The printed line boots the VM with its /data.
    const args = line.split(/\s+/).slice(2);
    const out = await guest(args, 'cat /data/first /data/second; echo three > /data/third');
    assert.match(out, /one-42\r?\ntwo-52\r?\n/);
    assert.doesNotMatch(out, /formatting the blank data disk/);

    // Round again: the directory as an archive, restored elsewhere, the same data disk bytes.
    const back = join(work, 'back.rvbackup');
    const c = await runCli(['backup', 'create', dir, back]);
    assert.equal(c.code, 0, c.stderr);
    const file = await FileBackend.open(back, { readOnly: true });
    const a = await BackupArchive.open(file);
    await a.verify();
    await file.dispose();
    assert.equal((a.server.stores.vms![0]!.value as { dataImageId: string }).dataImageId, 'data-top');
    const dir2 = join(work, 'server2');
    assert.equal((await runCli(['backup', 'restore', back, dir2])).code, 0);
    assert.match(qemuCompare(await flat(data, 'again-1'), await flat(join(dir2, 'vms', 'keeper', 'disk.data.vhd'), 'again-2')), /Images are identical/);
  });
});
