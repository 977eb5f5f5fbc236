/**
 * Restoring a backup archive into the page's stores. `open` reads and checks the whole
 * archive (every sha256, every disk and state entry) and lists which of its VMs meet a VM
 * of this server (same id or same name); nothing is written until `apply`, which takes a
 * choice per such VM (replace it, restore a copy beside it, or skip it), finds or fetches
 * the bases the archive names, then hands everything to ImageStore.restoreServer, which
 * lands all of it or none. Shared folders are in their own database and are written after.
 */
import { DEFAULT_CHUNK_SIZE, ownedByVm, recordsOwnedBy, stringsIn, type ImageRecord, type ImageStore, type RestoredRecord, type ShareStore, type VmRecord } from '../store/index.ts';
import type { MemoryShareEntry } from '../share/index.ts';
import { vhdChecksum, type ByteSource } from '../disk/index.ts';
import { BackupArchive, rangeSource, type ArchiveProgress } from './BackupArchive.ts';
import { BackupError } from './BackupError.ts';
import type { BackupImage, BaseReference } from './BackupServer.ts';
import { fromArchiveJson } from './archiveJson.ts';

/** A VM of the archive, and the VM of this server it meets, if any. */
export interface RestoreVm {
  id: string;
  name: string;
  suspended: boolean;
  conflict?: { id: string; name: string };
}

/** What to do with a VM of the archive that meets one here; VMs that meet none are restored. */
export type RestoreChoice = 'replace' | 'copy' | 'skip';

export interface RestoreResult {
  /** Ids of the VMs written (a copy's new id). */
  restored: string[];
  /** Ids of the VMs of this server that were replaced (removed). */
  removed: string[];
  /** What could not be done once the VMs were in (a shared folder that did not fit), one sentence each. */
  warnings: string[];
}

export class StoreRestore {
  private constructor(
    readonly archive: BackupArchive,
    readonly vms: readonly RestoreVm[],
  ) {}

  /** Reads and checks the whole archive against this store; throws BackupError on anything wrong. */
  static async open(src: ByteSource, store: ImageStore, onProgress?: (p: ArchiveProgress) => void): Promise<StoreRestore> {
    const archive = await BackupArchive.open(src);
    await archive.verify(onProgress);
    for (const name of Object.keys(archive.server.stores)) {
      if (!store.hasRecordStore(name)) throw new BackupError('backup-unsupported', `the archive has records of "${name}", which this version of romvisor does not keep (the archive is from a newer one): nothing was restored`);
    }
    const here = await store.vms();
    const suspended = new Set((archive.server.stores.suspended ?? []).map((r) => r.value.vmId));
    const byAge = [...archive.server.stores.vms!].sort((a, b) => Number(a.value.createdAt ?? 0) - Number(b.value.createdAt ?? 0));
    const vms = byAge.map(({ value }): RestoreVm => {
      const id = value.id as string;
      const name = value.name as string;
      const other = here.find((v) => v.id === id) ?? here.find((v) => v.name.toLowerCase() === name.toLowerCase());
      return { id, name, suspended: suspended.has(id), ...(other ? { conflict: { id: other.id, name: other.name } } : {}) };
    });
    return new StoreRestore(archive, vms);
  }

