/**
 * The image store: VHD images and VM records in IndexedDB. Base images (built-in
 * appliances, imports) are stored once and only read; every disk-backed VM writes to its
 * own differencing child over one of them.
 */
import { ApplianceError } from '../boot/ApplianceError.ts';
import type { ApplianceManifest } from '../boot/ApplianceManifest.ts';
import { readApplianceManifest } from '../boot/applianceBoot.ts';
import { MemoryBackend, VhdDisk, formatUniqueId, type BlockBackend, type ParentResolver } from '../disk/index.ts';
import { RemoteChunkBackend, type RemoteDiskMeter, type RepositoryVersion } from '../repo/index.ts';
import { BlobBackend } from './BlobBackend.ts';
import { IdbRepoChunkStore } from './IdbRepoChunkStore.ts';
import { DEFAULT_CHUNK_SIZE, IdbChunkBackend } from './IdbChunkBackend.ts';
import {
  CHUNKS,
  IMAGES,
  SNAPSHOT_STATES,
  SNAPSHOTS,
  SNAPSHOTS_BY_VM,
  SUSPENDED,
  VMS,
  chunkKey,
  imageChunkRange,
  openImageDb,
  type DiskIdentity,
  type ImageOrigin,
  type ImageRecord,
  type SnapshotRecord,
  type SnapshotStateRecord,
  type SuspendedRecord,
  type VmRecord,
} from './imageDb.ts';
import { isQuotaError, requestResult, transactionDone } from './idbRequests.ts';
import { StoreError } from './StoreError.ts';

/**
 * The appliance.json of a disk being imported, read and checked as `romvisor boot` does.
 * A disk without one (no MBR, no ext2 boot partition, no file: a blank or foreign disk) is
 * imported as a plain disk; a disk whose appliance.json is wrong is refused with the
 * reader's ApplianceError, since it would not boot either.
 */
async function applianceOf(disk: VhdDisk): Promise<ApplianceManifest | undefined> {
  try {
    return await readApplianceManifest(disk);
  } catch (e) {
    if (e instanceof ApplianceError && e.code !== 'missing-file') throw e;
    return undefined;
  }
}

/** Chunks per import transaction: 4 MiB, so an import's memory stays small. */
const IMPORT_BATCH_CHUNKS = 64;

export interface ImportProgress {
  bytes: number;
  /** Undefined when the length is not known up front (a decompressing stream). */
  total: number | undefined;
}

export interface StorageUse {
  usage: number;
  quota: number;
  persisted: boolean;
}

/** A snapshot as the tree shows it: its record and the snapshot it was taken after. */
export interface SnapshotNode extends SnapshotRecord {
  /** The snapshot whose disk this one's grew from; undefined at the root (the appliance's base). */
  parentSnapshotId: string | undefined;
}

export interface SnapshotTree {
  /** Oldest first. */
  nodes: SnapshotNode[];
  /** The snapshot the VM's current disk grew from (where "you are here" hangs); undefined: the base. */
  current: string | undefined;
}

/** What a revert did about the snapshot's machine state. */
export type RevertOutcome = 'no-state' | 'state' | 'state-stale';

export interface DiskState {
  /** Bytes the guest changed relative to its base (sectors present in the child). */
  changedBytes: number;
  modified: boolean;
}

const lockName = (imageId: string) => `romvisor:image:${imageId}`;

