/**
 * The image store: VHD images and VM records in IndexedDB. Base images (built-in
 * appliances, imports) are stored once and only read; every disk-backed VM writes to its
 * own differencing child over one of them.
 */
import { ApplianceError } from '../boot/ApplianceError.ts';
import type { ApplianceManifest } from '../boot/ApplianceManifest.ts';
import { readApplianceManifest } from '../boot/applianceBoot.ts';
import { MemoryBackend, VhdDisk, formatUniqueId, type BlockBackend, type ParentResolver } from '../disk/index.ts';
import { RemoteChunkBackend, type RepositoryVersion } from '../repo/index.ts';
import { BlobBackend } from './BlobBackend.ts';
import { IdbRepoChunkStore } from './IdbRepoChunkStore.ts';
import { DEFAULT_CHUNK_SIZE, IdbChunkBackend } from './IdbChunkBackend.ts';
import { CHUNKS, IMAGES, SUSPENDED, VMS, chunkKey, imageChunkRange, openImageDb, type DiskIdentity, type ImageOrigin, type ImageRecord, type SuspendedRecord, type VmRecord } from './imageDb.ts';
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
    return new RemoteChunkBackend({ url: new URL(url), version, store: new IdbRepoChunkStore(this.db, record.id, version) });
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
        const reader = stream.getReader();
        let chunk = new Uint8Array(cs);
        let fill = 0;
        let index = 0;
        let bytes = 0;
        let batch: [number, Uint8Array][] = [];
        const commit = async () => {
          const tx = this.db.transaction([CHUNKS], 'readwrite');
          const store = tx.objectStore(CHUNKS);
          for (const [i, c] of batch) store.put(c, chunkKey(record.id, i));
          batch = [];
          await transactionDone(tx);
          onProgress?.({ bytes, total });
        };
        const finishChunk = async () => {
          if (!isZero(chunk)) batch.push([index, chunk]);
          index++;
          chunk = new Uint8Array(cs);
          fill = 0;
          if (batch.length >= IMPORT_BATCH_CHUNKS) await commit();
        };
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
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
        if (fill > 0) {
          if (!isZero(chunk)) batch.push([index, chunk]);
        }
        await commit();
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
    const id = newId('disk');
    const uniqueId = newVhdUniqueId();
    const child: ImageRecord = {
      id,
      kind: 'child',
      origin: 'vm',
      name: `${base.name} (VM disk)`,
      size: 0,
      chunkSize: DEFAULT_CHUNK_SIZE,
      virtualSize: base.virtualSize,
      vhdUuid: formatUniqueId(uniqueId),
      parentId: base.id,
      state: 'importing',
      createdAt: Date.now(),
    };
    const record: VmRecord = { ...vm, diskImageId: id };
    return navigator.locks.request(lockName(id), async () => {
      await this.putRecord(child);
      try {
        await this.writeEmptyChild(child, uniqueId);
        const tx = this.db.transaction([IMAGES, VMS], 'readwrite', { durability: 'strict' });
        // writeEmptyChild's commits updated the record's size: keep it, mark it ready.
        const images = tx.objectStore(IMAGES);
        const written = (await requestResult(images.get(id))) as ImageRecord;
        images.put({ ...written, state: 'ready' });
        tx.objectStore(VMS).put(record);
        await transactionDone(tx);
      } catch (e) {
        await this.deleteImageData(id).catch(() => {});
        throw e;
      }
      return record;
    });
  }

  /** Throws away every change in a VM's child: it is empty over its base again. */
  async resetChild(childId: string): Promise<void> {
    const record = await this.requireImage(childId);
    if (record.kind !== 'child' || !record.parentId) throw new StoreError('unsupported', `image ${childId} is not a VM disk over a base image`);
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
    const used = new Set(vms.map((v) => v.diskImageId));
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

  /** Removes a VM record and its disk (and a suspended state), in one transaction: never one without the other. */
  async deleteVm(id: string): Promise<void> {
    const tx = this.db.transaction([VMS, IMAGES, CHUNKS, SUSPENDED], 'readwrite', { durability: 'strict' });
    tx.objectStore(SUSPENDED).delete(id);
    const vms = tx.objectStore(VMS);
    const vm = (await requestResult(vms.get(id))) as VmRecord | undefined;
    if (vm?.diskImageId) {
      tx.objectStore(CHUNKS).delete(imageChunkRange(vm.diskImageId));
      tx.objectStore(IMAGES).delete(vm.diskImageId);
    }
    vms.delete(id);
    await transactionDone(tx);
  }

  // ------------------------------------------------------------------ suspended VMs

  /** The identity of a VM's disk now (see DiskIdentity); undefined when the image is gone. */
  async diskIdentity(imageId: string): Promise<DiskIdentity | undefined> {
    const r = await this.image(imageId);
    if (!r) return undefined;
    return { imageId, vhdUuid: r.vhdUuid, writes: r.writes ?? 0, size: r.size, ...(r.parentId ? { parentId: r.parentId } : {}) };
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

  async putSuspended(record: SuspendedRecord): Promise<void> {
    const tx = this.db.transaction(SUSPENDED, 'readwrite', { durability: 'strict' });
    tx.objectStore(SUSPENDED).put(record);
    await transactionDone(tx);
  }

  async deleteSuspended(vmId: string): Promise<void> {
    const tx = this.db.transaction(SUSPENDED, 'readwrite');
    tx.objectStore(SUSPENDED).delete(vmId);
    await transactionDone(tx);
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

/** A random (version 4) VHD unique id. */
function newVhdUniqueId(): Uint8Array {
  const id = crypto.getRandomValues(new Uint8Array(16));
  id[6] = (id[6]! & 0x0f) | 0x40;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

function isZero(b: Uint8Array): boolean {
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  for (let i = w.length << 2; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

