/**
 * The hypervisor's contract. The page's buttons and the management console both drive
 * this one API; neither does anything the other could not.
 */
import type { HttpRequest, HttpResponse } from '../net/host/httpRequest.ts';
import type { Appliance, DiskState, ImportProgress, RevertOutcome, SnapshotRecord, SnapshotTree, StorageUse, VmRecord } from '../store/index.ts';
import type { Remote } from 'comlink';
import type { BareKernelSpec, CrashInfo, ScriptProgress, SharedFileInfo, SharedFileUpload, SharedFolderState, VmRunStats, VmWorkerApi } from '../worker/index.ts';
import type { RemoteDiskReadout, RepositoryIndex } from '../repo/index.ts';
import type { Disposable, Event } from './Emitter.ts';
import type { ArchiveProgress, RestoreChoice, RestoreResult, StoreRestore } from '../backup/index.ts';
import type { JitMode } from '../jit/Jit.ts';

/**
 * A VM's life as the page sees it:
 *   stopped → starting → running ⇄ paused → stopping → stopped
 * `crashed`: the emulator faulted, the kernel panicked or the worker stopped answering
 * (see `VmHandle.crash`). `in-use`: another tab holds this VM's disk.
 */
export type VmState = 'stopped' | 'starting' | 'running' | 'paused' | 'stopping' | 'crashed' | 'in-use';

export interface VmCrash {
  /** Why, in one sentence: the fault message, the panic line, "not responding". */
  reason: string;
  /** Where the hart was; undefined when the worker could not be asked. */
  info?: CrashInfo;
}

export interface VmHandle {
  readonly id: string;
  readonly record: VmRecord;
  readonly appliance: Appliance | undefined;
  /**
   * The bare kernel this VM runs instead of an appliance ("Run a kernel", a scenario's kernel
   * guest). Its drives' bytes are the guest's writes once it stopped: a next start gets them.
   */
  readonly kernel: BareKernelSpec | undefined;
  readonly state: VmState;
  /** Why the VM is paused or crashed (quota full, fault message), if it says. */
  readonly stateDetail: string | undefined;
  readonly stats: VmRunStats | undefined;
  /** What its repository disk fetched this run (or the last one), once its worker said. */
  readonly remoteDisk: RemoteDiskReadout | undefined;
  readonly crash: VmCrash | undefined;
  /** Console output so far (bounded), so a console opened late can replay it. */
  readonly consoleHistory: Uint8Array;
  /**
   * The running worker's machine (the teaching views' inspector, a scenario's script
   * progress and transcript); undefined while the VM is not running.
   */
  readonly machine: Remote<VmWorkerApi> | undefined;
  /** The console script's state when the guest stopped by itself (its worker cannot be asked any more). */
  readonly finalScript: ScriptProgress | undefined;

