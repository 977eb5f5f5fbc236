/**
 * The hypervisor "in flash": the VM table, the catalog and the image store, behind the
 * `Hypervisor` API that the page's buttons and the management console share.
 */
import { DEFAULT_JIT_MODE, parseJitMode, type JitMode } from '../jit/Jit.ts';
import { loadBuiltinBootImages } from './bootImages.ts';
import { gunzipIfCompressed } from './gunzipStream.ts';
import { canWaitAsync, readPageHide, PAGEHIDE_PENDING } from '../worker/index.ts';
import { DisposableStore, Emitter, type Disposable } from './Emitter.ts';
import { HypervisorError } from './HypervisorError.ts';
import type { FirmwareInfo, Hypervisor, HypervisorEvent, NewVmOptions, RepositoryEntry, VmHandle, VmSettings, VmUpdateInfo } from './Types.ts';
import { fileUrl, RepoError, versionChain, type RepositoryAppliance } from '../repo/index.ts';
import { SMP_MAX_HARTS } from '../machine/index.ts';
import { vmLockName, WorkerVm } from './WorkerVm.ts';
import { ServerNetwork, type NetAttachment } from './ServerNetwork.ts';
import { vmNameFrom, vmNameProblem } from '../net/index.ts';
import { fetchRepositoryAppliance, Repositories } from './Repositories.ts';
import { httpRequest, type HttpRequest, type HttpResponse } from '../net/host/httpRequest.ts';
import { buildCatalog, ImageStore, loadBuiltinCatalog, ShareStore, type Appliance, type CatalogSource, type StorageUse, type VmRecord } from '../store/index.ts';
import type { BareKernelSpec, VmBootSpec } from '../worker/index.ts';
import { BlobBackend, type ImageRecord } from '../store/index.ts';
import type { RepositoryVersion } from '../repo/index.ts';
import { noAnswerReason } from './probeReachable.ts';
import { BackupError, collectStoreServer, StoreRestore, writeBackupArchive, type ArchiveProgress, type BaseReference, type RestoreChoice, type RestoreResult } from '../backup/index.ts';

export const HYPERVISOR_NAME = 'romvisor';
export const HYPERVISOR_VERSION = '0.1';
const MIN_MEMORY_MIB = 64;
const MAX_MEMORY_MIB = 1024;
const LOCK_POLL_MS = 1500;
/**
 * The built-in kernel's command line: the console on the virtio console (hvc0), which has
 * the terminal's size; the SBI boot console shows the kernel until
 * then and is kept for its last words at poweroff (see appliances/build/README.md). TERM
 * reaches init's environment: what xterm.js emulates.
 */
const RAM_BOOTARGS = 'console=hvc0 earlycon=sbi keep_bootcon TERM=xterm-256color';

export interface RomHypervisorOptions {
  /** Where index.html lives; roms/ and appliances/ are below it. */
  baseUrl: string;
  /** URL of the compiled wasm core (build/wasm/core.wasm as the bundler emitted it). */
  coreWasmUrl: string;
  /** Console bytes as transferred messages even where a shared ring would work. */
  forceConsoleMessages?: boolean;
  /** The JIT tier of every VM without a setting of its own (default DEFAULT_JIT_MODE): `?jit=` on the page. */
  jit?: JitMode;
}

/** localStorage: how the last pagehide went ({ waitedMs, saved, unsaved, notes by VM }). */
export const PAGEHIDE_REPORT_KEY = 'romvisor:last-pagehide';

export class RomHypervisor implements Hypervisor {
  readonly firmware: FirmwareInfo;
  private readonly emitter = new Emitter<HypervisorEvent>();
  readonly onEvent = this.emitter.event;
  private readonly disposables = new DisposableStore();
  private catalog: Appliance[] = [];
  /** Repository appliances that scenario links named, listed until the page closes (their repositories are not added). */
  private linkedAppliances: Appliance[] = [];
  private readonly table: WorkerVm[] = [];
  private readonly lockPoll: ReturnType<typeof setInterval>;
  private module: Promise<WebAssembly.Module> | undefined;
  private shareStore: Promise<ShareStore> | undefined;
  /** The server's switch and its capture, from power-on (this object) to dispose. */
  readonly network = new ServerNetwork();
  private readonly repos = new Repositories();

