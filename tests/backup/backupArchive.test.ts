import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBackend } from '../../src/disk/index.ts';
import { Sha256 } from '../../src/format/sha256.ts';
import { BackupArchive, BackupError, bytesSource, fromArchiveJson, writeBackupArchive, type BackupErrorCode } from '../../src/backup/index.ts';
import { collect, sampleArchive } from './sampleArchive.ts';
import { createHash } from 'node:crypto';

const open = (bytes: Uint8Array) => BackupArchive.open(new MemoryBackend(bytes.slice(), { readOnly: true }));

async function refused(bytes: Uint8Array, code: BackupErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => (await open(bytes)).verify(),
    (e: unknown) => {
      assert.ok(e instanceof BackupError, `not a BackupError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

/** The archive with its manifest replaced by `edit(manifest)` and the header re-sealed, so the field checks are reached. */
function reseal(archive: Uint8Array, edit: (m: Record<string, any>) => void): Uint8Array {
  const v = new DataView(archive.buffer, archive.byteOffset);
  const len = v.getUint32(0x10, true);
  const m = JSON.parse(new TextDecoder().decode(archive.subarray(64, 64 + len)));
  edit(m);
  const json = new TextEncoder().encode(JSON.stringify(m));
  const rest = archive.subarray(64 + len);
  const out = new Uint8Array(64 + json.length + rest.length);
  out.set(archive.subarray(0, 64));
  out.set(json, 64);
  out.set(rest, 64 + json.length);
  const o = new DataView(out.buffer);
  o.setUint32(0x10, json.length, true);
  o.setBigUint64(0x18, BigInt(out.length), true);
  out.set(new Sha256().update(json).digest(), 0x20);
  return out;
}

describe('SHA-256 fed in pieces', () => {
  it('equals node:crypto for lengths around the block and padding boundaries, split anywhere', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
      const h = new Sha256();
      for (let at = 0, k = 1; at < n; at += k, k = (k * 7) % 101 + 1) h.update(data.subarray(at, at + k));
      assert.equal(h.hex(), createHash('sha256').update(data).digest('hex'), `length ${n}`);
    }
  });
});

describe('a backup archive', () => {
  it('reads back what was written: the manifest, every entry, records of unknown stores with bytes, bigints and dates', async () => {
    const s = await sampleArchive();
    const a = await open(s.archive);
    assert.equal(await a.verify(), s.archive.length - a.entries[0]!.offset);
    assert.deepEqual(a.server, JSON.parse(JSON.stringify(s.server)));
    const disk = a.server.images.find((i) => i.id === 'disk-1')!;
    assert.deepEqual(await a.bytes(disk.entry!), s.childBytes);
    const bytesOf = new Map<string, Uint8Array>();
    for (const e of a.entries) bytesOf.set(e.name, await a.bytes(e.name));
    const future = fromArchiveJson(a.server.stores.futureStore![0]!.value, (n) => bytesOf.get(n)!) as Record<string, unknown>;
    assert.deepEqual(future, { vmId: 'vm-1', when: new Date(7), count: 12n, blob: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(a.server.stores.futureStore![0]!.key, ['vm-1', 7]);
    const suspended = fromArchiveJson(a.server.stores.suspended![0]!.value, (n) => bytesOf.get(n)!) as { state: Uint8Array };
    assert.equal(String.fromCharCode(...suspended.state.subarray(0, 8)), 'ROMVSTAT');
    assert.equal(a.entries.find((e) => e.name === (a.server.stores.suspended![0]!.value.state as { $entry: string }).$entry)!.kind, 'state');
  });

  it('starts with the magic, version 1, and its own length', async () => {
    const { archive } = await sampleArchive();
    assert.equal(String.fromCharCode(...archive.subarray(0, 8)), 'ROMVBKUP');
    const v = new DataView(archive.buffer);
    assert.equal(v.getUint32(8, true), 1);
    assert.equal(v.getBigUint64(0x18, true), BigInt(archive.length));
  });

  it('refuses a file cut anywhere: in the header, the manifest or an entry', async () => {
    const { archive } = await sampleArchive();
    await refused(archive.subarray(0, 40), 'backup-truncated', /shorter than its 64-byte header/);
    await refused(archive.subarray(0, 100), 'backup-truncated', /should be \d+ bytes, the file has 100 \(cut short\)/);
    await refused(archive.subarray(0, archive.length - 1), 'backup-truncated', /cut short/);
  });

  it('refuses bytes appended, a changed manifest byte and a changed entry byte, naming the entry', async () => {
    const { archive } = await sampleArchive();
    const longer = new Uint8Array(archive.length + 3);
    longer.set(archive);
    await refused(longer, 'backup-altered', /bytes appended/);
    const m = archive.slice();
    m[70] ^= 1;
    await refused(m, 'backup-altered', /the manifest's sha256 is [0-9a-f]{64}, the header says/);
    const e = archive.slice();
    e[e.length - 2] ^= 0x40;
    await refused(e, 'backup-altered', /entry "[^"]+" \(\d+ bytes at 0x[0-9a-f]+\) has sha256/);
  });

  it('refuses another file, a newer version, unknown flags', async () => {
    const { archive } = await sampleArchive();
    const other = archive.slice();
    other.set(new TextEncoder().encode('ROMVSTAT'));
    await refused(other, 'backup-bad-magic', /magic is "ROMVSTAT", expected "ROMVBKUP"/);
    const newer = archive.slice();
    new DataView(newer.buffer).setUint32(8, 2, true);
    await refused(newer, 'backup-newer-version', /format version 2 is newer than this romvisor reads \(1\)/);
    const flagged = archive.slice();
    new DataView(flagged.buffer).setUint32(12, 4, true);
    await refused(flagged, 'backup-malformed', /flags 0x4/);
  });

  it('refuses a manifest field of the wrong type, naming its path and value', async () => {
    const { archive } = await sampleArchive();
    await refused(reseal(archive, (m) => (m.entries[0].size = -1)), 'backup-malformed', /manifest\.entries\[0\]\.size is -1, expected a whole number/);
    await refused(reseal(archive, (m) => (m.server.images[1].vhdUuid = 'nope')), 'backup-malformed', /server\.images\[1\]\.vhdUuid is "nope"/);
    await refused(reseal(archive, (m) => (m.server.stores.images = [])), 'backup-malformed', /server\.stores\.images/);
    await refused(reseal(archive, (m) => delete m.server.stores.vms), 'backup-malformed', /stores\.vms is missing/);
    await refused(reseal(archive, (m) => (m.server.stores.vms[0].value.createdAt = { $bigint: '1x' })), 'backup-malformed', /\$bigint "1x" is not well formed/);
  });

  it('refuses parts that do not fit: a VM disk, a parent, a state VM or an entry that is missing or unnamed', async () => {
    const { archive } = await sampleArchive();
    await refused(reseal(archive, (m) => (m.server.stores.vms[0].value.diskImageId = 'disk-9')), 'backup-inconsistent', /VM web-1's disk disk-9 is not in the archive/);
    await refused(reseal(archive, (m) => (m.server.images[2].parentUuid = '99999999-9999-9999-9999-999999999999')), 'backup-inconsistent', /over 99999999-9999-9999-9999-999999999999, which is not in the archive/);
    await refused(reseal(archive, (m) => (m.server.stores.suspended[0].value.vmId = 'vm-7')), 'backup-inconsistent', /VM vm-7, which is not in the archive/);
    await refused(reseal(archive, (m) => (m.server.shares[0].files[0].data.$entry = 'images/disk-1.vhd')), 'backup-inconsistent', /named twice|of kind disk/);
    await refused(reseal(archive, (m) => (m.server.shares = [])), 'backup-inconsistent', /is named by nothing in the manifest/);
    await refused(reseal(archive, (m) => (m.server.stores.vms[1].value.name = 'WEB-1')), 'backup-inconsistent', /two VMs are named "WEB-1"/);
  });

  it('refuses a disk entry that is not the VHD the manifest says, and a state entry that is not a state', async () => {
    const { archive } = await sampleArchive();
    await refused(reseal(archive, (m) => (m.server.images[2].vhdUuid = '22222222-2222-2222-2222-000000000000')), 'backup-inconsistent', /unique id 22222222-2222-2222-2222-222222222222/);
    // A state entry whose bytes are a state's magic and garbage: written as one, refused as one.
    const bad = await sampleArchive(({ server, sources }) => {
      const i = sources.findIndex((s) => s.kind === 'state');
      sources[i] = bytesSource(sources[i]!.name, 'state', new TextEncoder().encode('ROMVSTAT but nothing more'));
      void server;
    });
    await refused(bad.archive, 'backup-inconsistent', /is not a sound machine state: state file: \d+ bytes, shorter than its 64-byte header/);
  });

  it('refuses to finish writing when a source changes between its hashing and its writing', async () => {
    const s = await sampleArchive();
    let calls = 0;
    const changing = { name: s.sources[1]!.name, kind: 'disk' as const, async *chunks() { calls++; yield calls === 1 ? s.childBytes : s.childBytes.map((b, i) => (i === 10 ? b ^ 1 : b)); } };
    const sources = [s.sources[0]!, changing, ...s.sources.slice(2)];
    await assert.rejects(collect(writeBackupArchive(s.server, sources, { createdBy: 'test' })), (e: unknown) => e instanceof BackupError && e.code === 'backup-changed' && /images\/disk-1\.vhd changed while it was being backed up/.test(e.message));
  });
});
