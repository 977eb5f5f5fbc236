/**
 * The IndexedDB database behind the image store, one per origin:
 *   images  image records (keyPath id): base appliances, imports, per-VM children
 *   chunks  image bytes, key [imageId, chunkIndex]; a missing chunk reads as zeros
 *   vms     VM records (keyPath id)
 *   suspended  a suspended VM's machine state (keyPath vmId), at most one per VM
 * The page and every VM worker open their own connection to it.
 */
import type { RepositoryVersion } from '../repo/index.ts';
import type { ApplianceManifest } from '../boot/index.ts';
import { requestResult } from './idbRequests.ts';
import type { JitMode } from '../jit/Jit.ts';

const DB_NAME = 'romvisor';
const DB_VERSION = 2;
export const IMAGES = 'images';
export const CHUNKS = 'chunks';
export const VMS = 'vms';
export const SUSPENDED = 'suspended';

export type ImageKind = 'base' | 'child';
export type ImageOrigin = 'builtin' | 'imported' | 'repository' | 'vm';

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
  /** The console's last bytes, replayed into the terminal on resume. */
  console: Uint8Array;
  takenAt: number;
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
  };
  return requestResult(req).then((db) => {
    // Another tab upgrading the schema: step aside instead of blocking it.
    db.onversionchange = () => db.close();
    return db;
  });
}