  /**
   * Writes the archive's server into `store` and `shares`: every VM without a conflict,
   * and each conflicting one as `choices` says (a conflict without a choice is an error,
   * never an overwrite). `resolveBase` finds or fetches a base the archive names and
   * returns its image id here. `freeName` gives a copy its name.
   */
  async apply(
    store: ImageStore,
    shares: ShareStore,
    choices: ReadonlyMap<string, RestoreChoice>,
    resolveBase: (ref: BaseReference) => Promise<ImageRecord>,
    freeName: (name: string, taken: ReadonlySet<string>) => string,
    onProgress?: (p: ArchiveProgress) => void,
  ): Promise<RestoreResult> {
    const { server } = this.archive;
    for (const vm of this.vms) {
      if (vm.conflict && !choices.has(vm.id)) throw new BackupError('backup-inconsistent', `VM ${vm.name} of the archive meets VM ${vm.conflict.name} here: say whether to replace it, copy it or skip it`);
    }
    const chosen = this.vms.filter((vm) => choices.get(vm.id) !== 'skip');
    const skipped = new Set(this.vms.filter((vm) => choices.get(vm.id) === 'skip').map((vm) => vm.id));
    const removed = chosen.filter((vm) => vm.conflict && choices.get(vm.id) === 'replace').map((vm) => vm.conflict!.id);
    const copies = new Set(chosen.filter((vm) => vm.conflict && choices.get(vm.id) === 'copy').map((vm) => vm.id));

    // Records that belong to a skipped VM stay out; everything else of the archive goes in.
    const all = Object.entries(server.stores).flatMap(([storeName, rs]) => rs.map((r) => ({ store: storeName, key: r.key, value: r.value })));
    const ofSkipped = recordsOwnedBy([...skipped], all);
    const records = all.filter((_, i) => !ofSkipped[i]);
    const named = new Set(records.flatMap((r) => [...stringsIn(r.value), ...stringsIn(r.key)]));
    // The images they stand on: named by a record, or below one that is; imported bases
    // always (the catalog's). A VM's blank data disk is a root too, but the VM's own: it
    // goes only with its VM.
    const byUuid = new Map(server.images.map((i) => [i.vhdUuid, i]));
    const needed = new Set<BackupImage>();
    const need = (img: BackupImage | undefined) => {
      for (let i = img; i && !needed.has(i); i = i.parentUuid ? byUuid.get(i.parentUuid) : undefined) needed.add(i);
    };
    for (const img of server.images) if (named.has(img.id) || (img.base === undefined && isCatalogBase(img))) need(img);

    // Each image's id here: a base found or fetched, an identical stored one, or a new id.
    const stored = await store.images();
    const owned = disksOf(removed, await store.vms(), stored);
    const ids = new Map<string, string>();
    /** VHD unique ids given anew (old → new). */
    const uuids = new Map<string, string>();
    const writes: BackupImage[] = [];
    for (const img of needed) {
      if (img.base) {
        const found = await resolveBase(img.base);
        if (found.vhdUuid !== img.vhdUuid) throw new BackupError('backup-unavailable', `the archive's VMs stand on ${img.base.origin} base "${img.base.name}" with VHD unique id ${img.vhdUuid}; the one here has ${found.vhdUuid}`);
        ids.set(img.id, found.id);
        continue;
      }
      const same = stored.find((r) => r.vhdUuid === img.vhdUuid);
      if (same && isCatalogBase(img)) {
        ids.set(img.id, same.id);
        continue;
      }
      // The same disk is here already (a copy of a VM beside itself): the copy's disk gets a
      // unique id of its own, or the two chains could not be told apart.
      if (same && !owned.has(same.id)) uuids.set(img.vhdUuid, crypto.randomUUID());
      ids.set(img.id, `${img.id.split('-')[0] || 'img'}-${crypto.randomUUID()}`);
      writes.push(img);
    }
    const taken = new Set((await store.vms()).filter((v) => !removed.includes(v.id)).map((v) => v.name.toLowerCase()));
    for (const vm of chosen) if (!copies.has(vm.id)) taken.add(vm.name.toLowerCase());
    const vmIds = new Map<string, string>();
    const names = new Map<string, string>();
    for (const vm of chosen) {
      if (!copies.has(vm.id)) continue;
      vmIds.set(vm.id, `vm-${crypto.randomUUID()}`);
      const name = freeName(vm.name, taken);
      taken.add(name.toLowerCase());
      names.set(vm.id, name);
    }
    const remap = (v: unknown): unknown => remapStrings(v, [...ids, ...vmIds, ...uuids]);
    const bytesOf = new Map<string, Uint8Array>();
    for (const r of records) for (const name of entryNames(r.value).concat(entryNames(r.key))) bytesOf.set(name, await this.archive.bytes(name));
    const restored: RestoredRecord[] = records.map((r) => {
      const value = remap(fromArchiveJson(r.value, (n) => bytesOf.get(n)!)) as Record<string, unknown>;
      if (r.store === 'vms') {
        const name = names.get(r.value.id as string);
        if (name) value.name = name;
      }
      return { store: r.store, ...(r.key !== undefined ? { key: remap(fromArchiveJson(r.key, (n) => bytesOf.get(n)!)) as IDBValidKey } : {}), value };
    });
    const images = writes.map((img) => {
      const entry = this.archive.entry(img.entry!);
      const record = remap(fromArchiveJson(img.record, () => new Uint8Array(0))) as ImageRecord;
      const parent = img.parentUuid ? byUuid.get(img.parentUuid) : undefined;
      const fixed: ImageRecord = { ...record, id: ids.get(img.id)!, size: entry.size, chunkSize: record.chunkSize || DEFAULT_CHUNK_SIZE, vhdUuid: uuids.get(img.vhdUuid) ?? img.vhdUuid, ...(parent ? { parentId: ids.get(parent.id)! } : {}) };
      const newUuid = uuids.get(img.vhdUuid);
      const newParent = img.parentUuid ? uuids.get(img.parentUuid) : undefined;
      return { record: fixed, bytes: () => withNewIds(this.archive, entry.name, newUuid, newParent) };
    });
    const total = images.reduce((n, i) => n + i.record.size, 0);
    await store.restoreServer(images, restored, removed, (bytes) => onProgress?.({ phase: 'writing', bytes, total }));

    // The shared folders: after the commit, in their own database (the VMs are in by now;
    // a folder that cannot be saved is said, not a reason to take them out again).
    const restoredIds = chosen.map((vm) => vmIds.get(vm.id) ?? vm.id);
    const warnings: string[] = [];
    for (const vm of chosen) {
      const folder = server.shares.find((s) => s.vmId === vm.id);
      const files: MemoryShareEntry[] = [];
      try {
        for (const f of folder?.files ?? []) {
          for (const name of entryNames(f)) bytesOf.set(name, await this.archive.bytes(name));
          files.push(fromArchiveJson(f, (n) => bytesOf.get(n)!) as MemoryShareEntry);
        }
        await shares.save(vmIds.get(vm.id) ?? vm.id, files);
      } catch (e) {
        warnings.push(`the shared folder of ${names.get(vm.id) ?? vm.name} (${files.length} objects) was not restored: ${(e as Error).message}`);
      }
    }
    for (const id of removed) if (!restoredIds.includes(id)) await shares.remove(id).catch(() => {});
    return { restored: restoredIds, removed, warnings };
  }
}