  /** Suspended: its machine state is stored, and Start resumes it (if its disk was not written since). */
  readonly suspended: boolean;
  start(): Promise<void>;
  /**
   * Saves the running machine and its console screen, then stops it. When the machine
   * cannot be saved now it runs on and this throws HypervisorError('bad-state') saying why.
   */
  suspend(): Promise<void>;
  /** Hard power-off; the disk's committed writes stay. */
  stop(): Promise<void>;
  /** The VM's named snapshots as a tree, and where the VM stands in it. */
  snapshots(): Promise<SnapshotTree>;
  /**
   * Freezes the disk as a named snapshot; the VM goes on writing to a new child over it.
   * `withState` (a running VM): its machine too, so a revert resumes it there. A suspended
   * VM's state goes with the snapshot by itself.
   */
  takeSnapshot(name: string, opts?: { withState?: boolean }): Promise<SnapshotRecord>;
  /** Back to a snapshot (the VM stops first): its disk, and its machine state on the next Start when it has one. */
  revertToSnapshot(snapshotId: string): Promise<RevertOutcome>;
  /** Removes a snapshot; the disks grown from it take in what they need of it. */
  deleteSnapshot(snapshotId: string): Promise<void>;
  reset(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  sendInput(bytes: Uint8Array): void;
  /** The terminal showing the console has this many columns and rows: the guest follows (realtime). */
  resizeConsole(size: { cols: number; rows: number }): void;
  /** Asks the running worker where the hart is now. */
  inspect(): Promise<CrashInfo | undefined>;
  diskState(): Promise<DiskState | undefined>;
  onConsole: Event<Uint8Array>;
  /**
   * The VM's shared folder, the guest's /mnt/host (kept in IndexedDB with the VM): its
   * objects, from the running worker or, while the VM is off, from the store.
   */
  sharedFiles(): Promise<SharedFileInfo[]>;
  readSharedFile(path: string): Promise<Uint8Array>;
  /** Puts files into the folder (all or none, within its bounds); the running guest sees them at once. */
  addSharedFiles(files: SharedFileUpload[]): Promise<void>;
  /** The folder's latest save while the VM runs: sizes, and why changes are only in memory (full quota). */
  readonly shareState: SharedFolderState | undefined;
  /** The folder changed (saved by the worker, or files added). */
  onShareChanged: Event<void>;
  /** The VM on the server's switch while it runs (refreshed with `stats`); undefined when it has no network. */
  readonly net: VmNetInfo | undefined;
}

/** A running VM's place on the server's network, as its card shows it. */
export interface VmNetInfo {
  /** The address the switch's DHCP acknowledged (dotted quad), once the guest asked. */
  address: string | undefined;
  /** Frames its network card received and sent. */
  rxFrames: number;
  txFrames: number;
  /** Frames the card lost: on the way in (full receive queue, no driver up) and out (bad size). */
  rxDropped: number;
  txDropped: number;
  /** Frames the switch dropped on this VM's port (its bounded queues or the worker's credit full: a flood, or a slow reader). */
  switchDropped: number;
}

export type HypervisorEvent =
  | { kind: 'catalog-changed' }
  | { kind: 'vm-added'; vm: VmHandle }
  | { kind: 'vm-removed'; vmId: string }
  | { kind: 'vm-state'; vm: VmHandle }
  | { kind: 'vm-stats'; vm: VmHandle }
  | { kind: 'import-progress'; name: string; progress: ImportProgress }
  | { kind: 'storage-changed' }
  | { kind: 'notice'; level: 'info' | 'error'; text: string };

export interface FirmwareInfo {
  /** Host RAM the page may hand out to guests (navigator.deviceMemory or a default). */
  hostMemoryMiB: number;
  cores: number;
  hypervisorName: string;
  hypervisorVersion: string;
  /** What the image store reached: IndexedDB available, persisted or not. */
  storeReady: boolean;
  crossOriginIsolated: boolean;
  /** How guest consoles reach the page: a SharedArrayBuffer ring, or transferred buffers. */
  consoleTransport: 'shared-ring' | 'messages';
  /** The JIT tier of a VM that has no setting of its own: the page's `?jit=`, else the default. */
  jit: JitMode;
}

export interface NewVmOptions {
  name?: string;
  memoryMiB?: number;
  /** Harts, 1..8 (default 1): one worker runs them in turns. */
  harts?: number;
  /** Kernel arguments appended to the appliance's command line (e.g. "loglevel=3"). */
  extraArgs?: string;
}

/** What `configureVm` may change; absent fields stay as they are. */
export interface VmSettings {
  memoryMiB?: number;
  harts?: number;
  /** The JIT tier its worker runs the guest with (src/jit/Jit.ts). */
  jit?: JitMode;
}

/** A move of a repository VM's system disk to another version. */
export interface VmVersionMove {
  version: string;
  /** What the versions' VHDs that the current chain lacks take, at most (chunks kept are not fetched again). */
  downloadBytes: number;
  /** Only patches to fetch. */
  patch: boolean;
}

export interface VmUpdateInfo {
  current: string;
  /** The newest version, when it is not the current one. */
  update?: VmVersionMove;
  /** The version before the last update. */
  rollBack?: VmVersionMove;
  /** The VM has a data disk, which a move keeps. */
  dataDisk: boolean;
}

/** A repository in the catalog (see Repositories.ts). */
export interface RepositoryEntry {
  /** The index's URL (a folder's URL gains /repository.json). */
  url: string;
  index?: RepositoryIndex;
  /** Why the index could not be read, as the page shows it. */
  error?: string;
}

export interface Hypervisor extends Disposable {
  readonly firmware: FirmwareInfo;
  readonly onEvent: Event<HypervisorEvent>;