  private constructor(
    private readonly opts: RomHypervisorOptions,
    readonly store: ImageStore,
    private readonly builtins: CatalogSource,
  ) {
    const nav = navigator as Navigator & { deviceMemory?: number };
    this.firmware = {
      hostMemoryMiB: (nav.deviceMemory ?? 4) * 1024,
      cores: navigator.hardwareConcurrency ?? 1,
      hypervisorName: HYPERVISOR_NAME,
      hypervisorVersion: HYPERVISOR_VERSION,
      storeReady: true,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      consoleTransport: globalThis.crossOriginIsolated === true && !opts.forceConsoleMessages && canWaitAsync ? 'shared-ring' : 'messages',
      jit: opts.jit ?? DEFAULT_JIT_MODE,
    };
    this.lockPoll = setInterval(() => void this.pollLocks(), LOCK_POLL_MS);
    this.disposables.add(this.emitter);
  }

  /** Opens the store, reads the catalog and the stored VMs. */
  static async boot(opts: RomHypervisorOptions): Promise<RomHypervisor> {
    const [store, builtins] = await Promise.all([ImageStore.open(), loadBuiltinCatalog(opts.baseUrl)]);
    const hv = new RomHypervisor(opts, store, builtins);
    await hv.refreshCatalog();
    // The repositories' indexes arrive when their servers answer; the catalog grows then.
    void hv.repos.refresh().then(() => hv.refreshCatalog());
    const suspended = await store.suspendedIds();
    for (const record of await store.vms()) {
      const vm = hv.makeVm(record);
      if (suspended.has(record.id)) vm.markSuspended();
      hv.table.push(vm);
    }
    await hv.pollLocks();
    for (const vm of hv.table) vm.noteEndedWhileRunning();
    return hv;
  }

  /**
   * The page is going away (pagehide): every running VM of the table suspends itself into
   * the store, and this waits for them — blocking, since nothing asynchronous outlives the
   * handler — until all have or `deadlineMs` passed. Those not saved are said on their cards
   * after the next load (WorkerVm.noteEndedWhileRunning).
   */
  suspendForPageHide(deadlineMs: number): { saved: string[]; unsaved: string[] } {
    const waiting = this.table.flatMap((vm) => {
      const flag = vm.suspendForPageHide();
      return flag ? [{ vm, flag }] : [];
    });
    const start = performance.now();
    const end = start + deadlineMs;
    // A busy wait: Atomics.wait is not allowed on a page's main thread.
    while (performance.now() < end && waiting.some((w) => readPageHide(w.flag).outcome === PAGEHIDE_PENDING)) {
      /* the workers run meanwhile */
    }
    const saved: string[] = [];
    const unsaved: string[] = [];
    const notes: Record<string, string> = {};
    for (const w of waiting) {
      const r = w.vm.pageHideSettled(w.flag);
      (r.saved ? saved : unsaved).push(w.vm.record.name);
      notes[w.vm.record.name] = r.note;
    }
    // What the last page end did, for a look in the developer tools (and the tests).
    if (waiting.length) localStorage.setItem(PAGEHIDE_REPORT_KEY, JSON.stringify({ waitedMs: Math.round(performance.now() - start), saved, unsaved, notes }));
    return { saved, unsaved };
  }

  dispose(): void {
    clearInterval(this.lockPoll);
    for (const vm of this.table) vm.dispose();
    this.network.dispose();
    this.disposables.dispose();
    this.store.dispose();
    void this.shareStore?.then((s) => s.dispose(), () => {});
  }

  // ------------------------------------------------------------------ catalog

  appliances(): Appliance[] {
    return this.catalog;
  }

  appliance(ref: string): Appliance | undefined {
    const r = ref.trim().toLowerCase();
    const n = Number(r);
    if (Number.isInteger(n) && n >= 1 && n <= this.catalog.length) return this.catalog[n - 1];
    return this.catalog.find((a) => a.id.toLowerCase() === r || a.name.toLowerCase() === r);
  }

  repositories(): readonly RepositoryEntry[] {
    return this.repos.list();
  }

  async addRepository(url: string): Promise<RepositoryEntry> {
    const entry = await this.repos.add(url);
    await this.refreshCatalog();
    return entry;
  }

  /**
   * Appliance `name` (at `version`, or its newest) of the repository at `url`, as a scenario
   * names it: its index read now and the appliance listed in the catalog until the page
   * closes, without adding the repository. Its disk is a base of the same sha256 already in
   * the store when there is one (the catalog matches it), so a second run fetches nothing.
   */
  async repositoryAppliance(url: string, name: string, version?: string): Promise<Appliance> {
    const a = await fetchRepositoryAppliance(url, name, version);
    this.linkedAppliances = [...this.linkedAppliances.filter((x) => x.id !== a.id), a];
    await this.refreshCatalog();
    return this.catalog.find((x) => x.id === a.id) ?? a;
  }