/**
 * An image's bytes with its VHD unique id (footer and its copy) and its parent's (dynamic
 * header) changed where asked, each structure's checksum made again.
 */
async function* withNewIds(archive: BackupArchive, entry: string, uuid: string | undefined, parentUuid: string | undefined): AsyncGenerator<Uint8Array> {
  const src = archive.source(entry);
  const patches: { at: number; bytes: Uint8Array }[] = [];
  if (uuid || parentUuid) {
    const footer = await src.read(src.size - 512, 512);
    const dataOffset = Number(new DataView(footer.buffer, footer.byteOffset).getBigUint64(16));
    if (uuid) {
      const patched = footer.slice();
      patched.set(uuidBytes(uuid), 68);
      new DataView(patched.buffer).setUint32(64, vhdChecksum(patched, 64));
      patches.push({ at: src.size - 512, bytes: patched });
      // Dynamic and differencing disks keep a copy of the footer at offset 0.
      if (src.size >= 1024 && sameBytes(await src.read(0, 512), footer)) patches.push({ at: 0, bytes: patched });
    }
    if (parentUuid) {
      const header = (await src.read(dataOffset, 1024)).slice();
      header.set(uuidBytes(parentUuid), 40);
      new DataView(header.buffer).setUint32(36, vhdChecksum(header, 36));
      patches.push({ at: dataOffset, bytes: header });
    }
  }
  let at = 0;
  for await (const piece of rangeSource(entry, 'disk', src).chunks()) {
    const out = patches.some((p) => p.at < at + piece.length && p.at + p.bytes.length > at) ? piece.slice() : piece;
    for (const p of patches) {
      const from = Math.max(p.at, at);
      const to = Math.min(p.at + p.bytes.length, at + piece.length);
      if (from < to) out.set(p.bytes.subarray(from - p.at, to - p.at), from - at);
    }
    yield out;
    at += piece.length;
  }
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The disks of the VMs `vmIds` (each VM's system and data disk, and the VM's own disks
 * below them): they go when those VMs are replaced.
 */
function disksOf(vmIds: readonly string[], vms: readonly VmRecord[], images: readonly ImageRecord[]): Set<string> {
  const byId = new Map(images.map((r) => [r.id, r]));
  const out = new Set<string>();
  for (const vm of vms) {
    if (!vmIds.includes(vm.id)) continue;
    for (const top of [vm.diskImageId, vm.dataImageId]) {
      for (let r = byId.get(top ?? ''); r && ownedByVm(r) && !out.has(r.id); r = byId.get(r.parentId ?? '')) out.add(r.id);
    }
  }
  return out;
}

/** A base of the catalog (an import), as against a VM's own disk that stands on nothing (its blank data disk). */
function isCatalogBase(img: BackupImage): boolean {
  return img.record.kind === 'base' && !ownedByVm({ origin: img.record.origin as ImageRecord['origin'] });
}

function entryNames(v: unknown, out: string[] = []): string[] {
  if (v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) {
    for (const x of v) entryNames(x, out);
    return out;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$entry' && typeof o.$entry === 'string') out.push(o.$entry);
  else for (const x of Object.values(o)) entryNames(x, out);
  return out;
}


/** Every string with an old id in it gets the new one (ids are random UUIDs, so a match is that id: "image:img-…" too). */
function remapStrings(v: unknown, pairs: readonly [string, string][]): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const [from, to] of pairs) if (from !== to && s.includes(from)) s = s.split(from).join(to);
    return s;
  }
  if (Array.isArray(v)) return v.map((x) => remapStrings(x, pairs));
  if (v instanceof Uint8Array || v instanceof Date || typeof v === 'bigint' || v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = remapStrings(x, pairs);
  return out;
}