  appliances(): Appliance[];
  appliance(idOrName: string): Appliance | undefined;
  vms(): VmHandle[];
  /** By id, by name, or by 1-based position in `vms()`. */
  vm(ref: string): VmHandle | undefined;

  /** Creates a VM record (and its disk, fetching a built-in appliance the first time). */
  createVm(applianceRef: string, opts?: NewVmOptions): Promise<VmHandle>;
  deleteVm(vmRef: string): Promise<void>;
  /** Changes a powered-off VM's machine (its harts, its memory, its JIT tier); kept with its record. */
  configureVm(vmRef: string, settings: VmSettings): Promise<void>;

  /** Repositories added to the catalog, each with its index or the reason it could not be read. */
  repositories(): readonly RepositoryEntry[];
  /** Adds a repository by its URL (folder or repository.json) once its index reads and validates. */
  addRepository(url: string): Promise<RepositoryEntry>;
  /** Removes a repository (by URL, name or number); VMs made from its appliances stay. */
  removeRepository(ref: string): Promise<RepositoryEntry>;

  /**
   * Fetches every chunk of a repository appliance's disk not kept yet, so its VMs boot
   * without the network; resolves with the bytes fetched.
   */
  makeAvailableOffline(applianceRef: string): Promise<number>;

  /** Validates and stores a VHD file as a new appliance. */
  importVhd(file: Blob, name: string): Promise<Appliance>;
  /** A powered-off VM's disk as one standalone dynamic VHD. */
  exportDisk(vmRef: string): Promise<{ blob: Blob; fileName: string }>;
  /** Throws away a powered-off VM's changes. */
  resetDisk(vmRef: string): Promise<void>;
  /** A repository VM's versions: where it stands, the newest if newer, the one Roll back returns to. */
  updateInfo(vmRef: string): VmUpdateInfo | undefined;
  /**
   * Moves a stopped repository VM's system disk to `version` (default the newest; the one
   * it came from rolls back): the system disk's changes are discarded, the data disk kept.
   */
  updateVm(vmRef: string, version?: string): Promise<void>;
  storageUse(): Promise<StorageUse>;
  requestPersistence(): Promise<boolean>;
  /**
   * The server switch's traffic since the server powered on, as a classic pcap file (link
   * type Ethernet) that tcpdump and Wireshark read; `frames` captured, `notCaptured` past its bound.
   */
  capture(): { blob: Blob; fileName: string; frames: number; notCaptured: number };
  /**
   * One HTTP request to a running VM's `port` through the switch's host endpoint (what the
   * card's "Open port" view shows); `vmRef` a table VM's reference or a guest's name on the
   * server's switch; rejects when it is not on the network.
   */
  guestHttp(vmRef: string, port: number, req: Omit<HttpRequest, 'host'>): Promise<HttpResponse>;
  /** Every frame entering the server's switch from now on, with the switch's time (µs), until disposed. */
  watchPackets(listener: (frame: Uint8Array, timeUs: number) => void): Disposable;

  /** The whole server as one backup archive (src/backup); refused while a VM runs. */
  backup(onProgress?: (p: ArchiveProgress) => void): Promise<{ blob: Blob; fileName: string; vms: number }>;
  /** Reads and checks a backup archive whole, writing nothing: its VMs and which meet VMs here. */
  openBackup(file: Blob, onProgress?: (p: ArchiveProgress) => void): Promise<StoreRestore>;
  /** Restores a checked archive; each VM that meets one here as `choices` says (replace, copy, skip). */
  restoreBackup(plan: StoreRestore, choices: ReadonlyMap<string, RestoreChoice>, onProgress?: (p: ArchiveProgress) => void): Promise<RestoreResult>;
}