  async removeRepository(ref: string): Promise<RepositoryEntry> {
    const entry = this.repos.remove(ref);
    await this.refreshCatalog();
    return entry;
  }

  private async refreshCatalog(): Promise<void> {
    const listed = this.repos.appliances();
    const linked = this.linkedAppliances.filter((a) => !listed.some((l) => l.id === a.id));
    this.catalog = buildCatalog([...this.builtins.builtins, ...listed, ...linked], await this.store.images());
    this.emitter.fire({ kind: 'catalog-changed' });
  }

  // ------------------------------------------------------------------ VMs

  vms(): VmHandle[] {
    return this.table;
  }

  vm(ref: string): VmHandle | undefined {
    return this.findVm(ref);
  }

  private findVm(ref: string): WorkerVm | undefined {
    const r = ref.trim().toLowerCase();
    const n = Number(r);
    if (Number.isInteger(n) && n >= 1 && n <= this.table.length) return this.table[n - 1];
    return this.table.find((v) => v.id.toLowerCase() === r || v.record.name.toLowerCase() === r);
  }

  private requireVm(ref: string): WorkerVm {
    const vm = this.findVm(ref);
    if (!vm) throw new HypervisorError('not-found', `no VM "${ref}" (try "list vms")`);
    return vm;
  }

  async createVm(applianceRef: string, opts: NewVmOptions = {}): Promise<VmHandle> {
    const appliance = this.appliance(applianceRef);
    if (!appliance) throw new HypervisorError('not-found', `no appliance "${applianceRef}" (try "list appliances")`);
    const memoryMiB = checkMemory(opts.memoryMiB ?? appliance.memoryMiB);
    const harts = checkHarts(opts.harts ?? 1);
    // Its name is its hostname on the server's switch: the one rule of src/net.
    const name = opts.name ?? this.freeName(vmNameFrom(appliance.name));
    const problem = vmNameProblem(name);
    if (problem) throw new HypervisorError('bad-input', problem);
    if (this.table.some((v) => v.record.name.toLowerCase() === name.toLowerCase())) throw new HypervisorError('bad-input', `a VM named "${name}" exists already`);
    const extraArgs = opts.extraArgs?.trim() || undefined;
    if (extraArgs && (extraArgs.length > 512 || /[\0\n]/.test(extraArgs))) throw new HypervisorError('bad-input', `kernel arguments "${extraArgs.slice(0, 40)}…" must be one line of at most 512 characters`);
    const baseId = appliance.boot === 'disk' ? await this.ensureBaseImage(appliance) : undefined;
    // The data disk (appliance.json's dataDiskMiB): blank, made by the host as the CLI makes
    // it; the appliance's init formats it on first boot and mounts it on /data.
    const data = baseId !== undefined && appliance.dataDiskMiB !== undefined ? await this.store.addBlankDisk(`${name} data`, appliance.dataDiskMiB * 2 ** 20) : undefined;
    const repoVersion = appliance.repository?.version.version;
    const record = await this.store
      .addVm({ id: `vm-${crypto.randomUUID()}`, name, applianceId: appliance.id, memoryMiB, harts, extraArgs, createdAt: Date.now(), ...(data ? { dataImageId: data.id } : {}), ...(repoVersion !== undefined ? { repoVersion } : {}) }, baseId)
      .catch(async (e: unknown) => {
        if (data) await this.store.deleteImage(data.id).catch(() => {});
        throw e;
      });
    const vm = this.makeVm(record);
    this.table.push(vm);
    this.emitter.fire({ kind: 'vm-added', vm });
    this.emitter.fire({ kind: 'storage-changed' });
    return vm;
  }

  async deleteVm(ref: string): Promise<void> {
    const vm = this.requireVm(ref);
    if (vm.isActive || vm.state === 'in-use') throw new HypervisorError('bad-state', `VM ${vm.record.name} is ${vm.state}; stop it first`);
    await this.store.deleteVm(vm.id);
    await (await this.shares()).remove(vm.id);
    this.table.splice(this.table.indexOf(vm), 1);
    vm.dispose();
    this.emitter.fire({ kind: 'vm-removed', vmId: vm.id });
    this.emitter.fire({ kind: 'storage-changed' });
  }

