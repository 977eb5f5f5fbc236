/**
 * One VM of the hypervisor: its stored record, and while it runs, its dedicated Web
 * Worker (wrapped with comlink), the Web Lock on its disk and its console history.
 */
import * as Comlink from 'comlink';
import { PANIC_MARKER, PanicWatch } from '../boot/index.ts';
import { sameDisk, sameDisks, type Appliance, type DiskState, type ImageStore, type RevertOutcome, type ShareStore, type SnapshotRecord, type SnapshotTree, type VmRecord } from '../store/index.ts';
import { MemoryShare } from '../share/index.ts';
import { ConsoleRing, pageHideFlag, readPageHide, PAGEHIDE_SAVED, SHARE_MAX_BYTES, SHARE_MAX_OBJECTS, type BareKernelSpec, type CrashInfo, type ScriptProgress, type SharedFileInfo, type SharedFileUpload, type SharedFolderState, type VmBootSpec, type VmRunStats, type VmWorkerApi, type VmWorkerEvent } from '../worker/index.ts';
import type { RemoteDiskReadout } from '../repo/index.ts';
import { Emitter } from './Emitter.ts';
import { HypervisorError } from './HypervisorError.ts';
import { noAnswerReason } from './probeReachable.ts';
import type { NetAttachment } from './ServerNetwork.ts';
import type { VmCrash, VmHandle, VmNetInfo, VmState } from './Types.ts';

/** Console output a VM keeps for a console that attaches late. */
const HISTORY_BYTES = 256 * 1024;
/** A running worker that sends no readout for this long is declared hung. */
const WATCHDOG_MS = 6000;
const SHUTDOWN_TIMEOUT_MS = 8000;

export const vmLockName = (vmId: string) => `romvisor:vm:${vmId}`;
/**
 * localStorage, while a stored VM runs in this tab: set when it runs, removed when it stops
 * or is suspended. Found after a reload with no suspended state, it says the page ended
 * while the VM ran and it could not be suspended (its value: why, when known).
 */
const runningMarkKey = (vmId: string) => `romvisor:running:${vmId}`;

interface WorkerVmDeps {
  store: ImageStore;
  /** The shared folders' store, opened on first use. */
  shares(): Promise<ShareStore>;
  appliance(id: string): Appliance | undefined;
  /** What the VM runs when it is a bare kernel, not an appliance. */
  kernel?: BareKernelSpec;
  /** Boot configuration for this VM's appliance (module, images, disk). */
  bootSpec(vm: WorkerVm): Promise<VmBootSpec>;
  /** A VM of the server's table (stored): marked while it runs, suspended on pagehide. Not a scenario's guest or a bare kernel. */
  stored: boolean;
  /** Called on every state or readout change. */
  changed(vm: WorkerVm, what: 'state' | 'stats'): void;
  /** Console output through a SharedArrayBuffer ring (crossOriginIsolated pages only). */
  useConsoleRing: boolean;
  /** Puts the VM on the server's switch for one run (absent: the VM has no network card). Throws when its name cannot be on it. */
  attachNet?(vm: WorkerVm): NetAttachment;
}

export class WorkerVm implements VmHandle {
  private _state: VmState = 'stopped';
  private _detail: string | undefined;
  private _stats: VmRunStats | undefined;
  private _remoteDisk: RemoteDiskReadout | undefined;
  private _crash: VmCrash | undefined;
  private _finalScript: ScriptProgress | undefined;
  private _suspended = false;
  private worker: Worker | undefined;
  private api: Comlink.Remote<VmWorkerApi> | undefined;
  private releaseLock: (() => void) | undefined;
  private netAttachment: NetAttachment | undefined;
  /**
   * Settles once this tab's last claim on the VM's lock is let go. Releasing is
   * asynchronous: a Start right after a Stop waits for it, or it would find its own old
   * claim and be refused as "running in another tab".
   */
  private lockGone: Promise<unknown> = Promise.resolve();
  private _lockChanges = 0;
  private lockReleasing = false;
  private history: Uint8Array[] = [];
  private historyBytes = 0;
  /** The last bytes of output, to spot a kernel panic line split across chunks. */
  /** This run's console, watched for a kernel panic (a new watch at every start). */
  private panic = new PanicWatch();
  private lastHeard = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private stopRing: (() => void) | undefined;
  /** The size of the terminal showing this console, as its view last measured it. */
  private terminalSize: { cols: number; rows: number } | undefined;
  private readonly consoleEmitter = new Emitter<Uint8Array>();
  private readonly shareEmitter = new Emitter<void>();
  readonly onShareChanged = this.shareEmitter.event;
  private _shareState: SharedFolderState | undefined;
  readonly onConsole = this.consoleEmitter.event;