function newId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export class ImageStore {
  /** Counts what the repository images this store opens fetch (a VM worker's readout). */
  remoteMeter: RemoteDiskMeter | undefined;

  private constructor(readonly db: IDBDatabase) {}

  /**
   * Opens the store. The page's opening also removes what closed tabs left half made;
   * a VM's worker, which only opens its own disk, passes `removeAbandoned: false` so that
   * starting a VM does not scan every image again.
   */
  static async open(dbName?: string, opts: { removeAbandoned?: boolean } = {}): Promise<ImageStore> {
    const store = new ImageStore(await openImageDb(dbName));
    if (opts.removeAbandoned ?? true) await store.removeAbandoned();
    return store;
  }

  dispose(): void {
    this.db.close();
  }

  // ------------------------------------------------------------------ images

  async images(): Promise<ImageRecord[]> {
    const tx = this.db.transaction(IMAGES, 'readonly');
    const all = (await requestResult(tx.objectStore(IMAGES).getAll())) as ImageRecord[];
    return all.filter((r) => r.state === 'ready');
  }

  async image(id: string): Promise<ImageRecord | undefined> {
    const tx = this.db.transaction(IMAGES, 'readonly');
    return (await requestResult(tx.objectStore(IMAGES).get(id))) as ImageRecord | undefined;
  }

  /** Finds a differencing disk's parent among the stored images, by VHD unique id. */
  readonly parentResolver: ParentResolver = async (ref) => {
    const parent = (await this.images()).find((r) => r.vhdUuid === ref.uniqueId);
    return parent ? this.backendOf(parent, true) : undefined;
  };

  /** The bytes of an image: its chunks here, or for a repository's base, its server and the chunks kept from it. */
  private async backendOf(record: ImageRecord, readOnly: boolean | undefined): Promise<BlockBackend> {
    if (!record.remote) return IdbChunkBackend.open(this.db, record.id, { readOnly });
    const { url, version } = record.remote;
    const backend = new RemoteChunkBackend({ url: new URL(url), version, store: new IdbRepoChunkStore(this.db, record.id, version) });
    this.remoteMeter?.watch(backend);
    return backend;
  }

  /** Opens a stored image with its parent chain. The caller disposes the disk. */
  async openDisk(imageId: string, opts: { readOnly?: boolean } = {}): Promise<VhdDisk> {
    const record = await this.image(imageId);
    if (!record) throw new StoreError('not-found', `image store: no image with id "${imageId}"`);
    const backend = await this.backendOf(record, opts.readOnly);
    try {
      return await VhdDisk.open(backend, { parentResolver: this.parentResolver, readOnly: opts.readOnly });
    } catch (e) {
      await backend.dispose();
      throw e;
    }
  }

  /**
   * Imports a VHD file as a read-only base image. The file is validated with
   * VhdDisk.open first (a bad one throws its VhdError and nothing is written), then
   * streamed in chunk by chunk.
   */
  async importFile(file: Blob, name: string, onProgress?: (p: ImportProgress) => void): Promise<ImageRecord> {
    const source = new BlobBackend(file);
    const probe = await VhdDisk.open(source, { readOnly: true, parentResolver: this.parentResolver });
    let fields;
    try {
      fields = { name, virtualSize: probe.virtualSize, vhdUuid: probe.uuid, parentId: await this.parentIdOf(probe), appliance: await applianceOf(probe) };
    } finally {
      await probe.dispose();
    }
    return this.storeStream(file.stream(), { ...fields, origin: 'imported' }, file.size, onProgress);
  }

  /**
   * Stores a stream of VHD bytes whose validity is only known at the end (a built-in
   * appliance being downloaded and inflated): stored, then opened; if it does not open,
   * every chunk is removed again and the VhdError is thrown.
   */
  async importStream(stream: ReadableStream<Uint8Array>, meta: { name: string; origin: ImageOrigin; sourceSha256?: string; id?: string }, onProgress?: (p: ImportProgress) => void): Promise<ImageRecord> {
    const stored = await this.storeStream(stream, { ...meta, virtualSize: 0, vhdUuid: '' }, undefined, onProgress);
    try {
      const disk = await this.openDisk(stored.id, { readOnly: true });
      const parentId = await this.parentIdOf(disk);
      const record: ImageRecord = { ...stored, virtualSize: disk.virtualSize, vhdUuid: disk.uuid, parentId };
      await disk.dispose();
      await this.putRecord(record);
      return record;
    } catch (e) {
      await this.deleteImageData(stored.id);
      throw e;
    }
  }

  /**
   * A repository appliance's version as a base image that stays on the server: only its
   * VHD's footer, header and block table are read now (verified and kept); the rest
   * arrives chunk by chunk as guests read it.
   */
  async addRemoteBase(meta: { name: string; url: string; version: RepositoryVersion }): Promise<ImageRecord> {
    const { version } = meta;
    const record: ImageRecord = {
      id: newId('img'),
      kind: 'base',
      origin: 'repository',
      name: meta.name,
      size: version.size,
      chunkSize: version.chunkSize,
      virtualSize: version.virtualSize,
      vhdUuid: '',
      state: 'importing',
      createdAt: Date.now(),
      sourceSha256: version.sha256,
      remote: { url: meta.url, version },
    };
    return navigator.locks.request(lockName(record.id), async () => {
      await this.putRecord(record);
      try {
        const disk = await this.openDisk(record.id, { readOnly: true });
        const ready: ImageRecord = { ...record, virtualSize: disk.virtualSize, vhdUuid: disk.uuid, state: 'ready' };
        await disk.dispose();
        await this.putRecord(ready);
        return ready;
      } catch (e) {
        await this.deleteImageData(record.id).catch(() => {});
        throw e;
      }
    });
  }

  /**
   * Fetches every chunk of a repository base that is not kept yet ("make available
   * offline"); `onProgress` gets the bytes fetched. Nothing to do for any other image.
   */
  async fetchRemoteBase(imageId: string, onProgress?: (p: ImportProgress) => void): Promise<number> {
    const record = await this.requireImage(imageId);
    if (!record.remote) return 0;
    const { url, version } = record.remote;
    const backend = new RemoteChunkBackend({
      url: new URL(url),
      version,
      store: new IdbRepoChunkStore(this.db, record.id, version),
      onProgress: (s) => onProgress?.({ bytes: s.fetchedBytes, total: version.size }),
    });
    try {
      await backend.fetchAll();
      return backend.stats.fetchedBytes;
    } finally {
      await backend.dispose();
    }
  }

  private async parentIdOf(disk: VhdDisk): Promise<string | undefined> {
    if (!disk.parent) return undefined;
    return (await this.images()).find((r) => r.vhdUuid === disk.parent!.uuid)?.id;
  }

  /** Writes a stream as a new image record ('importing' until complete). */
  private async storeStream(
    stream: ReadableStream<Uint8Array>,
    fields: { name: string; origin: ImageOrigin; virtualSize: number; vhdUuid: string; parentId?: string; sourceSha256?: string; id?: string; appliance?: ApplianceManifest },
    total: number | undefined,
    onProgress?: (p: ImportProgress) => void,
  ): Promise<ImageRecord> {
    const cs = DEFAULT_CHUNK_SIZE;
    const record: ImageRecord = {
      id: fields.id ?? newId('img'),
      kind: 'base',
      origin: fields.origin,
      name: fields.name,
      size: 0,
      chunkSize: cs,
      virtualSize: fields.virtualSize,
      vhdUuid: fields.vhdUuid,
      parentId: fields.parentId,
      state: 'importing',
      createdAt: Date.now(),
      sourceSha256: fields.sourceSha256,
      appliance: fields.appliance,
    };
    // The lock tells a store opening in another tab that this import is alive.
    return navigator.locks.request(lockName(record.id), async () => {
      await this.putRecord(record);
      try {
        const bytes = await this.writeChunks(record.id, cs, streamChunks(stream), (n) => onProgress?.({ bytes: n, total }));
        const ready: ImageRecord = { ...record, size: bytes, state: 'ready' };
        await this.putRecord(ready);
        return ready;
      } catch (e) {
        await this.deleteImageData(record.id).catch(() => {});
        if (isQuotaError(e)) throw new StoreError('quota-exceeded', `storage is full: importing "${record.name}" needs more space than the browser grants this site (nothing was kept)`, { cause: e });
        throw e;
      }
    });
  }

  /**
   * Writes an image's bytes as chunks of `cs` under `id` (all-zero chunks are holes), in
   * transactions of IMPORT_BATCH_CHUNKS chunks; `onBytes` hears the bytes written so far.
   */
  private async writeChunks(id: string, cs: number, source: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): Promise<number> {
    let chunk = new Uint8Array(cs);
    let fill = 0;
    let index = 0;
    let bytes = 0;
    let batch: [number, Uint8Array][] = [];
    const commit = async () => {
      const tx = this.db.transaction([CHUNKS], 'readwrite');
      const store = tx.objectStore(CHUNKS);
      for (const [i, c] of batch) store.put(c, chunkKey(id, i));
      batch = [];
      await transactionDone(tx);
      onBytes?.(bytes);
    };
    const finishChunk = async () => {
      if (!isZero(chunk)) batch.push([index, chunk]);
      index++;
      chunk = new Uint8Array(cs);
      fill = 0;
      if (batch.length >= IMPORT_BATCH_CHUNKS) await commit();
    };
    for await (const value of source) {
      let pos = 0;
      while (pos < value.length) {
        const n = Math.min(cs - fill, value.length - pos);
        chunk.set(value.subarray(pos, pos + n), fill);
        fill += n;
        pos += n;
        bytes += n;
        if (fill === cs) await finishChunk();
      }
    }
    if (fill > 0 && !isZero(chunk)) batch.push([index, chunk]);
    await commit();
    return bytes;
  }

  // ------------------------------------------------------------------ whole server (backup)

  /**
   * Every record of every object store but the images' own (`images`, `chunks`), read
   * without knowing the stores: a backup takes the stores a later schema adds too.
   */
  async recordStores(): Promise<{ store: string; keyPath: boolean; records: { key: IDBValidKey; value: unknown }[] }[]> {
    const names = [...this.db.objectStoreNames].filter((n) => n !== IMAGES && n !== CHUNKS);
    if (names.length === 0) return [];
    const tx = this.db.transaction(names, 'readonly');
    const out = [];
    for (const store of names) {
      const os = tx.objectStore(store);
      const [keys, values] = await Promise.all([requestResult(os.getAllKeys()), requestResult(os.getAll())]);
      out.push({ store, keyPath: os.keyPath !== null, records: keys.map((key, i) => ({ key, value: values[i] })) });
    }
    return out;
  }

  /** True when this database has object store `name` (an archive's records need one to land in). */
  hasRecordStore(name: string): boolean {
    return name !== IMAGES && name !== CHUNKS && this.db.objectStoreNames.contains(name);
  }

  /**
   * Restores images and records as one step: each image's bytes are written under its
   * record marked 'importing' (and locked, so a tab that dies half way leaves only what the
   * next start removes), then ONE transaction marks every image ready, removes the VMs
   * `replace` names, with their disks and every record of theirs, and puts `records`. On
   * any failure the images written so far are removed again: all of it lands, or none.
   * A VM's records are those whose value holds its id anywhere (its suspended state, and
   * whatever a later store keeps per VM); its images are the VM disks (origin 'vm') those
   * records name.
   */
  async restoreServer(
    images: readonly { record: ImageRecord; bytes: () => AsyncIterable<Uint8Array> }[],
    records: readonly RestoredRecord[],
    replace: readonly string[],
    onBytes?: (n: number) => void,
  ): Promise<void> {
    // Every image's lock is held from before its record exists until the commit.
    const holdAll = (k: number, body: () => Promise<void>): Promise<void> =>
      k === images.length ? body() : navigator.locks.request(lockName(images[k]!.record.id), () => holdAll(k + 1, body)).then(() => {});
    try {
      await holdAll(0, async () => {
        let written = 0;
        for (const { record, bytes } of images) {
          await this.putRecord({ ...record, state: 'importing' });
          const size = await this.writeChunks(record.id, record.chunkSize, bytes(), (n) => onBytes?.(written + n));
          if (size !== record.size) throw new StoreError('bad-image', `image ${record.id}: ${size} bytes arrived, its record says ${record.size}`);
          written += size;
        }
        await this.commitRestore(images.map((i) => i.record), records, replace);
      });
    } catch (e) {
      for (const { record } of images) await this.deleteImageData(record.id).catch(() => {});
      if (isQuotaError(e)) throw new StoreError('quota-exceeded', `storage is full: restoring ${images.length} disk image(s) needs more space than the browser grants this site (nothing was kept)`, { cause: e });
      throw e;
    }
  }

  private async commitRestore(images: readonly ImageRecord[], records: readonly RestoredRecord[], replace: readonly string[]): Promise<void> {
    const recordStores = [...this.db.objectStoreNames].filter((n) => n !== IMAGES && n !== CHUNKS);
    const tx = this.db.transaction([IMAGES, CHUNKS, ...recordStores], 'readwrite', { durability: 'strict' });
    const done = transactionDone(tx);
    if (replace.length) {
      const stored = (await requestResult(tx.objectStore(IMAGES).getAll())) as ImageRecord[];
      const byId = new Map(stored.map((r) => [r.id, r]));
      const doomed = new Set<string>();
      const all: { store: string; key: IDBValidKey; value: unknown }[] = [];
      for (const name of recordStores) {
        const os = tx.objectStore(name);
        const [keys, values] = await Promise.all([requestResult(os.getAllKeys()), requestResult(os.getAll())]);
        keys.forEach((key, i) => all.push({ store: name, key, value: values[i] }));
      }
      const owned = recordsOwnedBy(replace, all);
      all.forEach((r, i) => {
        if (!owned[i]) return;
        tx.objectStore(r.store).delete(r.key);
        for (const s of stringsIn(r.value)) if (byId.get(s) && ownedByVm(byId.get(s)!)) doomed.add(s);
      });
      // The disks below a doomed one that nothing else stands on go with it (frozen snapshot
      // disks, a data chain's root): a VM's own, never a base of the catalog.
      for (let grew = true; grew; ) {
        grew = false;
        for (const id of [...doomed]) {
          const parent = byId.get(byId.get(id)?.parentId ?? '');
          if (!parent || !ownedByVm(parent) || doomed.has(parent.id)) continue;
          if (stored.some((r) => r.parentId === parent.id && !doomed.has(r.id))) continue;
          doomed.add(parent.id);
          grew = true;
        }
      }
      for (const id of doomed) {
        tx.objectStore(CHUNKS).delete(imageChunkRange(id));
        tx.objectStore(IMAGES).delete(id);
      }
    }
    for (const r of images) tx.objectStore(IMAGES).put({ ...r, state: 'ready' });
    for (const r of records) {
      const os = tx.objectStore(r.store);
      if (os.keyPath !== null || r.key === undefined) os.put(r.value);
      else os.put(r.value, r.key);
    }
    await done;
  }

  /**
   * Stores a new VM, with an empty differencing child over `baseId` as its disk when one
   * is given. The child is written as 'importing' under its lock, and the VM record and
   * the child's 'ready' land in one transaction: a tab closed or killed at any point
   * leaves either the whole VM or nothing (the next start removes the unfinished child).
   */
  async addVm(vm: Omit<VmRecord, 'diskImageId'>, baseId?: string): Promise<VmRecord> {
    if (baseId === undefined) {
      const tx = this.db.transaction(VMS, 'readwrite');
      tx.objectStore(VMS).put(vm);
      await transactionDone(tx);
      return vm;
    }
    const base = await this.requireImage(baseId);
    return this.newChild(base, [VMS], (tx, child) => {
      const record: VmRecord = { ...vm, diskImageId: child.id };
      tx.objectStore(VMS).put(record);
      return record;
    });
  }

  /**
   * A new empty differencing child over `parent`, written as 'importing' under its lock;
   * `land` puts what must appear with it into the transaction that marks it ready (a VM
   * record, a snapshot): a tab closed at any point leaves all of it or none (the next start
   * removes an unfinished child).
   */
  private newChild<T>(parent: ImageRecord, stores: string[], land: (tx: IDBTransaction, child: ImageRecord) => T | Promise<T>): Promise<T> {
    return this.newChildren([parent], stores, (tx, [child]) => land(tx, child!));
  }

  /**
   * `newChild` for several parents at once (a VM's system disk and its data disk, frozen
   * together by a snapshot): every child is written first, then all are marked ready in the
   * one transaction `land` adds to.
   */
  private async newChildren<T>(parents: readonly ImageRecord[], stores: string[], land: (tx: IDBTransaction, children: ImageRecord[]) => T | Promise<T>): Promise<T> {
    const made = parents.map((parent) => {
      const uniqueId = newVhdUniqueId();
      const name = parent.origin === 'vm' || parent.origin === 'snapshot' ? parent.name : `${parent.name} (VM disk)`;
      const child: ImageRecord = {
        id: newId('disk'),
        kind: 'child',
        origin: 'vm',
        name,
        size: 0,
        chunkSize: DEFAULT_CHUNK_SIZE,
        virtualSize: parent.virtualSize,
        vhdUuid: formatUniqueId(uniqueId),
        parentId: parent.id,
        state: 'importing',
        createdAt: Date.now(),
      };
      return { child, uniqueId };
    });
    // Each child's lock is held from before its record exists until the commit.
    const holdAll = (k: number, body: () => Promise<T>): Promise<T> => (k === made.length ? body() : (navigator.locks.request(lockName(made[k]!.child.id), () => holdAll(k + 1, body)) as Promise<T>));
    return holdAll(0, async () => {
      try {
        for (const { child, uniqueId } of made) {
          await this.putRecord(child);
          await this.writeEmptyChild(child, uniqueId);
        }
        const tx = this.db.transaction([IMAGES, ...stores], 'readwrite', { durability: 'strict' });
        const done = transactionDone(tx);
        // writeEmptyChild's commits updated each record's size: keep it, mark it ready.
        const images = tx.objectStore(IMAGES);
        const ready: ImageRecord[] = [];
        for (const { child } of made) {
          const r: ImageRecord = { ...((await requestResult(images.get(child.id))) as ImageRecord), state: 'ready' };
          images.put(r);
          ready.push(r);
        }
        const out = await land(tx, ready);
        await done;
        return out;
      } catch (e) {
        for (const { child } of made) await this.deleteImageData(child.id).catch(() => {});
        throw e;
      }
    });
  }

  /**
   * A blank dynamic VHD of `bytes` (a VM's data disk): no parent, written here, 'ready' once
   * complete (a tab closed half way leaves an 'importing' record the next start removes).
   */
  async addBlankDisk(name: string, bytes: number): Promise<ImageRecord> {
    const id = newId('data');
    const uniqueId = newVhdUniqueId();
    const record: ImageRecord = { id, kind: 'base', origin: 'vm', name, size: 0, chunkSize: DEFAULT_CHUNK_SIZE, virtualSize: bytes, vhdUuid: formatUniqueId(uniqueId), state: 'importing', createdAt: Date.now() };
    return navigator.locks.request(lockName(id), async () => {
      await this.putRecord(record);
      try {
        const disk = await VhdDisk.createDynamic(await IdbChunkBackend.open(this.db, id), bytes, { uniqueId });
        await disk.flush();
        await disk.dispose();
        // The backend's commits updated the record's size: keep it, mark it ready.
        const ready: ImageRecord = { ...(await this.image(id))!, state: 'ready' };
        await this.putRecord(ready);
        return ready;
      } catch (e) {
        await this.deleteImageData(id).catch(() => {});
        throw e;
      }
    });
  }

  /**
   * Moves a VM's child onto another base (an update or roll back): its changes are thrown
   * away and it is an empty child of `parentId`, the same size. A suspended state of it can
   * no longer resume (its disk identity changed).
   */
  async rebaseChild(childId: string, parentId: string): Promise<void> {
    const record = await this.requireImage(childId);
    const parent = await this.requireImage(parentId);
    if (record.kind !== 'child' || !record.parentId) throw new StoreError('unsupported', `image ${childId} is not a VM disk over a base image`);
    if (parent.virtualSize !== record.virtualSize) throw new StoreError('unsupported', `image ${parentId} is a ${parent.virtualSize}-byte disk; the VM's is ${record.virtualSize} bytes`);
    const uniqueId = newVhdUniqueId();
    const fresh: ImageRecord = { ...record, size: 0, vhdUuid: formatUniqueId(uniqueId), parentId };
    const tx = this.db.transaction([CHUNKS, IMAGES], 'readwrite', { durability: 'strict' });
    tx.objectStore(CHUNKS).delete(imageChunkRange(childId));
    tx.objectStore(IMAGES).put(fresh);
    await transactionDone(tx);
    await this.writeEmptyChild(fresh, uniqueId);
  }

  /** Throws away every change in a VM's child: it is empty over its base again. */
  async resetChild(childId: string): Promise<void> {
    const record = await this.requireImage(childId);
    if (record.kind !== 'child' || !record.parentId) throw new StoreError('unsupported', `image ${childId} is not a VM disk over a base image`);
    // Later disks stand on a snapshot's: emptying it would change what they read.
    if (record.origin === 'snapshot') throw new StoreError('in-use', `image ${childId} is a snapshot's disk, which is never changed (another tab took the snapshot? reload the page)`);
    const uniqueId = newVhdUniqueId();
    const fresh: ImageRecord = { ...record, size: 0, vhdUuid: formatUniqueId(uniqueId) };
    const tx = this.db.transaction([CHUNKS, IMAGES], 'readwrite', { durability: 'strict' });
    tx.objectStore(CHUNKS).delete(imageChunkRange(childId));
    tx.objectStore(IMAGES).put(fresh);
    await transactionDone(tx);
    await this.writeEmptyChild(fresh, uniqueId);
  }

  private async writeEmptyChild(record: ImageRecord, uniqueId: Uint8Array): Promise<void> {
    const parent = await this.openDisk(record.parentId!, { readOnly: true });
    const backend = await IdbChunkBackend.open(this.db, record.id);
    const child = await VhdDisk.createDifferencing(backend, parent, { uniqueId, parentName: parent.uuid });
    await child.flush();
    await child.dispose();
  }

  async diskState(childId: string): Promise<DiskState> {
    const disk = await this.openDisk(childId, { readOnly: true });
    try {
      const changedBytes = await disk.changedBytes();
      return { changedBytes, modified: changedBytes > 0 };
    } finally {
      await disk.dispose();
    }
  }

  /** Bytes an image occupies in the store (its non-zero chunks). */
  async storedBytes(imageId: string): Promise<number> {
    const record = await this.requireImage(imageId);
    const tx = this.db.transaction(CHUNKS, 'readonly');
    const n = await requestResult(tx.objectStore(CHUNKS).count(imageChunkRange(imageId)));
    return n * record.chunkSize;
  }

  /** The whole chain of `imageId` as one standalone dynamic VHD. */
  async exportVhd(imageId: string): Promise<Blob> {
    const disk = await this.openDisk(imageId, { readOnly: true });
    try {
      const target = new MemoryBackend(undefined, { maxSize: 2 ** 31 });
      await disk.exportTo(target, 'dynamic');
      return new Blob([target.bytes() as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    } finally {
      await disk.dispose();
    }
  }

  /** Removes an image; refused while a VM or another image depends on it. */
  async deleteImage(id: string): Promise<void> {
    const users = (await this.images()).filter((r) => r.parentId === id);
    if (users.length) throw new StoreError('in-use', `image ${id} is the base of ${users.length} disk(s); delete those VMs first`);
    await this.deleteImageData(id);
  }

  private async deleteImageData(id: string): Promise<void> {
    const tx = this.db.transaction([CHUNKS, IMAGES], 'readwrite');
    tx.objectStore(CHUNKS).delete(imageChunkRange(id));
    tx.objectStore(IMAGES).delete(id);
    await transactionDone(tx);
  }

  private async requireImage(id: string): Promise<ImageRecord> {
    const r = await this.image(id);
    if (!r || r.state !== 'ready') throw new StoreError('not-found', `image store: no image with id "${id}"`);
    return r;
  }

  private async putRecord(record: ImageRecord): Promise<void> {
    const tx = this.db.transaction(IMAGES, 'readwrite');
    tx.objectStore(IMAGES).put(record);
    await transactionDone(tx);
  }

  /**
   * What a closed or killed tab left half made: records still 'importing' (imports, new
   * VM disks) whose lock nobody holds, and VM disks no VM record names (left by versions
   * that stored a VM in two steps).
   */
  private async removeAbandoned(): Promise<void> {
    const tx = this.db.transaction([IMAGES, VMS], 'readonly');
    const all = (await requestResult(tx.objectStore(IMAGES).getAll())) as ImageRecord[];
    const vms = (await requestResult(tx.objectStore(VMS).getAll())) as VmRecord[];
    // A data disk is a chain too once a snapshot froze it: its current child is no orphan.
    const used = new Set(vms.flatMap((v) => [v.diskImageId, v.dataImageId]));
    for (const r of all.filter((r) => r.state === 'importing')) {
      await navigator.locks.request(lockName(r.id), { ifAvailable: true }, async (lock) => {
        if (lock) await this.deleteImageData(r.id);
      });
    }
    for (const r of all.filter((r) => r.state === 'ready' && r.kind === 'child' && r.origin === 'vm' && !used.has(r.id))) {
      await this.deleteImageData(r.id);
    }
  }

  // ------------------------------------------------------------------ VMs

  async vms(): Promise<VmRecord[]> {
    const tx = this.db.transaction(VMS, 'readonly');
    const all = (await requestResult(tx.objectStore(VMS).getAll())) as VmRecord[];
    return all.sort((a, b) => a.createdAt - b.createdAt);
  }

  async putVm(vm: VmRecord): Promise<void> {
    const tx = this.db.transaction(VMS, 'readwrite');
    tx.objectStore(VMS).put(vm);
    await transactionDone(tx);
  }

  /** Removes a VM record and its disks (current and snapshots, with their states, and a suspended state), in one transaction: never one without the other. */
  async deleteVm(id: string): Promise<void> {
    const tx = this.db.transaction([VMS, IMAGES, CHUNKS, SUSPENDED, SNAPSHOTS, SNAPSHOT_STATES], 'readwrite', { durability: 'strict' });
    const done = transactionDone(tx);
    tx.objectStore(SUSPENDED).delete(id);
    const vms = tx.objectStore(VMS);
    const vm = (await requestResult(vms.get(id))) as VmRecord | undefined;
    const snaps = (await requestResult(tx.objectStore(SNAPSHOTS).index(SNAPSHOTS_BY_VM).getAll(id))) as SnapshotRecord[];
    const byId = new Map(((await requestResult(tx.objectStore(IMAGES).getAll())) as ImageRecord[]).map((r) => [r.id, r]));
    const doomed = new Set<string>();
    // Each disk of the VM and the VM's own disks below it (a data chain's root no snapshot names any more).
    for (const top of [vm?.diskImageId, vm?.dataImageId, ...snaps.flatMap((x) => [x.imageId, x.dataImageId])]) {
      for (let r = byId.get(top ?? ''); r && ownedByVm(r) && !doomed.has(r.id); r = byId.get(r.parentId ?? '')) doomed.add(r.id);
    }
    for (const imageId of doomed) {
      tx.objectStore(CHUNKS).delete(imageChunkRange(imageId));
      tx.objectStore(IMAGES).delete(imageId);
    }
    for (const x of snaps) {
      tx.objectStore(SNAPSHOTS).delete(x.id);
      tx.objectStore(SNAPSHOT_STATES).delete(x.id);
    }
    vms.delete(id);
    await done;
  }

  // ------------------------------------------------------------------ suspended VMs

  /** The identity of a VM's disk now (see DiskIdentity); undefined when the image is gone. */
  async diskIdentity(imageId: string): Promise<DiskIdentity | undefined> {
    const r = await this.image(imageId);
    return r && identityOf(r);
  }

  /**
   * The identities of a VM's disks now, as a state taken now would keep them: its system
   * disk, and its data disk if it has one (an image gone reads as undefined, which no
   * state matches).
   */
  async vmDiskIdentities(vm: Pick<VmRecord, 'diskImageId' | 'dataImageId'>): Promise<Disks> {
    const disk = vm.diskImageId === undefined ? undefined : await this.diskIdentity(vm.diskImageId);
    const dataDisk = vm.dataImageId === undefined ? undefined : await this.diskIdentity(vm.dataImageId);
    return { ...(disk ? { disk } : {}), ...(dataDisk ? { dataDisk } : {}) };
  }

  async suspended(vmId: string): Promise<SuspendedRecord | undefined> {
    const tx = this.db.transaction(SUSPENDED, 'readonly');
    return (await requestResult(tx.objectStore(SUSPENDED).get(vmId))) as SuspendedRecord | undefined;
  }

  /** The VMs that have a suspended state, by id. */
  async suspendedIds(): Promise<Set<string>> {
    const tx = this.db.transaction(SUSPENDED, 'readonly');
    return new Set(((await requestResult(tx.objectStore(SUSPENDED).getAllKeys())) as string[]));
  }

  /**
   * Stores a suspended state. `relaxed`: durable against a closed tab or a killed browser,
   * not a power cut (what a page going away can afford: it has half a second).
   */
  async putSuspended(record: SuspendedRecord, durability: 'strict' | 'relaxed' = 'strict'): Promise<void> {
    const tx = this.db.transaction(SUSPENDED, 'readwrite', { durability });
    tx.objectStore(SUSPENDED).put(record);
    tx.commit();
    await transactionDone(tx);
  }

  async deleteSuspended(vmId: string): Promise<void> {
    const tx = this.db.transaction(SUSPENDED, 'readwrite');
    tx.objectStore(SUSPENDED).delete(vmId);
    await transactionDone(tx);
  }

  // ------------------------------------------------------------------ snapshots

  /** A VM's snapshots as a tree (see SnapshotRecord: the tree is the image chain). */
  async snapshotTree(vmId: string): Promise<SnapshotTree> {
    const tx = this.db.transaction([SNAPSHOTS, IMAGES, VMS], 'readonly');
    const records = (await requestResult(tx.objectStore(SNAPSHOTS).index(SNAPSHOTS_BY_VM).getAll(vmId))) as SnapshotRecord[];
    const vm = (await requestResult(tx.objectStore(VMS).get(vmId))) as VmRecord | undefined;
    const images = new Map(((await requestResult(tx.objectStore(IMAGES).getAll())) as ImageRecord[]).map((r) => [r.id, r]));
    const byImage = new Map(records.map((r) => [r.imageId, r.id]));
    const grewFrom = (imageId: string | undefined) => {
      const parentId = imageId === undefined ? undefined : images.get(imageId)?.parentId;
      return parentId === undefined ? undefined : byImage.get(parentId);
    };
    const nodes = records.map((r) => ({ ...r, parentSnapshotId: grewFrom(r.imageId) })).sort((a, b) => a.takenAt - b.takenAt);
    return { nodes, current: grewFrom(vm?.diskImageId) };
  }

  async snapshot(id: string): Promise<SnapshotRecord | undefined> {
    const tx = this.db.transaction(SNAPSHOTS, 'readonly');
    return (await requestResult(tx.objectStore(SNAPSHOTS).get(id))) as SnapshotRecord | undefined;
  }

  /**
   * Freezes the VM's current disk as snapshot `name` and gives the VM a new empty child
   * over it, in one transaction with the snapshot's record; its data disk (if it has one)
   * is frozen the same way in the same transaction, so a revert never pairs a system disk
   * with a /data of another moment. The disks must be at rest (the VM off, or its worker
   * paused and flushed: see WorkerVm.takeSnapshot). `taken` is the machine state of a
   * running VM; a suspended VM's state goes with the snapshot by itself (it stands on
   * these disks) and stays resumable on the new children, which read the same. Returns the
   * VM's record with its new disks.
   */
  async takeSnapshot(vmId: string, name: string, taken?: { state: Uint8Array; console: Uint8Array }): Promise<{ vm: VmRecord; snapshot: SnapshotRecord }> {
    const vm = await this.requireVm(vmId);
    if (!vm.diskImageId) throw new StoreError('unsupported', `VM ${vm.name} has no disk to take a snapshot of (it runs from RAM)`);
    const frozen = await this.requireImage(vm.diskImageId);
    const frozenData = vm.dataImageId === undefined ? undefined : await this.requireImage(vm.dataImageId);
    const snapshot: SnapshotRecord = { id: newId('snap'), vmId, name, takenAt: Date.now(), imageId: frozen.id, ...(frozenData ? { dataImageId: frozenData.id } : {}), withState: false };
    return this.newChildren(frozenData ? [frozen, frozenData] : [frozen], [VMS, SNAPSHOTS, SNAPSHOT_STATES, SUSPENDED], async (tx, [child, dataChild]) => {
      const images = tx.objectStore(IMAGES);
      // Read again inside the transaction: the write counters as the state's check will see them.
      const now = (await requestResult(images.get(frozen.id))) as ImageRecord;
      images.put({ ...now, origin: 'snapshot' });
      const frozenDisks: Disks = { disk: identityOf(now) };
      if (frozenData) {
        const data = (await requestResult(images.get(frozenData.id))) as ImageRecord;
        images.put({ ...data, origin: 'snapshot' });
        frozenDisks.dataDisk = identityOf(data);
      }
      let state = taken;
      const suspended = (await requestResult(tx.objectStore(SUSPENDED).get(vmId))) as SuspendedRecord | undefined;
      if (!state && suspended && sameDisks(suspended, frozenDisks)) {
        state = { state: suspended.state, console: suspended.console };
        tx.objectStore(SUSPENDED).put({ ...suspended, ...identitiesOf(child!, dataChild) });
      }
      snapshot.withState = state !== undefined;
      tx.objectStore(SNAPSHOTS).put(snapshot);
      if (state) tx.objectStore(SNAPSHOT_STATES).put({ snapshotId: snapshot.id, state: state.state, console: state.console, ...frozenDisks } as SnapshotStateRecord);
      const next: VmRecord = { ...vm, diskImageId: child!.id, ...(dataChild ? { dataImageId: dataChild.id } : {}) };
      tx.objectStore(VMS).put(next);
      return { vm: next, snapshot };
    });
  }

  /**
   * Puts the VM back at a snapshot: its current disks (and any suspended state) are thrown
   * away and new empty children over the snapshot's disks take their place: the system
   * disk's, and the data disk's the snapshot froze. A snapshot with a machine state leaves
   * it as the VM's suspended state (Start resumes it), provided the snapshot's disks are
   * still the ones it was taken on. A snapshot that froze no data disk (taken before data
   * disks were frozen) of a VM that has one leaves /data as it is now and its machine state
   * dropped ('state-stale'): that machine's page cache would not fit today's /data. The VM
   * must be off.
   */
  async revertToSnapshot(vmId: string, snapshotId: string): Promise<{ vm: VmRecord; outcome: RevertOutcome }> {
    const vm = await this.requireVm(vmId);
    const snap = await this.snapshot(snapshotId);
    if (!snap || snap.vmId !== vmId) throw new StoreError('not-found', `VM ${vm.name} has no snapshot with id "${snapshotId}"`);
    const at = await this.requireImage(snap.imageId);
    const atData = snap.dataImageId === undefined ? undefined : await this.requireImage(snap.dataImageId);
    return this.newChildren(atData ? [at, atData] : [at], [VMS, CHUNKS, SUSPENDED, SNAPSHOT_STATES], async (tx, [child, dataChild]) => {
      const suspended = tx.objectStore(SUSPENDED);
      suspended.delete(vmId);
      const images = tx.objectStore(IMAGES);
      let outcome: RevertOutcome = 'no-state';
      if (snap.withState) {
        const st = (await requestResult(tx.objectStore(SNAPSHOT_STATES).get(snap.id))) as SnapshotStateRecord | undefined;
        const disks: Disks = { disk: identityOf((await requestResult(images.get(snap.imageId))) as ImageRecord) };
        if (atData) disks.dataDisk = identityOf((await requestResult(images.get(atData.id))) as ImageRecord);
        // A data disk VM's state needs its frozen data disk too (`disks` has none without one).
        const fits = st && sameDisks(st, disks) && (vm.dataImageId === undefined || atData !== undefined);
        outcome = 'state-stale';
        if (fits) {
          suspended.put({ vmId, state: st.state, ...identitiesOf(child!, dataChild), console: st.console, takenAt: Date.now() } satisfies SuspendedRecord);
          outcome = 'state';
        }
      }
      // The current disks are leaves (snapshots only ever freeze them and grow past them): nothing stands on them.
      const leaves = [vm.diskImageId, ...(atData ? [vm.dataImageId] : [])];
      for (const id of leaves) {
        const old = id && ((await requestResult(images.get(id))) as ImageRecord | undefined);
        if (old && old.origin === 'vm' && old.kind === 'child') {
          tx.objectStore(CHUNKS).delete(imageChunkRange(old.id));
          images.delete(old.id);
        }
      }
      const next: VmRecord = { ...vm, diskImageId: child!.id, ...(dataChild ? { dataImageId: dataChild.id } : {}) };
      tx.objectStore(VMS).put(next);
      return { vm: next, outcome };
    });
  }

  /**
   * The disks a snapshot's deletion rewrites: those grown from its disks (later snapshots',
   * the VM's current ones; system and data). The current disks must not be in use while they are.
   */
  async snapshotChildren(snapshotId: string): Promise<ImageRecord[]> {
    const snap = await this.snapshot(snapshotId);
    if (!snap) return [];
    const frozen = [snap.imageId, snap.dataImageId].filter((id) => id !== undefined);
    return (await this.images()).filter((r) => r.parentId !== undefined && frozen.includes(r.parentId));
  }

  /**
   * Deletes a snapshot. Every disk grown from one of its disks takes in the sectors that
   * disk holds and the rest do not (VhdDisk.mergeParent) and then stands on that disk's
   * parent, each commit carrying the new header with the record's new parent; then the
   * snapshot's disks, record and state go in one transaction. A machine state standing on
   * a rewritten disk (a later snapshot's, a suspended VM's) stays resumable: the disk reads
   * the same. A frozen data disk with no parent (the blank disk the VM was made with, frozen
   * by its first snapshot) cannot be merged away, a VHD chain needing a root: it stays as
   * the data chain's root, no snapshot's any more, and goes with the VM.
   * Cut short, what is done stays consistent and deleting again finishes it.
   */
  async deleteSnapshot(snapshotId: string): Promise<void> {
    const snap = await this.snapshot(snapshotId);
    if (!snap) throw new StoreError('not-found', `image store: no snapshot with id "${snapshotId}"`);
    const image = await this.requireImage(snap.imageId);
    const data = snap.dataImageId === undefined ? undefined : await this.image(snap.dataImageId);
    const merged = [image, ...(data?.parentId !== undefined ? [data] : [])];
    const all = await this.images();
    const children = all.filter((r) => merged.some((m) => r.parentId === m.id));
    const before = new Map(children.map((c) => [c.id, identityOf(c)]));
    for (const c of children) {
      const parentId = merged.find((m) => m.id === c.parentId)!.parentId;
      const disk = await this.openDisk(c.id);
      try {
        const backend = disk.backend as IdbChunkBackend;
        await disk.mergeParent({ relinked: () => backend.amendRecord({ parentId }) });
      } finally {
        await disk.dispose();
      }
    }
    const stores = [IMAGES, CHUNKS, SNAPSHOTS, SNAPSHOT_STATES, SUSPENDED];
    const tx = this.db.transaction(stores, 'readwrite', { durability: 'strict' });
    const done = transactionDone(tx);
    const images = tx.objectStore(IMAGES);
    const after = new Map<string, DiskIdentity>();
    for (const c of children) after.set(c.id, identityOf((await requestResult(images.get(c.id))) as ImageRecord));
    // States on a merged disk follow it, if they stood on it as it was before the merge.
    const followOne = (d: DiskIdentity | undefined): DiskIdentity | undefined => {
      const id = d?.imageId;
      return id && after.has(id) && sameDisk(d, before.get(id)) ? after.get(id) : d;
    };
    const follow = <T extends { disk?: DiskIdentity; dataDisk?: DiskIdentity }>(rec: T | undefined, put: (r: T) => void) => {
      if (!rec) return;
      const disk = followOne(rec.disk);
      const dataDisk = followOne(rec.dataDisk);
      if (disk !== rec.disk || dataDisk !== rec.dataDisk) put({ ...rec, ...(disk ? { disk } : {}), ...(dataDisk ? { dataDisk } : {}) });
    };
    const snaps = (await requestResult(tx.objectStore(SNAPSHOTS).index(SNAPSHOTS_BY_VM).getAll(snap.vmId))) as SnapshotRecord[];
    for (const other of snaps) {
      if (other.id === snap.id || !other.withState) continue;
      const st = (await requestResult(tx.objectStore(SNAPSHOT_STATES).get(other.id))) as SnapshotStateRecord | undefined;
      follow(st, (r) => tx.objectStore(SNAPSHOT_STATES).put(r));
    }
    follow((await requestResult(tx.objectStore(SUSPENDED).get(snap.vmId))) as SuspendedRecord | undefined, (r) => tx.objectStore(SUSPENDED).put(r));
    for (const m of merged) {
      tx.objectStore(CHUNKS).delete(imageChunkRange(m.id));
      images.delete(m.id);
    }
    tx.objectStore(SNAPSHOTS).delete(snap.id);
    tx.objectStore(SNAPSHOT_STATES).delete(snap.id);
    await done;
  }

  async vm(id: string): Promise<VmRecord | undefined> {
    const tx = this.db.transaction(VMS, 'readonly');
    return (await requestResult(tx.objectStore(VMS).get(id))) as VmRecord | undefined;
  }

  private async requireVm(id: string): Promise<VmRecord> {
    const vm = await this.vm(id);
    if (!vm) throw new StoreError('not-found', `image store: no VM with id "${id}"`);
    return vm;
  }

  // ------------------------------------------------------------------ quota

  async storageUse(): Promise<StorageUse> {
    const est = await navigator.storage.estimate();
    const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
  }

  /** Asks the browser not to evict the store under storage pressure. */
  async requestPersistence(): Promise<boolean> {
    return navigator.storage.persist ? navigator.storage.persist() : false;
  }
}

/** The disks a machine state stands on: the system disk, and the data disk of a VM with one. */
export interface Disks {
  disk?: DiskIdentity;
  dataDisk?: DiskIdentity;
}

function identitiesOf(disk: ImageRecord, data: ImageRecord | undefined): Disks {
  return { disk: identityOf(disk), ...(data ? { dataDisk: identityOf(data) } : {}) };
}

/** Both disks as they were: a state resumes only if neither was written (or replaced) since. */
export function sameDisks(a: Disks, b: Disks): boolean {
  return sameDisk(a.disk, b.disk) && sameDisk(a.dataDisk, b.dataDisk);
}

/**
 * A disk that is a VM's own (its current disks, and those its snapshots froze), as against
 * a base of the catalog (built in, imported, a repository's): the blank data disk a VM is
 * made with is a VM's own too, though it stands on nothing.
 */
export function ownedByVm(r: Pick<ImageRecord, 'origin'>): boolean {
  return r.origin === 'vm' || r.origin === 'snapshot';
}

/** The identity a machine state checks its disk by (key order fixed: records are compared as JSON). */
function identityOf(r: ImageRecord): DiskIdentity {
  return { imageId: r.id, vhdUuid: r.vhdUuid, writes: r.writes ?? 0, size: r.size, ...(r.parentId ? { parentId: r.parentId } : {}) };
}

export function sameDisk(a: DiskIdentity | undefined, b: DiskIdentity | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A random (version 4) VHD unique id. */
function newVhdUniqueId(): Uint8Array {
  const id = crypto.getRandomValues(new Uint8Array(16));
  id[6] = (id[6]! & 0x0f) | 0x40;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** One record a restore puts: into `store`, with `key` when the store keeps keys apart from values. */
export interface RestoredRecord {
  store: string;
  key?: IDBValidKey;
  value: unknown;
}

/**
 * Which of `records` belong to the VMs `vmIds`: those that name one of them anywhere, and
 * those that name the key of a record that belongs (a snapshot's machine state names its
 * snapshot, which names the VM), to a fixed point. Schema-blind on purpose: a store added
 * later is handled as long as its records name what they belong to.
 */
export function recordsOwnedBy(vmIds: readonly string[], records: readonly { key?: unknown; value: unknown }[]): boolean[] {
  const owned = new Set(vmIds);
  const out = records.map(() => false);
  const strings = records.map((r) => new Set([...stringsIn(r.value), ...stringsIn(r.key)]));
  for (let grew = true; grew; ) {
    grew = false;
    records.forEach((r, i) => {
      if (out[i] || ![...strings[i]!].some((s) => owned.has(s))) return;
      out[i] = true;
      grew = true;
      for (const k of stringsIn(r.key)) owned.add(k);
    });
  }
  return out;
}

/** Every string inside a record (its ids, wherever a schema put them), bytes skipped. */
export function stringsIn(v: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof v === 'string') out.push(v);
  else if (depth < 16 && Array.isArray(v)) for (const x of v) stringsIn(x, out, depth + 1);
  else if (depth < 16 && v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) for (const x of Object.values(v)) stringsIn(x, out, depth + 1);
  return out;
}

function isZero(b: Uint8Array): boolean {
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  for (let i = w.length << 2; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