  async configureVm(ref: string, settings: VmSettings): Promise<void> {
    const vm = this.requireVm(ref);
    const memoryMiB = settings.memoryMiB === undefined ? vm.record.memoryMiB : checkMemory(settings.memoryMiB);
    const harts = settings.harts === undefined ? (vm.record.harts ?? 1) : checkHarts(settings.harts);
    const jit = settings.jit === undefined ? vm.record.jit : parseJitMode(settings.jit, 'JIT');
    // The running machine keeps what it was made with; a change waits for no restart.
    if (vm.isActive || vm.state === 'in-use') throw new HypervisorError('bad-state', `VM ${vm.record.name} is ${vm.state}; power it off to change its machine`);
    const record = { ...vm.record, memoryMiB, harts, ...(jit ? { jit } : {}) };
    await this.store.putVm(record);
    vm.record = record;
    this.emitter.fire({ kind: 'vm-state', vm });
  }

  private freeName(base: string): string {
    for (let i = 1; ; i++) {
      const name = `${base}-${i}`;
      if (!this.table.some((v) => v.record.name.toLowerCase() === name.toLowerCase())) return name;
    }
  }

  /**
   * A scenario's guest: never stored and not in the VM table, so nothing of it outlives the
   * page. Its boot spec is this hypervisor's for `record`, then `customize`d (a scratch
   * overlay, the time mode, a script). `attachNet` puts it on a network each time it
   * starts: a deterministic scenario's LockstepNetwork, or the server's (`serverNet`) for a
   * realtime one; without it the guest has no card. Its events still come through onEvent;
   * the caller stops and disposes it.
   */
  scratchVm(record: VmRecord, customize: (spec: VmBootSpec) => VmBootSpec, attachNet?: (name: string) => NetAttachment): VmHandle & Disposable {
    return this.makeVm(record, customize, undefined, attachNet);
  }

  /** Puts a VM named `name` on the server's switch (realtime). */
  readonly serverNet = (name: string): NetAttachment => this.network.attach(name);

  /**
   * A bare kernel as QEMU's `-machine virt -bios none -kernel ELF -drive ...` runs it (the
   * page's "Run a kernel", a scenario's kernel guest): a scratch VM like `scratchVm`, with
   * `record`'s memory and harts; its drives live in its worker's memory only.
   */
  kernelVm(record: VmRecord, kernel: BareKernelSpec, customize: (spec: VmBootSpec) => VmBootSpec = (s) => s): VmHandle & Disposable {
    checkMemory(record.memoryMiB);
    checkHarts(record.harts ?? 1);
    return this.makeVm(record, customize, kernel);
  }

  private makeVm(record: VmRecord, customize?: (spec: VmBootSpec) => VmBootSpec, kernel?: BareKernelSpec, scratchNet?: (name: string) => NetAttachment): WorkerVm {
    const spec = kernel ? (vm: WorkerVm) => this.kernelBootSpec(vm, kernel) : (vm: WorkerVm) => this.bootSpec(vm);
    return new WorkerVm(record, {
      store: this.store,
      shares: () => this.shares(),
      appliance: (id) => this.catalog.find((a) => a.id === id),
      kernel,
      bootSpec: async (vm) => (customize ? customize(await spec(vm)) : spec(vm)),
      changed: (vm, what) => this.emitter.fire(what === 'state' ? { kind: 'vm-state', vm } : { kind: 'vm-stats', vm }),
      useConsoleRing: this.firmware.consoleTransport === 'shared-ring',
      stored: !customize && !kernel,
      // The server's VMs are on its switch; a scenario's guest is where its scenario says.
      attachNet: customize ? scratchNet && ((vm) => scratchNet(vm.record.name)) : (vm) => this.network.attach(vm.record.name),
    });
  }

  private shares(): Promise<ShareStore> {
    this.shareStore ??= ShareStore.open();
    this.shareStore.catch(() => (this.shareStore = undefined));
    return this.shareStore;
  }

  private coreModule(): Promise<WebAssembly.Module> {
    this.module ??= WebAssembly.compileStreaming(fetch(this.opts.coreWasmUrl));
    this.module.catch(() => (this.module = undefined));
    return this.module;
  }

  private async bootSpec(vm: WorkerVm): Promise<VmBootSpec> {
    const appliance = vm.appliance;
    if (!appliance) throw new HypervisorError('not-found', `VM ${vm.record.name}: its appliance "${vm.record.applianceId}" is no longer in the catalog`);
    const [module, images] = await Promise.all([this.coreModule(), loadBuiltinBootImages(this.opts.baseUrl)]);
    const disk = vm.record.diskImageId;
    return {
      module,
      ramBytes: vm.record.memoryMiB * 1024 * 1024,
      harts: vm.record.harts ?? 1,
      timeMode: 'realtime',
      jit: vm.record.jit ?? this.firmware.jit,
      firmware: images.firmware,
      // A disk appliance's kernel and command line come from its own boot partition.
      ram: disk ? undefined : { kernel: images.kernel, initrd: images.initrd, bootargs: RAM_BOOTARGS },
      rescue: disk ? { kernel: images.kernel, initrd: images.initrd, bootargs: RAM_BOOTARGS } : undefined,
      disk: disk ? { childImageId: disk } : undefined,
      ...(disk && vm.record.dataImageId ? { dataDisk: { imageId: vm.record.dataImageId } } : {}),
      extraBootargs: vm.record.extraArgs,
      // A VM of the table keeps a shared folder; a scenario's scratch guest has none.
      share: this.table.includes(vm) ? { vmId: vm.id } : undefined,
    };
  }

