// A small server as an archive, for the format's tests and fuzzer: a built-in base named by
// sha256, an imported base carried whole with a VM's differencing disk over it, the VM's data
// disk (a dynamic VHD of its own), a suspended state, a record of a store the format has
// never heard of, and a shared folder.
import { MemoryBackend, VhdDisk } from '../../src/disk/index.ts';
import { encodeContainer } from '../../src/state/StateContainer.ts';
import { bytesSource, toArchiveJson, writeBackupArchive, type BackupServer, type EntryKind, type EntrySource } from '../../src/backup/index.ts';

export interface Sample {
  server: BackupServer;
  sources: EntrySource[];
  archive: Uint8Array;
  childBytes: Uint8Array;
}

export async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `mutate` may change the server and sources before the archive is written. */
export async function sampleArchive(mutate?: (s: { server: BackupServer; sources: EntrySource[] }) => void): Promise<Sample> {
  const baseBackend = new MemoryBackend();
  const base = await VhdDisk.createDynamic(baseBackend, 4 * 2 ** 20, { timeStamp: 1000, uniqueId: new Uint8Array(16).fill(0x11) });
  await base.write(0, new Uint8Array(4096).fill(0xab));
  await base.flush();
  const childBackend = new MemoryBackend();
  const child = await VhdDisk.createDifferencing(childBackend, base, { timeStamp: 2000, uniqueId: new Uint8Array(16).fill(0x22), parentName: 'imported.vhd' });
  await child.write(8192, new Uint8Array(1024).fill(0x5a));
  await child.flush();
  const dataBackend = new MemoryBackend();
  const data = await VhdDisk.createDynamic(dataBackend, 2 * 2 ** 20, { timeStamp: 3000, uniqueId: new Uint8Array(16).fill(0x44) });
  await data.write(512, new Uint8Array(1536).fill(0x64));
  await data.flush();
  const dataBytes = dataBackend.bytes().slice();
  await data.dispose();
  const baseBytes = baseBackend.bytes().slice();
  const childBytes = childBackend.bytes().slice();
  await child.dispose();
  const state = await encodeContainer([{ id: 'META', bytes: new TextEncoder().encode('{"x":1}') }, { id: 'RAM ', bytes: new Uint8Array(5000).fill(3), deflate: true }]);

  const sources: EntrySource[] = [bytesSource('images/img-imported.vhd', 'disk', baseBytes), bytesSource('images/disk-1.vhd', 'disk', childBytes), bytesSource('images/data-1.vhd', 'disk', dataBytes)];
  const add = (bytes: Uint8Array, kind: EntryKind, where: string) => {
    const name = `records/${sources.length}`;
    sources.push(bytesSource(name, kind, bytes));
    void where;
    return name;
  };
  const uuid = (d: string) => `${d.repeat(8)}-${d.repeat(4)}-${d.repeat(4)}-${d.repeat(4)}-${d.repeat(12)}`;
  const server: BackupServer = {
    images: [
      { id: 'img-builtin', vhdUuid: uuid('3'), virtualSize: 12 * 2 ** 20, record: { id: 'img-builtin', kind: 'base', origin: 'builtin', name: 'base' }, base: { origin: 'builtin', name: 'base', sha256: 'ab'.repeat(32) } },
      { id: 'img-imported', vhdUuid: uuid('1'), virtualSize: 4 * 2 ** 20, record: { id: 'img-imported', kind: 'base', origin: 'imported', name: 'imported.vhd' }, entry: 'images/img-imported.vhd' },
      { id: 'disk-1', vhdUuid: uuid('2'), parentUuid: uuid('1'), virtualSize: 4 * 2 ** 20, record: { id: 'disk-1', kind: 'child', origin: 'vm', parentId: 'img-imported', writes: 3 }, entry: 'images/disk-1.vhd' },
      { id: 'data-1', vhdUuid: uuid('4'), virtualSize: 2 * 2 ** 20, record: { id: 'data-1', kind: 'base', origin: 'vm', name: 'web-1 data', writes: 1 }, entry: 'images/data-1.vhd' },
    ],
    stores: {
      vms: [
        { value: toArchiveJson({ id: 'vm-1', name: 'web-1', applianceId: 'image:img-imported', memoryMiB: 64, diskImageId: 'disk-1', dataImageId: 'data-1', createdAt: 1 }, add, 'vms') as Record<string, unknown> },
        { value: toArchiveJson({ id: 'vm-2', name: 'ram-1', applianceId: 'builtin:ram', memoryMiB: 64, createdAt: 2 }, add, 'vms') as Record<string, unknown> },
      ],
      suspended: [{ value: toArchiveJson({ vmId: 'vm-1', state, console: new Uint8Array([0x24, 0x20]), takenAt: 5, disk: { imageId: 'disk-1', writes: 3 }, dataDisk: { imageId: 'data-1', writes: 1 } }, add, 'suspended') as Record<string, unknown> }],
      futureStore: [{ key: ['vm-1', 7], value: toArchiveJson({ vmId: 'vm-1', when: new Date(7), count: 12n, blob: new Uint8Array([1, 2, 3]) }, add, 'futureStore') as Record<string, unknown> }],
    },
    shares: [{ vmId: 'vm-1', files: [toArchiveJson({ path: 'hello.txt', kind: 'file', mode: 0o644, mtimeNs: 123n, data: new TextEncoder().encode('hi\n') }, add, 'share') as Record<string, unknown>] }],
  };
  mutate?.({ server, sources });
  const archive = await collect(writeBackupArchive(server, sources, { createdBy: 'test', createdAt: new Date(0) }));
  return { server, sources, archive, childBytes };
}
