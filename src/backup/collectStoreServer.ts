/**
 * The page's server as a backup: every image, every record of every object store, every
 * shared folder, read from the image store and the share store (src/store) as they are
 * stored. Nothing here knows the stores by name but `images`: a store a later schema adds
 * (snapshots, say) is taken too, its bytes as entries.
 */
import { IdbChunkBackend, type ImageRecord, type ImageStore, type ShareStore } from '../store/index.ts';
import { bytesSource, rangeSource, type EntrySource } from './BackupArchive.ts';
import { BackupError } from './BackupError.ts';
import type { BackupImage, BackupRecord, BackupServer, BackupShare, BaseReference } from './BackupServer.ts';
import { toArchiveJson, type EntrySink } from './archiveJson.ts';

/** A base that is named rather than carried: a built-in appliance or a repository's version, by sha256. */
export function baseReference(r: ImageRecord): BaseReference | undefined {
  if (r.kind !== 'base' || !r.sourceSha256) return undefined;
  if (r.origin === 'builtin') return { origin: 'builtin', name: r.name, sha256: r.sourceSha256 };
  if (r.origin === 'repository' && r.remote) return { origin: 'repository', name: r.name, sha256: r.sourceSha256, url: r.remote.url, version: r.remote.version };
  return undefined;
}

export async function collectStoreServer(store: ImageStore, shares: ShareStore): Promise<{ server: BackupServer; sources: EntrySource[] }> {
  const sources: EntrySource[] = [];
  const add: EntrySink = (bytes, kind) => {
    const name = `records/${sources.length}.${kind === 'state' ? 'romvstat' : 'bin'}`;
    sources.push(bytesSource(name, kind, bytes.slice()));
    return name;
  };
  const records = await store.images();
  const byId = new Map(records.map((r) => [r.id, r]));
  const images: BackupImage[] = [];
  for (const r of records) {
    const where = `images["${r.id}"]`;
    const parent = r.parentId ? byId.get(r.parentId) : undefined;
    if (r.parentId && !parent) throw new BackupError('backup-inconsistent', `image ${r.id} (${r.name}) stands on image ${r.parentId}, which is not in the store`);
    const img: BackupImage = { id: r.id, vhdUuid: r.vhdUuid, virtualSize: r.virtualSize, record: toArchiveJson(r, add, where) as Record<string, unknown>, ...(parent ? { parentUuid: parent.vhdUuid } : {}) };
    const base = baseReference(r);
    if (base) img.base = base;
    else {
      img.entry = `images/${r.id}.vhd`;
      sources.push(imageSource(store, r, img.entry));
    }
    images.push(img);
  }
  const stores: Record<string, BackupRecord[]> = {};
  // Keys go along even where the store derives them from the value: a restore finds what
  // belongs to a VM by them (a snapshot's state names its snapshot's key).
  for (const { store: name, records: rs } of await store.recordStores()) {
    stores[name] = rs.map(({ key, value }, i) => {
      const where = `${name}[${i}]`;
      if (typeof value !== 'object' || value === null) throw new BackupError('backup-unsupported', `${where}: a ${typeof value} record; only object records can be backed up`);
      return { key: toArchiveJson(key, add, `${where}.key`), value: toArchiveJson(value, add, `${where}.value`) as Record<string, unknown> };
    });
  }
  const folders: BackupShare[] = [];
  for (const vm of stores.vms ?? []) {
    const vmId = vm.value.id as string;
    const files = await shares.load(vmId);
    if (files.length) folders.push({ vmId, files: files.map((f, i) => toArchiveJson(f, add, `shares["${vmId}"][${i}]`) as Record<string, unknown>) });
  }
  return { server: { images, stores, shares: folders }, sources };
}

/** An image's bytes, read from the store a piece at a time (each pass opens it afresh). */
function imageSource(store: ImageStore, r: ImageRecord, name: string): EntrySource {
  return {
    name,
    kind: 'disk',
    async *chunks() {
      const backend = await IdbChunkBackend.open(store.db, r.id, { readOnly: true });
      try {
        yield* rangeSource(name, 'disk', backend).chunks();
      } finally {
        await backend.dispose();
      }
    },
  };
}