  private async kernelBootSpec(vm: WorkerVm, kernel: BareKernelSpec): Promise<VmBootSpec> {
    return {
      module: await this.coreModule(),
      ramBytes: vm.record.memoryMiB * 1024 * 1024,
      harts: vm.record.harts ?? 1,
      timeMode: 'realtime',
      jit: vm.record.jit ?? this.firmware.jit,
      bareKernel: kernel,
    };
  }

  /** Which VMs another tab runs, from the locks it holds. */
  private async pollLocks(): Promise<void> {
    if (!navigator.locks?.query) return;
    // The snapshot may show this tab's own lock of a VM that stopped while it was taken; read
    // as "another tab", it disabled Start for a second right after Stop. Only VMs whose lock
    // this tab neither took nor gave back meanwhile are judged by it.
    const before = new Map(this.table.map((vm) => [vm, vm.lockChanges]));
    const snapshot = await navigator.locks.query();
    const held = new Set((snapshot.held ?? []).map((l) => l.name));
    for (const vm of this.table) {
      if (vm.lockChanges !== before.get(vm) || !vm.lockSettled) continue;
      vm.setHeldElsewhere(!vm.isActive && held.has(vmLockName(vm.id)));
    }
  }

  // ------------------------------------------------------------------ disks

  /** The stored base image of a disk appliance, downloading a built-in one the first time. */
  async ensureBaseImage(appliance: Appliance): Promise<string> {
    if (appliance.imageId) return appliance.imageId;
    if (!appliance.source) throw new HypervisorError('no-disk', `appliance ${appliance.name} has no disk image`);
    if (appliance.repository) {
      const record = await this.ensureRemoteBase(appliance.repository.url, appliance.repository.appliance, appliance.repository.version);
      await this.refreshCatalog();
      return record.id;
    }
    const { url, sha256, gzip } = appliance.source;
    const r = await fetch(url);
    if (!r.ok || !r.body) throw new HypervisorError('download-failed', `GET ${url}: HTTP ${r.status} ${r.statusText}`);
    // A static host answers a missing file with its index page; that is not a disk.
    if (r.headers.get('Content-Type')?.startsWith('text/html')) throw new HypervisorError('download-failed', `GET ${url}: got an HTML page, not the appliance (is the file missing?)`);
    const total = Number(r.headers.get('Content-Length')) || appliance.sizeBytes || undefined;
    let fetched = 0;
    const counted = r.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, ctl) => {
          fetched += chunk.length;
          this.emitter.fire({ kind: 'import-progress', name: appliance.title, progress: { bytes: fetched, total } });
          ctl.enqueue(chunk);
        },
      }),
    );
    const body = gzip ? await gunzipIfCompressed(counted) : counted;
    const record = await this.store.importStream(body, { name: appliance.name, origin: 'builtin', sourceSha256: sha256 });
    await this.refreshCatalog();
    return record.id;
  }

  /**
   * The stored base of a repository version, added if missing; a patch's parents first, so
   * its chain opens (the store finds a parent by its VHD's unique id).
   */
  private async ensureRemoteBase(indexUrl: string, a: RepositoryAppliance, v: RepositoryVersion): Promise<ImageRecord> {
    const url = fileUrl(new URL(indexUrl), v.url).href;
    const have = (await this.store.images()).find((r) => r.kind === 'base' && r.origin === 'repository' && r.state === 'ready' && r.remote?.url === url && r.sourceSha256 === v.sha256);
    if (have) return have;
    if (v.parent !== undefined) await this.ensureRemoteBase(indexUrl, a, a.versions.find((p) => p.version === v.parent)!);
    try {
      return await this.store.addRemoteBase({ name: a.name, url, version: v });
    } catch (e) {
      // The VHD may live on another host than the index (a CDN), one without CORS, say.
      if (e instanceof RepoError && e.code === 'no-answer') throw new RepoError('no-answer', `${url}: ${await noAnswerReason(url)}`, url);
      throw e;
    }
  }

  updateInfo(ref: string): VmUpdateInfo | undefined {
    const vm = this.requireVm(ref);
    const repo = vm.appliance?.repository;
    const current = vm.record.repoVersion;
    if (!repo || current === undefined || !vm.record.diskImageId) return undefined;
    const a = repo.appliance;
    const from = a.versions.find((v) => v.version === current);
    const describe = (to: RepositoryVersion) => {
      const have = new Set(from ? versionChain(a, from) : []);
      const need = versionChain(a, to).filter((v) => !have.has(v));
      return { version: to.version, downloadBytes: need.reduce((n, v) => n + v.size, 0), patch: need.length > 0 && need.every((v) => v.parent !== undefined) };
    };
    const newest = a.versions.at(-1)!;
    const back = vm.record.updatedFrom === undefined ? undefined : a.versions.find((v) => v.version === vm.record.updatedFrom);
    return {
      current,
      update: newest.version !== current ? describe(newest) : undefined,
      rollBack: back ? describe(back) : undefined,
      dataDisk: vm.record.dataImageId !== undefined,
    };
  }

  /**
   * Moves a stopped repository VM's system disk to `version` (default: the newest): a new
   * empty child over that version's base (a patch's chain), its changes discarded, a
   * suspended state dropped; its data disk is kept. Rolling back is the same move to the
   * version it came from.
   */
  async updateVm(ref: string, version?: string): Promise<void> {
    const vm = this.stoppedDiskVm(ref, 'update');
    const repo = vm.appliance?.repository;
    const current = vm.record.repoVersion;
    if (!repo || current === undefined) throw new HypervisorError('bad-input', `VM ${vm.record.name} is not of a repository appliance: it has no versions to move between`);
    const a = repo.appliance;
    const target = version === undefined ? a.versions.at(-1)! : a.versions.find((v) => v.version === version);
    if (!target) throw new HypervisorError('not-found', `appliance ${a.name} has no version "${version}" (it has ${a.versions.map((v) => v.version).join(', ')})`);
    if (target.version === current) throw new HypervisorError('bad-input', `VM ${vm.record.name} is on version ${current} already`);
    const child = await this.store.image(vm.record.diskImageId);
    const parent = child?.parentId === undefined ? undefined : await this.store.image(child.parentId);
    if (parent?.origin !== 'repository') throw new HypervisorError('bad-state', `VM ${vm.record.name}'s disk has snapshots over the appliance; an update replaces the whole system disk: delete them first`);
    const base = await this.ensureRemoteBase(repo.url, a, target);
    await this.store.rebaseChild(vm.record.diskImageId, base.id);
    await this.store.deleteSuspended(vm.id);
    const rollingBack = target.version === vm.record.updatedFrom;
    const record: VmRecord & { diskImageId: string } = { ...vm.record, repoVersion: target.version };
    if (rollingBack) delete record.updatedFrom;
    else record.updatedFrom = current;
    await this.store.putVm(record);
    vm.record = record;
    await this.refreshCatalog();
    this.emitter.fire({ kind: 'vm-state', vm });
    this.emitter.fire({ kind: 'storage-changed' });
  }

  async makeAvailableOffline(applianceRef: string): Promise<number> {
    const appliance = this.appliance(applianceRef);
    if (!appliance) throw new HypervisorError('not-found', `no appliance "${applianceRef}" (try "list appliances")`);
    if (!appliance.repository) throw new HypervisorError('bad-input', `appliance ${appliance.name} is not from a repository; ${appliance.boot === 'ram' ? 'it runs from RAM' : 'its whole disk is stored already'}`);
    const baseId = await this.ensureBaseImage(appliance);
    const name = `${appliance.title} (offline copy)`;
    const fetched = await this.store.fetchRemoteBase(baseId, (progress) => this.emitter.fire({ kind: 'import-progress', name, progress }));
    this.emitter.fire({ kind: 'storage-changed' });
    return fetched;
  }

  async importVhd(file: Blob, name: string): Promise<Appliance> {
    const clean = name.replace(/[^\w.+-]+/g, '_').slice(0, 64) || 'imported.vhd';
    const record = await this.store.importFile(file, clean, (progress) => this.emitter.fire({ kind: 'import-progress', name: clean, progress }));
    await this.refreshCatalog();
    this.emitter.fire({ kind: 'storage-changed' });
    return this.catalog.find((a) => a.imageId === record.id)!;
  }

  private stoppedDiskVm(ref: string, what: string): WorkerVm & { record: { diskImageId: string } } {
    const vm = this.requireVm(ref);
    if (!vm.record.diskImageId) throw new HypervisorError('no-disk', `VM ${vm.record.name} runs from RAM and has no disk to ${what}`);
    if (vm.isActive || vm.state === 'in-use') throw new HypervisorError('bad-state', `VM ${vm.record.name} is ${vm.state}; power it off first`);
    return vm as WorkerVm & { record: { diskImageId: string } };
  }

  async exportDisk(ref: string): Promise<{ blob: Blob; fileName: string }> {
    const vm = this.stoppedDiskVm(ref, 'export');
    const blob = await this.store.exportVhd(vm.record.diskImageId);
    return { blob, fileName: `${vm.record.name}.vhd` };
  }

  async resetDisk(ref: string): Promise<void> {
    const vm = this.stoppedDiskVm(ref, 'reset');
    await this.store.resetChild(vm.record.diskImageId);
    this.emitter.fire({ kind: 'vm-state', vm });
    this.emitter.fire({ kind: 'storage-changed' });
  }

  // ------------------------------------------------------------------ backup and restore

  /**
   * The whole server as one backup archive (src/backup): every VM record, disk, suspended
   * state and shared folder. Refused while a VM runs: its disk would be caught mid-write
   * (suspend it, or stop it, first).
   */
  async backup(onProgress?: (p: ArchiveProgress) => void): Promise<{ blob: Blob; fileName: string; vms: number }> {
    const live = this.table.filter((vm) => vm.isActive);
    if (live.length) throw new HypervisorError('bad-state', `${live.map((vm) => vm.record.name).join(', ')} ${live.length === 1 ? 'is' : 'are'} running: suspend or stop ${live.length === 1 ? 'it' : 'them'} before a backup, so every disk is caught at rest`);
    const { server, sources } = await collectStoreServer(this.store, await this.shares());
    // Pieces are gathered into Blobs of a few MiB: the browser may keep those on disk, so a
    // large archive does not sit in this page's memory.
    const blobs: Blob[] = [];
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = () => {
      blobs.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
      pending = [];
      pendingBytes = 0;
    };
    for await (const piece of writeBackupArchive(server, sources, { createdBy: `${HYPERVISOR_NAME} page ${HYPERVISOR_VERSION}`, onProgress })) {
      pending.push(piece.slice());
      pendingBytes += piece.length;
      if (pendingBytes >= 8 * 2 ** 20) flush();
    }
    flush();
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    return { blob: new Blob(blobs, { type: 'application/octet-stream' }), fileName: `romvisor-${stamp}.rvbackup`, vms: server.stores.vms?.length ?? 0 };
  }

  /** Reads and checks a backup archive whole (nothing is written): its VMs, and which meet VMs here. */
  openBackup(file: Blob, onProgress?: (p: ArchiveProgress) => void): Promise<StoreRestore> {
    return StoreRestore.open(new BlobBackend(file), this.store, onProgress);
  }

  /**
   * Restores a checked archive: VMs that meet none here are added, the others as `choices`
   * says (replace, copy beside, skip). All or nothing in the image store; the VM table
   * follows.
   */
  async restoreBackup(plan: StoreRestore, choices: ReadonlyMap<string, RestoreChoice>, onProgress?: (p: ArchiveProgress) => void): Promise<RestoreResult> {
    for (const vm of plan.vms) {
      const here = vm.conflict && choices.get(vm.id) === 'replace' ? this.findVm(vm.conflict.id) : undefined;
      if (here && (here.isActive || here.state === 'in-use')) throw new HypervisorError('bad-state', `VM ${here.record.name} is ${here.state}; stop it before it is replaced`);
    }
    const result = await plan.apply(this.store, await this.shares(), choices, (ref) => this.resolveBase(ref), (name, taken) => {
      for (let i = 2; ; i++) if (!taken.has(`${name}-${i}`.toLowerCase())) return `${name}-${i}`;
    }, onProgress);
    for (const id of result.removed) {
      const vm = this.table.find((v) => v.id === id);
      if (!vm) continue;
      this.table.splice(this.table.indexOf(vm), 1);
      vm.dispose();
      this.emitter.fire({ kind: 'vm-removed', vmId: id });
    }
    // A repository VM's appliance is listed (and the VM starts) only while its repository is
    // added: the restore adds the repositories its VMs came from, as the backed-up server had them.
    const records = (await this.store.vms()).filter((r) => result.restored.includes(r.id));
    const repoUrls = new Set(records.filter((r) => r.applianceId.startsWith('repo:')).map((r) => r.applianceId.slice('repo:'.length, r.applianceId.lastIndexOf('#'))));
    for (const url of repoUrls) {
      if (this.repos.list().some((e) => e.url === url)) continue;
      try {
        await this.repos.add(url);
      } catch (e) {
        result.warnings.push(`the repository ${url} of the restored VMs could not be added (${(e as Error).message}): add it to start them`);
      }
    }
    await this.refreshCatalog();
    const suspended = await this.store.suspendedIds();
    for (const record of await this.store.vms()) {
      if (!result.restored.includes(record.id)) continue;
      const vm = this.makeVm(record);
      if (suspended.has(record.id)) vm.markSuspended();
      this.table.push(vm);
      this.emitter.fire({ kind: 'vm-added', vm });
    }
    this.emitter.fire({ kind: 'storage-changed' });
    return result;
  }

  /** A base an archive names by sha256: stored already, or fetched as creating a VM would. */
  private async resolveBase(ref: BaseReference): Promise<ImageRecord> {
    const have = (await this.store.images()).find((r) => r.kind === 'base' && r.origin === ref.origin && r.sourceSha256 === ref.sha256);
    if (have) return have;
    if (ref.origin === 'builtin') {
      const a = this.catalog.find((x) => x.origin === 'builtin' && x.name === ref.name);
      if (!a?.source) throw new BackupError('backup-unavailable', `the archive's VMs stand on built-in appliance "${ref.name}", which this site does not have: nothing was restored`);
      if (a.source.sha256 !== ref.sha256) throw new BackupError('backup-unavailable', `the archive's VMs stand on built-in appliance "${ref.name}" with sha256 ${ref.sha256.slice(0, 16)}…; this site has another version (${(a.source.sha256 ?? 'unknown').slice(0, 16)}…): nothing was restored`);
      const id = await this.ensureBaseImage(a);
      return (await this.store.image(id))!;
    }
    const version = ref.version as RepositoryVersion | undefined;
    if (!ref.url || !version || version.sha256 !== ref.sha256 || !Array.isArray(version.chunks)) throw new BackupError('backup-inconsistent', `the archive's repository base "${ref.name}" names no version with sha256 ${ref.sha256}`);
    try {
      const record = await this.store.addRemoteBase({ name: ref.name, url: ref.url, version });
      await this.refreshCatalog();
      return record;
    } catch (e) {
      throw new BackupError('backup-unavailable', `the archive's VMs stand on "${ref.name}" of the repository at ${ref.url}, which could not be reached: ${(e as Error).message}; nothing was restored`, { cause: e });
    }
  }

  capture(): { blob: Blob; fileName: string; frames: number; notCaptured: number } {
    const s = this.network.captureStats();
    const stamp = new Date(s.since).toISOString().replace(/[:.]/g, '-');
    return { blob: this.network.capture(), fileName: `romvisor-${stamp}.pcap`, frames: s.frames, notCaptured: s.notCaptured };
  }

  guestHttp(vmRef: string, port: number, req: Omit<HttpRequest, 'host'>): Promise<HttpResponse> {
    // By its name on the server's switch: a table VM or a realtime scenario guest, while it runs.
    const name = this.findVm(vmRef)?.record.name ?? vmRef;
    const sp = this.network.sw.portList.find((p) => p.kind === 'vm' && p.name.toLowerCase() === name.toLowerCase());
    if (sp?.address === undefined) {
      return Promise.reject(new HypervisorError('bad-state', `${name} is not running on the server's network (a deterministic scenario's guests are on a switch of their own)`));
    }
    return httpRequest(this.network.sw.services.gateway, sp.address, port, { ...req, host: name });
  }

  watchPackets(listener: (frame: Uint8Array, timeUs: number) => void): Disposable {
    return { dispose: this.network.sw.tap(listener) };
  }

  storageUse(): Promise<StorageUse> {
    return this.store.storageUse();
  }

  async requestPersistence(): Promise<boolean> {
    const granted = await this.store.requestPersistence();
    this.emitter.fire({ kind: 'storage-changed' });
    return granted;
  }
}

function checkMemory(memoryMiB: number): number {
  if (!Number.isInteger(memoryMiB) || memoryMiB < MIN_MEMORY_MIB || memoryMiB > MAX_MEMORY_MIB) {
    throw new HypervisorError('bad-input', `memory ${memoryMiB} MiB is outside ${MIN_MEMORY_MIB}..${MAX_MEMORY_MIB} MiB`);
  }
  return memoryMiB;
}

function checkHarts(harts: number): number {
  if (!Number.isInteger(harts) || harts < 1 || harts > SMP_MAX_HARTS) throw new HypervisorError('bad-input', `harts ${harts} is outside 1..${SMP_MAX_HARTS}`);
  return harts;
}
