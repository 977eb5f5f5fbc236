/**
 * The IndexedDB database behind the image store, one per origin:
 *   images  image records (keyPath id): base appliances, imports, per-VM children
 *   chunks  image bytes, key [imageId, chunkIndex]; a missing chunk reads as zeros
 *   vms     VM records (keyPath id)
 *   suspended  a suspended VM's machine state (keyPath vmId), at most one per VM
 *   snapshots  named snapshots of VM disks (keyPath id, index vmId); version 3
 *   snapshotStates  the machine state taken with a snapshot (keyPath snapshotId); version 3
 * The page and every VM worker open their own connection to it.
 *
 * Version 4 changes no store: it is the version from which a VM's data disk (`dataImageId`)
 * is a chain like its system disk (a snapshot freezes both; `SnapshotRecord.dataImageId`,
 * `dataDisk` beside `disk` in states). Code of version 3 still open in another tab would
 * take a data disk's differencing child for an abandoned VM disk and delete it, and take
 * snapshots that leave /data out: the higher version closes its connection (onversionchange)
 * and keeps it from opening the database again, so only code that knows data disks runs.
 */
import type { RepositoryVersion } from '../repo/index.ts';
import type { ApplianceManifest } from '../boot/index.ts';
import { requestResult } from './idbRequests.ts';
import type { JitMode } from '../jit/Jit.ts';

const DB_NAME = 'romvisor';
const DB_VERSION = 4;
export const IMAGES = 'images';
export const CHUNKS = 'chunks';
export const VMS = 'vms';
export const SUSPENDED = 'suspended';
export const SNAPSHOTS = 'snapshots';
export const SNAPSHOT_STATES = 'snapshotStates';
/** The index of `snapshots` by the VM they belong to. */
export const SNAPSHOTS_BY_VM = 'vmId';

export type ImageKind = 'base' | 'child';
/** 'snapshot': a VM disk frozen by a snapshot (a `SnapshotRecord` names it); 'vm': a VM's current disk. */
export type ImageOrigin = 'builtin' | 'imported' | 'repository' | 'vm' | 'snapshot';

export interface ImageRecord {
  id: string;
  kind: ImageKind;
  origin: ImageOrigin;
  /** File name for imports, appliance name for built-ins. */
  name: string;
  /** Bytes of the VHD file (what the backend's `size` is). */
  size: number;
  chunkSize: number;
  /** Size of the disk the guest sees. */
  virtualSize: number;
  /** The VHD's unique id, which children name their parent by. */
  vhdUuid: string;
  parentId?: string;
  /** 'importing' until every chunk is in; such records are removed at the next start. */
  state: 'importing' | 'ready';
  createdAt: number;
  /** For built-ins: the manifest's sha256 of the compressed download, to notice updates. */
  sourceSha256?: string;
  /** For imports: the disk's appliance.json, when its boot partition has one (what the catalog shows). */
  appliance?: ApplianceManifest;
  /**
   * A repository's base image read lazily: its bytes stay on the server, each chunk fetched
   * when first read, verified against `version.chunks` and kept under this record's id.
   */
  remote?: { url: string; version: RepositoryVersion };
  /** Commits that changed the image's bytes (absent: none counted yet). */
  writes?: number;
}

export interface VmRecord {
  id: string;
  name: string;
  applianceId: string;
  memoryMiB: number;
  /** Harts of its machine (QEMU's -smp); absent in records made before the setting: 1. */
  harts?: number;
  /**
   * The JIT tier its worker runs the guest with; absent: the page's (`?jit=`, else the
   * default). A host setting, not the guest's: the guest runs the same either way.
   */
  jit?: JitMode;
  /** The VM's differencing child (disk-backed appliances only). */
  diskImageId?: string;
  /**
   * Its data disk (appliance.json's dataDiskMiB): a dynamic VHD made blank with the VM,
   * /dev/vdb in the guest (mounted on /data by the appliance's init). An update replaces
   * the system disk's chain and keeps this one.
   */
  dataImageId?: string;
  /** A repository appliance's VM: the version its system disk stands on. */
  repoVersion?: string;
  /** The version it stood on before its last update: what Roll back returns to. */
  updatedFrom?: string;
  /** Kernel arguments appended to the appliance's command line. */
  extraArgs?: string;
  createdAt: number;
}