  constructor(
    public record: VmRecord,
    private readonly deps: WorkerVmDeps,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get appliance(): Appliance | undefined {
    return this.deps.appliance(this.record.applianceId);
  }
  get finalScript(): ScriptProgress | undefined {
    return this._finalScript;
  }
  get suspended(): boolean {
    return this._suspended;
  }
  /** The store says this VM has a suspended state (read once when the page loads). */
  markSuspended(): void {
    this._suspended = true;
  }

  /**
   * When the page loads: a running mark left by a page that ended while this VM ran (and
   * not run in another tab now) means it could not be suspended then; the card says so.
   */
  noteEndedWhileRunning(): void {
    const mark = localStorage.getItem(runningMarkKey(this.id));
    if (mark === null || this._state === 'in-use') return;
    localStorage.removeItem(runningMarkKey(this.id));
    if (this._suspended) return;
    const why = mark.startsWith('not suspended: ') ? mark.slice('not suspended: '.length) : 'the page ended before its machine was saved';
    this.setState('stopped', `${this.record.name} was running when the page closed and could not be suspended (${why}); it boots from its disk, which has every write the guest completed`);
  }

  /**
   * pagehide: asks the worker to suspend itself into the store (VmWorkerApi.suspendToStore)
   * and gives the flag to wait on; undefined when there is nothing to save or no shared
   * memory to wait with.
   */
  suspendForPageHide(): SharedArrayBuffer | undefined {
    if (!this.deps.stored || !this.api || (this._state !== 'running' && this._state !== 'paused')) return undefined;
    if (!globalThis.crossOriginIsolated) {
      localStorage.setItem(runningMarkKey(this.id), 'not suspended: this page is not cross-origin isolated, so it cannot wait for the save as it closes');
      return undefined;
    }
    const flag = pageHideFlag();
    void this.api.suspendToStore(this.id, this.consoleHistory, flag).catch(() => {});
    return flag;
  }

  /** What the worker said by the time the page stopped waiting (`flag` from suspendForPageHide). */
  pageHideSettled(flag: SharedArrayBuffer): { saved: boolean; note: string } {
    const { outcome, reason } = readPageHide(flag);
    if (outcome === PAGEHIDE_SAVED) {
      localStorage.removeItem(runningMarkKey(this.id));
      return { saved: true, note: reason };
    }
    const why = reason || 'it took longer than the page could wait';
    localStorage.setItem(runningMarkKey(this.id), `not suspended: ${why}`);
    return { saved: false, note: why };
  }
  get kernel(): BareKernelSpec | undefined {
    return this.deps.kernel;
  }
  get state(): VmState {
    return this._state;
  }
  get stateDetail(): string | undefined {
    return this._detail;
  }
  get stats(): VmRunStats | undefined {
    return this._stats;
  }
  get remoteDisk(): RemoteDiskReadout | undefined {
    return this._remoteDisk;
  }
  get crash(): VmCrash | undefined {
    return this._crash;
  }
  get isActive(): boolean {
    return this.worker !== undefined;
  }
  /** Counts this tab's requests, releases and the lock manager's letting go of the VM's lock
   *  (see RomHypervisor.pollLocks). */
  get lockChanges(): number {
    return this._lockChanges;
  }
  /** False between this tab's release of the VM's lock and the lock manager letting it go. */
  get lockSettled(): boolean {
    return !this.lockReleasing;
  }
  get machine(): Comlink.Remote<VmWorkerApi> | undefined {
    return this.api;
  }

  get consoleHistory(): Uint8Array {
    const out = new Uint8Array(this.historyBytes);
    let n = 0;
    for (const c of this.history) {
      out.set(c, n);
      n += c.length;
    }
    return out;
  }

  /** Another tab's lock status, from the hypervisor's periodic look at navigator.locks. */
  setHeldElsewhere(held: boolean): void {
    if (this.worker) return;
    if (held && this._state === 'stopped') this.setState('in-use', 'running in another tab');
    else if (!held && this._state === 'in-use') this.setState('stopped');
  }

  async start(): Promise<void> {
    if (this.worker || this._state === 'starting') return;
    this._crash = undefined;
    this._finalScript = undefined;
    // Each run counts what it fetches itself (a second boot reads the kept chunks).
    this._remoteDisk = undefined;
    this.panic = new PanicWatch();
    this.setState('starting');
    await this.lockGone.catch(() => {});
    const locked = await this.acquireLock();
    if (!locked) {
      this.setState('in-use', 'running in another tab');
      throw new HypervisorError('bad-state', `VM ${this.record.name} is running in another tab; its disk can be used by one tab at a time`);
    }
    try {
      // Another tab may have taken a snapshot or reverted since this one read the record:
      // the disk to write is the store's, never a snapshot's frozen one.
      if (this.deps.stored) await this.refreshRecord();
      const spec = await this.deps.bootSpec(this);
      // The guest console starts at the terminal's size; `resizeConsole` follows it after.
      if (this.terminalSize) spec.terminalSize = { ...this.terminalSize };
      const resume = await this.takeSuspended();
      if (resume) {
        spec.restore = resume.state;
        // The screen as it was: the console's bytes replayed, and nothing of ours after them,
        // so a half-typed command line goes on where it stood.
        // A page that suspended it shows that screen still; a reloaded page shows nothing yet.
        if (this.historyBytes === 0) this.appendConsole(resume.console);
      } else {
        const harts = this.record.harts ?? 1;
        const what = this.kernel ? `kernel ${this.kernel.name} (-bios none)` : (this.appliance?.title ?? this.record.applianceId);
        // The JIT is named when it is on: a student comparing two VMs' speed sees why.
        const jit = spec.jit && spec.jit !== 'off' ? `, JIT ${spec.jit}` : '';
        this.appendConsole(new TextEncoder().encode(`\x1b[2m[romvisor] powering on ${this.record.name}: ${this.record.memoryMiB} MiB RAM, ${harts} hart${harts > 1 ? 's' : ''}, ${what}${jit}\x1b[0m\r\n`));
      }
      const net = this.connectNet();
      if (net) spec.net = { name: this.record.name, port: net.workerPort, lockstep: net.lockstep };
      const worker = new Worker(new URL('../worker/vm.worker.ts', import.meta.url), { type: 'module', name: `vm ${this.record.name}` });
      this.worker = worker;
      worker.onerror = (e) => this.fail(`the worker failed: ${e.message || 'script error'}`, undefined);
      this.api = Comlink.wrap<VmWorkerApi>(worker);
      this.lastHeard = performance.now();
      // Console bytes through shared memory where the page may have it, else as messages.
      const ring = this.deps.useConsoleRing ? ConsoleRing.create() : undefined;
      await this.api.boot(net ? Comlink.transfer(spec, [net.workerPort]) : spec, Comlink.proxy((ev: VmWorkerEvent) => this.onWorkerEvent(ev)), ring?.buffer);
      // Stopped (or crashed) while the worker booted: that outcome stands.
      if (this.worker !== worker) return;
      if (ring) void this.pumpRing(ring, worker);
      this.watchdog = setInterval(() => this.checkWatchdog(), 1000);
      if (this.deps.stored) localStorage.setItem(runningMarkKey(this.id), String(Date.now()));
      this.setState('running');
    } catch (e) {
      this.teardown();
      this.setState('stopped', (e as Error).message);
      throw e;
    }
  }

  /**
   * The suspended state to resume from, taken out of the store (a state is resumed once: the
   * guest runs on from it and writes its disk). One whose disk was written since, or reset,
   * is discarded with a message on the console: the VM boots from its disk.
   */
  private async takeSuspended(): Promise<{ state: Uint8Array; console: Uint8Array } | undefined> {
    if (!this._suspended) return undefined;
    const store = this.deps.store;
    const rec = await store.suspended(this.id);
    const now = await store.vmDiskIdentities(this.record);
    await store.deleteSuspended(this.id);
    this._suspended = false;
    if (!rec) return undefined;
    if (!sameDisks(rec, now)) {
      // Either disk: a machine whose page cache and journal saw another /data would corrupt it.
      const which = sameDisk(rec.disk, now.disk) ? ['its data disk (/data)', rec.dataDisk, now.dataDisk] as const : ['its disk', rec.disk, now.disk] as const;
      const note = `[romvisor] the suspended state of ${this.record.name} is discarded: ${which[0]} was written since it was suspended (writes ${which[1]?.writes ?? '-'} then, ${which[2]?.writes ?? '-'} now); booting from the disk`;
      this.appendConsole(new TextEncoder().encode(`\r\n\x1b[33m${note}\x1b[0m\r\n`));
      return undefined;
    }
    return rec;
  }

  async suspend(): Promise<void> {
    if (!this.api || this._state !== 'running') throw new HypervisorError('bad-state', `VM ${this.record.name} is not running`);
    // Stopping from here on: the watchdog leaves a worker alone while it captures and packs
    // a large RAM, and keys typed now would land after the state was taken.
    this.setState('stopping', 'suspending');
    let taken: Awaited<ReturnType<VmWorkerApi['suspend']>>;
    try {
      taken = await this.api.suspend();
    } catch (e) {
      this.setState('running');
      throw e;
    }
    if ('refused' in taken) {
      this.appendConsole(new TextEncoder().encode(`\r\n\x1b[33m[romvisor] not suspended: ${taken.refused}\x1b[0m\r\n`));
      this.setState('running', `not suspended: ${taken.refused}`);
      throw new HypervisorError('bad-state', `VM ${this.record.name} cannot be suspended now: ${taken.refused}`);
    }
    // The disk is committed by the shutdown: its identity after it is the one the state stands on.
    try {
      this.keepDrives(await withTimeout(this.api.shutdown(), SHUTDOWN_TIMEOUT_MS));
    } catch (e) {
      this.setState('paused', (e as Error).message);
      throw e;
    }
    this.teardown();
    const disks = await this.deps.store.vmDiskIdentities(this.record);
    await this.deps.store.putSuspended({ vmId: this.id, state: taken.state, ...disks, console: this.consoleHistory, takenAt: Date.now() });
    this._suspended = true;
    this.setState('stopped');
  }

  snapshots(): Promise<SnapshotTree> {
    return this.deps.store.snapshotTree(this.id);
  }

  /** The VM's record as the store has it now (a snapshot or revert in another tab changes its disk). */
  private async refreshRecord(): Promise<void> {
    const fresh = await this.deps.store.vm(this.id);
    if (fresh) this.record = fresh;
  }

  async takeSnapshot(name: string, opts: { withState?: boolean } = {}): Promise<SnapshotRecord> {
    const label = name.trim();
    if (!label || label.length > 80) throw new HypervisorError('bad-input', 'a snapshot needs a name of 1 to 80 characters');
    if (!this.record.diskImageId) throw new HypervisorError('no-disk', `VM ${this.record.name} runs from RAM and has no disk to take a snapshot of`);
    const store = this.deps.store;
    const live = this._state === 'running' || this._state === 'paused';
    if (!live && this._state !== 'stopped' && this._state !== 'crashed') throw new HypervisorError('bad-state', `VM ${this.record.name} is ${this._state}; try again when it is running or off`);
    if (!live || !this.api) {
      await this.refreshRecord();
      const taken = await store.takeSnapshot(this.id, label);
      this.record = taken.vm;
      this.deps.changed(this, 'state');
      return taken.snapshot;
    }
    const api = this.api;
    const frozen = await api.freezeForSnapshot(opts.withState ?? false);
    if ('refused' in frozen) throw new HypervisorError('bad-state', `VM ${this.record.name}: no snapshot now: ${frozen.refused}`);
    let taken: Awaited<ReturnType<ImageStore['takeSnapshot']>>;
    try {
      taken = await store.takeSnapshot(this.id, label, frozen.state && { state: frozen.state, console: this.consoleHistory });
    } catch (e) {
      await api.thawAfterSnapshot(undefined);
      throw e;
    }
    this.record = taken.vm;
    try {
      await api.thawAfterSnapshot(taken.vm.diskImageId, taken.vm.dataImageId);
    } catch (e) {
      // Still paused on the frozen disk: it must not write on into the snapshot.
      await this.stop().catch(() => {});
      throw new HypervisorError('bad-state', `VM ${this.record.name} was stopped: the snapshot was taken, but its worker could not go on with the new disk (${(e as Error).message})`);
    }
    this.deps.changed(this, 'state');
    return taken.snapshot;
  }

  async revertToSnapshot(snapshotId: string): Promise<RevertOutcome> {
    if (this._state === 'in-use') throw new HypervisorError('bad-state', `VM ${this.record.name} is running in another tab; its disk is changed there`);
    if (this.worker) await this.stop();
    if (this.worker) throw new HypervisorError('bad-state', `VM ${this.record.name} did not stop; not reverted`);
    const { vm, outcome } = await this.deps.store.revertToSnapshot(this.id, snapshotId);
    this.record = vm;
    this._suspended = outcome === 'state';
    const name = (await this.deps.store.snapshot(snapshotId))?.name ?? snapshotId;
    const saved = outcome === 'state' ? await this.deps.store.suspended(this.id) : undefined;
    if (saved) {
      // The screen as it was at the snapshot: the terminal is reset (RIS) and the snapshot's
      // console replayed; nothing of ours after it, so a half-typed line goes on when resumed.
      this.history = [];
      this.historyBytes = 0;
      this.appendConsole(Uint8Array.of(0x1b, 0x63));
      this.appendConsole(saved.console);
      this.setState('stopped', `reverted to the snapshot "${name}": Resume goes on from its machine as it was`);
      return outcome;
    }
    const note = outcome === 'state-stale' ? 'its machine state no longer fits its disk and is dropped; Start boots' : 'Start boots from it';
    this.appendConsole(new TextEncoder().encode(`\r\n\x1b[2m[romvisor] reverted ${this.record.name} to the snapshot "${name}"; ${note}\x1b[0m\r\n`));
    this.setState('stopped', this._detail);
    return outcome;
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    const store = this.deps.store;
    if (this._state === 'in-use') throw new HypervisorError('bad-state', `VM ${this.record.name} is running in another tab; delete its snapshots there`);
    // A running guest reads its disk's whole chain through caches: none of it may change under it.
    const snap = await store.snapshot(snapshotId);
    const frozen = [snap?.imageId, snap?.dataImageId].filter((id) => id !== undefined);
    if (this.worker && (await this.chainOfCurrentDisks()).some((id) => frozen.includes(id))) {
      throw new HypervisorError('bad-state', `VM ${this.record.name} is ${this._state} on a disk grown from this snapshot; stop it first to delete the snapshot`);
    }
    await store.deleteSnapshot(snapshotId);
    this.deps.changed(this, 'state');
  }

  /** The image ids under the current disks (system, then data), nearest first. */
  private async chainOfCurrentDisks(): Promise<string[]> {
    const out: string[] = [];
    for (const top of [this.record.diskImageId, this.record.dataImageId]) {
      for (let id = top; id !== undefined; ) {
        const r = await this.deps.store.image(id);
        id = r?.parentId;
        if (id !== undefined) out.push(id);
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (!this.worker) {
      if (this._state === 'crashed') this.setState('stopped');
      return;
    }
    this.setState('stopping');
    try {
      this.keepDrives(await withTimeout(this.api!.shutdown(), SHUTDOWN_TIMEOUT_MS));
    } catch (e) {
      if ((e as Error).name === 'StoreError') {
        // Storage is full: the worker still holds the unwritten data; keep it alive.
        this.setState('paused', (e as Error).message);
        throw e;
      }
      // A hung worker: nothing more to save than what is committed.
    }
    this.teardown();
    this.setState('stopped');
  }

  async reset(): Promise<void> {
    if (!this.api) return this.start();
    this._crash = undefined;
    this.appendConsole(new TextEncoder().encode('\r\n\x1b[2m[romvisor] reset\x1b[0m\r\n'));
    await this.api.reset();
    this.setState('running');
  }

  async pause(): Promise<void> {
    if (!this.api || this._state !== 'running') return;
    await this.api.pause();
    this.setState('paused', 'paused by you');
  }

  async resume(): Promise<void> {
    if (!this.api || this._state !== 'paused') return;
    await this.api.resume();
    this.setState('running');
  }

  resizeConsole(size: { cols: number; rows: number }): void {
    this.terminalSize = { cols: size.cols, rows: size.rows };
    if (!this.api || this._state === 'stopping') return;
    void this.api.resize(this.terminalSize);
  }

  sendInput(bytes: Uint8Array): void {
    if (!this.api || this._state === 'stopping') return;
    void this.api.input(Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]));
  }

  async inspect(): Promise<CrashInfo | undefined> {
    if (!this.api) return this._crash?.info;
    try {
      return await withTimeout(this.api.crashReport(), 2000);
    } catch {
      return undefined;
    }
  }

  async diskState(): Promise<DiskState | undefined> {
    if (!this.record.diskImageId) return undefined;
    return this.deps.store.diskState(this.record.diskImageId);
  }

  get net(): VmNetInfo | undefined {
    const a = this.netAttachment;
    if (!a) return undefined;
    const card = this._stats?.net;
    return {
      address: a.lease(),
      rxFrames: card?.rxFrames ?? 0,
      txFrames: card?.txFrames ?? 0,
      rxDropped: card?.rxDropped ?? 0,
      txDropped: (card?.txDropped ?? 0) + a.rejected,
      switchDropped: a.port.stats.dropped + a.undelivered,
    };
  }

  /**
   * This run's port on the server's switch. A name the switch refuses (not a host name, or
   * another running VM's) boots the VM without a network card, and says why on its console.
   */
  private connectNet(): NetAttachment | undefined {
    if (!this.deps.attachNet) return undefined;
    try {
      this.netAttachment = this.deps.attachNet(this);
      return this.netAttachment;
    } catch (e) {
      this.appendConsole(new TextEncoder().encode(`\x1b[33m[romvisor] no network: ${(e as Error).message}\x1b[0m\r\n`));
      return undefined;
    }
  }

  get shareState(): SharedFolderState | undefined {
    return this._shareState;
  }

  async sharedFiles(): Promise<SharedFileInfo[]> {
    if (this.api) return this.api.shareFiles();
    return (await this.storedShare()).summary();
  }

  async readSharedFile(path: string): Promise<Uint8Array> {
    if (this.api) return this.api.shareRead(path);
    // The one file, not the whole folder.
    return (await this.deps.shares()).readFile(this.id, path);
  }

  async addSharedFiles(files: SharedFileUpload[]): Promise<void> {
    if (this._state === 'in-use') throw new HypervisorError('bad-state', `VM ${this.record.name} is running in another tab; its shared folder is changed there`);
    if (this.api) {
      this._shareState = await this.api.shareAdd(files);
    } else {
      const share = await this.storedShare();
      for (const f of files) share.putFile(f.path, f.data);
      await (await this.deps.shares()).save(this.id, share.entries());
    }
    this.shareEmitter.fire();
  }

  /** The folder as last saved, for a VM that is off (the running worker holds the live one). */
  private async storedShare(): Promise<MemoryShare> {
    const share = new MemoryShare({ maxBytes: SHARE_MAX_BYTES, maxObjects: SHARE_MAX_OBJECTS });
    share.load(await (await this.deps.shares()).load(this.id));
    return share;
  }

  /** Stops the worker without saving (page unload) and drops listeners. */
  dispose(): void {
    this.teardown();
    this.consoleEmitter.dispose();
    this.shareEmitter.dispose();
  }

  private onWorkerEvent(ev: VmWorkerEvent): void {
    this.lastHeard = performance.now();
    switch (ev.kind) {
      case 'console':
        this.appendConsole(ev.bytes);
        this.watchForPanic(ev.bytes);
        break;
      case 'stats':
        this._stats = ev.stats;
        this.deps.changed(this, 'stats');
        break;
      case 'remote-disk':
        this._remoteDisk = ev.disk;
        this.deps.changed(this, 'stats');
        break;
      case 'stopped':
        this._finalScript = ev.script;
        this.keepDrives(ev.drives);
        if (ev.cause === 'poweroff') {
          this.teardown();
          this.appendConsole(new TextEncoder().encode('\r\n\x1b[2m[romvisor] powered off\x1b[0m\r\n'));
          this.setState('stopped');
        } else {
          this.fail(ev.message, ev.crash);
          if (ev.noAnswerUrl) void this.explainNoAnswer(ev.noAnswerUrl);
        }
        break;
      case 'paused':
        this.setState('paused', ev.message);
        break;
      case 'rebooted':
        this.appendConsole(new TextEncoder().encode('\r\n\x1b[2m[romvisor] the guest rebooted\x1b[0m\r\n'));
        break;
      case 'share':
        this._shareState = ev.state;
        this.shareEmitter.fire();
        break;
    }
  }

  /**
   * A bare kernel's drives as its guest left them become the ones its next start gets, as
   * QEMU writes a raw drive in place (the files the user gave are not touched).
   */
  private keepDrives(drives: Uint8Array[] | undefined): void {
    const k = this.deps.kernel;
    if (!k || !drives || drives.length !== k.drives.length) return;
    drives.forEach((bytes, i) => (k.drives[i]!.bytes = bytes));
  }

  /**
   * Reads the console ring while this worker lives. When the worker goes (poweroff, Stop,
   * a crash), `stopRing` first takes what is still in the ring, synchronously: the guest's
   * last lines ("reboot: Power down") come before the page's own "[romvisor] powered off",
   * never after it or not at all.
   */
  private async pumpRing(ring: ConsoleRing, worker: Worker): Promise<void> {
    this.stopRing = () => {
      const last = ring.read();
      if (last.length > 0) this.appendConsole(last);
      ring.wake();
    };
    while (this.worker === worker) {
      await ring.whenReadable();
      if (this.worker !== worker) break; // stopRing took the rest
      const bytes = ring.read();
      if (bytes.length === 0) continue;
      this.appendConsole(bytes);
      this.watchForPanic(bytes);
    }
  }

  private watchForPanic(bytes: Uint8Array): void {
    if (this.panic.seen) return;
    // "Kernel panic - not syncing: <why>", found as `romvisor boot` finds it.
    this.panic.feed(new TextDecoder('latin1').decode(bytes));
    if (!this.panic.seen || this._state === 'crashed') return;
    const watch = this.panic;
    // Let the rest of the panic line arrive, then stop the spinning guest.
    setTimeout(async () => {
      const info = await this.inspect();
      this.fail(watch.line ?? PANIC_MARKER, info);
    }, 300);
  }

  private checkWatchdog(): void {
    if (this._state !== 'running' && this._state !== 'paused') return;
    if (performance.now() - this.lastHeard > WATCHDOG_MS) {
      this.fail(`the VM's worker stopped responding for ${WATCHDOG_MS / 1000} s`, this._crash?.info);
    }
  }

  private fail(reason: string, info: CrashInfo | undefined): void {
    if (this._state === 'crashed') return;
    this._crash = { reason, info };
    this.teardown();
    this.appendConsole(new TextEncoder().encode(`\r\n\x1b[1;31m[romvisor] ${reason}\x1b[0m\r\n`));
    this.setState('crashed', reason);
  }

  /**
   * A disk that stopped because its repository's server gave no answer: the worker cannot
   * tell a server that went away from one that does not let the page read it (CORS); the
   * page's probe can, and its finding joins the reason once it has looked.
   */
  private async explainNoAnswer(url: string): Promise<void> {
    const crash = this._crash;
    const why = await noAnswerReason(url);
    if (this._state !== 'crashed' || this._crash !== crash || !crash) return;
    this._crash = { ...crash, reason: `${crash.reason}. The page looked again: ${why}` };
    this.appendConsole(new TextEncoder().encode(`\x1b[1;31m[romvisor] ${url}: ${why}\x1b[0m\r\n`));
    this.setState('crashed', this._crash.reason);
  }

  private teardown(): void {
    if (this.deps.stored && this.worker) localStorage.removeItem(runningMarkKey(this.id));
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.api?.[Comlink.releaseProxy]();
    this.api = undefined;
    this.worker?.terminate();
    this.worker = undefined;
    this.stopRing?.();
    this.stopRing = undefined;
    if (this.releaseLock) {
      this._lockChanges++;
      this.lockReleasing = true;
    }
    this.releaseLock?.();
    this.releaseLock = undefined;
    this.netAttachment?.detach();
    this.netAttachment = undefined;
    this._stats = this._stats ? { ...this._stats, mips: 0, busy: 0 } : undefined;
  }

  private acquireLock(): Promise<boolean> {
    this._lockChanges++;
    return new Promise<boolean>((resolve) => {
      const gone = (this.lockGone = navigator.locks.request(vmLockName(this.id), { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return;
        }
        resolve(true);
        // Held until the VM stops: the lock is the tab's claim on the writable disk.
        return new Promise<void>((release) => (this.releaseLock = release));
      }));
      // The lock manager lets go after the release, later: that counts as a change too.
      gone.finally(() => {
        this._lockChanges++;
        this.lockReleasing = false;
      }).catch(() => {});
    });
  }

  private appendConsole(bytes: Uint8Array): void {
    this.history.push(bytes);
    this.historyBytes += bytes.length;
    while (this.historyBytes > HISTORY_BYTES && this.history.length > 1) this.historyBytes -= this.history.shift()!.length;
    this.consoleEmitter.fire(bytes);
  }

  private setState(state: VmState, detail?: string): void {
    this._state = state;
    this._detail = detail;
    this.deps.changed(this, 'state');
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