/**
 * The disk a machine state stands on: the VM's child image as it was when the state was
 * taken. Any later commit to the child changes `writes`; a reset changes `vhdUuid`.
 */
export interface DiskIdentity {
  imageId: string;
  vhdUuid: string;
  writes: number;
  size: number;
  parentId?: string;
}

/** A suspended VM: its machine state file (src/state) and the console screen it had. */
export interface SuspendedRecord {
  vmId: string;
  /** The machine state file's bytes (MachineStateFile format). */
  state: Uint8Array;
  /** Its disk at the save; undefined for a VM without one. */
  disk?: DiskIdentity;
  /**
   * Its data disk at the save (a VM with one); the state resumes only while both still
   * match. Absent on a data disk VM's state (stored before version 4): never resumed.
   */
  dataDisk?: DiskIdentity;
  /** The console's last bytes, replayed into the terminal on resume. */
  console: Uint8Array;
  takenAt: number;
}

/**
 * A named snapshot of a VM's disk. Taking it froze the VM's differencing child as it was
 * (that image is `imageId`, origin 'snapshot') and gave the VM a new empty child over it.
 * The tree is the image chain: a snapshot's parent is the snapshot whose image is its
 * image's parent, and the VM stands at the snapshot its current disk's parent belongs to.
 */
export interface SnapshotRecord {
  id: string;
  vmId: string;
  name: string;
  takenAt: number;
  /** The frozen image. Never written again, except by deleting the snapshot under it, whose merge keeps what it reads. */
  imageId: string;
  /**
   * The VM's data disk frozen with it (the data disk's differencing child at that instant,
   * origin 'snapshot'): a revert puts /data back with the system disk. Absent for a VM
   * without a data disk, and for snapshots taken before version 4 (a revert to one keeps
   * the current /data and drops its machine state, which would not fit it).
   */
  dataImageId?: string;
  /** A machine state was taken with it (in `snapshotStates` under the same id). */
  withState: boolean;
}

/** What a snapshot froze, as the page and the console name it: ['disk', 'data disk', 'machine'], the ones it has. */
export function snapshotParts(s: Pick<SnapshotRecord, 'dataImageId' | 'withState'>): string[] {
  return ['disk', ...(s.dataImageId !== undefined ? ['data disk'] : []), ...(s.withState ? ['machine'] : [])];
}

/** The machine state of a snapshot taken while the VM ran (or was suspended). */
export interface SnapshotStateRecord {
  snapshotId: string;
  /** The machine state file's bytes (MachineStateFile format). */
  state: Uint8Array;
  /** The console's last bytes, replayed on resume. */
  console: Uint8Array;
  /** The snapshot's image when the state was taken: the state resumes only while this still matches. */
  disk: DiskIdentity;
  /** The same for the snapshot's data disk image (`SnapshotRecord.dataImageId`). */
  dataDisk?: DiskIdentity;
}

export function chunkKey(imageId: string, index: number): [string, number] {
  return [imageId, index];
}

/** All chunk keys of one image, for deletes and counts. */
export function imageChunkRange(imageId: string): IDBKeyRange {
  return IDBKeyRange.bound([imageId, 0], [imageId, Number.MAX_SAFE_INTEGER]);
}

export function openImageDb(name = DB_NAME): Promise<IDBDatabase> {
  const req = indexedDB.open(name, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains(IMAGES)) db.createObjectStore(IMAGES, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(CHUNKS)) db.createObjectStore(CHUNKS);
    if (!db.objectStoreNames.contains(VMS)) db.createObjectStore(VMS, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(SUSPENDED)) db.createObjectStore(SUSPENDED, { keyPath: 'vmId' });
    if (!db.objectStoreNames.contains(SNAPSHOTS)) db.createObjectStore(SNAPSHOTS, { keyPath: 'id' }).createIndex(SNAPSHOTS_BY_VM, 'vmId');
    if (!db.objectStoreNames.contains(SNAPSHOT_STATES)) db.createObjectStore(SNAPSHOT_STATES, { keyPath: 'snapshotId' });
  };
  return requestResult(req).then((db) => {
    // Another tab upgrading the schema: step aside instead of blocking it.
    db.onversionchange = () => db.close();
    return db;
  });
}
