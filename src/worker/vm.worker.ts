/**
 * One guest VM in its own Web Worker: the same `Vm` the CLI runs, exposed to the page
 * with comlink as a `VmWorkerApi`. The loop runs the guest in ~16 ms runs of
 * `Vm.runUntil`, hands the console output to the page after each, and rests between them
 * as GuestLoop says (no busy loop while the guest waits for an interrupt).
 */
import * as Comlink from 'comlink';
import { GuestLoop } from '../machine/GuestLoop.ts';
import { formatCrashReport, guestConsoleOf, Vm, type CrashReport, type RunOptions, type RunOutcome, type VmDisk } from '../machine/Vm.ts';
import { bareKernelVmConfig } from '../boot/bareKernel.ts';
import { ElfImage } from '../boot/ElfImage.ts';
import { MemoryBackend, VhdDisk } from '../disk/index.ts';
import { linuxLoader, type LinuxBootImages } from '../boot/linuxBoot.ts';
import { readApplianceBoot } from '../boot/applianceBoot.ts';
import type { AccessType, Privilege, TrapLogFilter } from '../machine/InspectorTypes.ts';
import { VmInspector } from '../machine/VmInspector.ts';
import { jitView } from '../machine/jitView.ts';
import { Rewind } from '../machine/Rewind.ts';
import { UndoLogDisk } from '../disk/UndoLogDisk.ts';
import { ConsoleScriptPlayer } from '../scenario/index.ts';
import type { BareKernelSpec, ConsoleTranscript, CrashInfo, LockstepQuantum, LockstepReply, ScriptProgress, SharedFileInfo, SharedFileUpload, SharedFolderState, VmBootSpec, VmRunStats, VmWorkerApi, VmWorkerEvent } from './VmWorkerApi.ts';
import { SharedFolder, SHARE_MAX_BYTES, SHARE_MAX_OBJECTS } from './SharedFolder.ts';
import { MemoryShare } from '../share/index.ts';
import { ConsoleRing } from './ConsoleRing.ts';
import { GuestDisk } from './GuestDisk.ts';
import { PAGEHIDE_FAILED, PAGEHIDE_SAVED, settlePageHide } from './pageHideFlag.ts';
import { ImageStore } from '../store/index.ts';
import { RemoteDiskMeter } from '../repo/index.ts';
import { hex } from '../format/hex.ts';
import { DEFAULT_CONSOLE_SIZE, type ConsoleSize } from '../machine/virtio/index.ts';
import { macFromName } from '../net/netContract.ts';
import { decodeMachineState, encodeMachineState } from '../state/MachineStateFile.ts';
import { StateError } from '../state/StateError.ts';
import type { GuestLoader, VmState } from '../machine/index.ts';
import { deliverFrames, runToBoundary } from '../net/Lockstep.ts';

/** A size the virtio-console can carry (the page sends what xterm.js measured). */
const validSize = (s: ConsoleSize) => [s.cols, s.rows].every((n) => Number.isInteger(n) && n >= 1 && n <= 0xffff);

/** Host time per run() call: one display frame, so keystrokes and output stay snappy. */
const SLICE_MS = 16;
/** How often the page hears the MIPS / uptime readout. */
const STATS_MS = 500;
/** A resumed machine's RAM, harts and devices come from its state: nothing to load. */
const NO_LOADER: GuestLoader = { load: () => {} };

/** Instructions a run forward after a step back takes at a time (a pause gets in between). */
const FORWARD_CHUNK = 5_000_000n;

/** Console bytes a worker keeps for `transcript()`. */
const TRANSCRIPT_BYTES = 8 * 1024 * 1024;


function crashInfo(r: CrashReport, instructionBase: number): CrashInfo {
  const t = r.lastTrap;
  return {
    pc: hex(r.pc),
    priv: r.priv,
    instructions: instructionBase + Number(r.instructions),
    lastTrap: { cause: String(t.cause & 0xffn), kind: t.cause >> 63n ? 'interrupt' : 'exception', pc: hex(t.pc), tval: hex(t.tval), count: Number(t.count) },
    summary: formatCrashReport(r),
  };
}

class VmWorker implements VmWorkerApi {
  private vm: Vm | undefined;
  private spec: VmBootSpec | undefined;
  private disk: GuestDisk | undefined;
  private folder: SharedFolder | undefined;
  /** The disk's virtio serial: the appliance's name, as the CLI gives it. */
  private diskSerial = 'romvisor-disk';
  /** The data disk (spec.dataDisk); its failures are reported through `disk`'s. */
  private dataDisk: GuestDisk | undefined;
  /** What the system disk's repository images fetched (the card's streaming line). */
  private remoteMeter: RemoteDiskMeter | undefined;
  private ring: ConsoleRing | undefined;
  private bootImages: LinuxBootImages | undefined;
  private emit: (event: VmWorkerEvent) => void = () => {};
  private readonly pendingOutput: Uint8Array[] = [];
  private paused = false;
  private quotaPaused = false;
  private stopped = false;
  private readonly guestLoop = new GuestLoop();
  /** The channel to the server's switch (spec.net): frames as transferred ArrayBuffers. */
  private netPort: MessagePort | undefined;
  /** Frames from the switch taken since the last acknowledgement (the page's credit, see ServerNetwork). */
  private netTaken = 0;
  /** A deterministic scenario guest in lockstep (spec.net.lockstep): it runs only the quanta the page posts. */
  private lockstep = false;
  /** Quanta the page posted that have not started yet. */
  private readonly quanta: LockstepQuantum[] = [];
  /** The end of the quantum being run; a pause (a breakpoint) may hold it halfway. */
  private quantumEnd: bigint | undefined;
  /** Frames the guest sent during the current quantum, for the reply. */
  private quantumFrames: ArrayBuffer[] = [];
  /** When console output last went to the page (lockstep posts it at most once per SLICE_MS). */
  private consoleAt = 0;
  private loopDone: Promise<void> = Promise.resolve();
  /** The teaching views' window into the current Vm (a new one after each reset or reboot). */
  private inspector: VmInspector | undefined;
  /** The debugger's breakpoint (its page never runs compiled code), for the JIT panel. */
  private breakpoint: bigint | undefined;
  /** The loop is inside a turn (it runs the machine); debugger operations wait for it to end. */
  private turning = false;
  /** Step back's checkpoints and input log (deterministic machines; see noRewind). */
  private rewind: Rewind | undefined;
  private player: ConsoleScriptPlayer | undefined;
  /** The page terminal's latest size (realtime guests follow it, across resets too). */
  private terminalSize: ConsoleSize | undefined;
  private readonly transcriptChunks: Uint8Array[] = [];
  private transcriptBytes = 0;
  private transcriptAtScriptEnd: number | undefined;

  // Readout bookkeeping.
  private instructionBase = 0;
  private poweredOnAt = 0;
  private pausedMs = 0;
  private pausedAt: number | undefined;
  private statsAt = 0;
  private statsInstructions = 0;
  private busyMs = 0;

  async boot(spec: VmBootSpec, events: (event: VmWorkerEvent) => void, consoleRing?: SharedArrayBuffer): Promise<void> {
    if (this.vm) throw new Error('this worker already runs a VM');
    this.spec = spec;
    this.emit = events;
    if (consoleRing) this.ring = new ConsoleRing(consoleRing);
    if (spec.disk) {
      this.remoteMeter = new RemoteDiskMeter((disk) => this.emit({ kind: 'remote-disk', disk }));
      this.disk = await GuestDisk.open(spec.disk, this.remoteMeter);
    }
    if (spec.dataDisk) this.dataDisk = await GuestDisk.open({ childImageId: spec.dataDisk.imageId });
    if (spec.share) this.folder = await SharedFolder.open(spec.share.vmId, (state) => this.emit({ kind: 'share', state }));
    if (spec.net) this.connectNet(spec.net.port, spec.net.lockstep === true);
    this.vm = (spec.restore && (await this.resumeVm(spec.restore))) || (await this.createVm());
    if (spec.script) {
      // Like `romvisor boot --script`: fed inside the console callback, polled after each run().
      this.player = new ConsoleScriptPlayer(spec.script, {
        send: (t) => this.toGuest(new TextEncoder().encode(t)),
        guestMs: () => this.vm?.guestMs ?? 0,
        hostMs: () => performance.now(),
      });
    }
    this.poweredOnAt = this.statsAt = performance.now();
    this.loopDone = this.loop();
  }

  /**
   * Frames from the switch go into the card's bounded receive queue between runs (this
   * handler never runs inside `vm.run`, which is synchronous) and wake an idle guest. While
   * the machine is being replaced (reset, reboot) there is no card: the frame is lost, as on
   * a real wire.
   */
  private connectNet(port: MessagePort, lockstep: boolean): void {
    this.netPort = port;
    this.lockstep = lockstep;
    if (lockstep) {
      // The page's quanta, in order; the loop runs them (see runQuantum).
      port.onmessage = (e: MessageEvent) => {
        const q = e.data as LockstepQuantum;
        if (typeof q?.boundary !== 'bigint' || !Array.isArray(q.frames)) return;
        this.quanta.push(q);
        this.guestLoop.wake();
      };
      port.start();
      return;
    }
    port.onmessage = (e: MessageEvent) => {
      const data: unknown = e.data;
      if (!(data instanceof ArrayBuffer)) return;
      // Taken off the channel, kept by the card or dropped and counted by it.
      this.netTaken++;
      const nic = this.vm?.netDevice;
      // Step back logs it with its instruction, to give it again on the way forward.
      if (this.rewind) this.rewind.receiveFrame(new Uint8Array(data));
      else if (nic) nic.receive(new Uint8Array(data));
      this.guestLoop.wake();
    };
    port.start();
  }

  input(bytes: Uint8Array): void {
    this.toGuest(bytes);
    this.guestLoop.wake();
  }

  /** Console input, through step back's log when the machine has one. */
  private toGuest(bytes: Uint8Array): void {
    if (this.rewind) this.rewind.sendInput(bytes);
    else this.vm?.sendInput(bytes);
  }

  resize(size: ConsoleSize): void {
    if (!validSize(size)) return;
    this.terminalSize = { cols: size.cols, rows: size.rows };
    if (this.spec?.consoleSize) return;
    // A deterministic Vm ignores it; a realtime guest is interrupted and resizes its tty.
    this.vm?.resizeConsole(this.terminalSize);
    this.guestLoop.wake();
  }

  /**
   * Suspend: the guest is paused and its machine captured between two runs, as a state file.
   * Nothing stops here: the page shuts the worker down next (committing the disk), or, when
   * the machine cannot be saved, the guest runs on as it was.
   */
  async suspend(opts: { deflate?: boolean } = {}): Promise<{ state: Uint8Array } | { refused: string }> {
    const vm = this.vm;
    if (!vm || this.stopped) return { refused: 'the VM is not running' };
    if (this.lockstep || this.spec?.bareKernel) return { refused: 'a scenario guest or a bare kernel is not suspended' };
    const wasPaused = this.paused;
    this.pause();
    try {
      const state = await vm.captureState();
      // The page keeps the disk's identity beside the state (DiskIdentity), not files by path.
      const bytes = await encodeMachineState(state, { disks: state.shape.disks.map(() => ({ chain: [] })), deflate: opts.deflate });
      this.postConsole();
      return { state: bytes };
    } catch (e) {
      if (!wasPaused) await this.resume();
      if (e instanceof StateError) return { refused: e.message };
      throw e;
    }
  }

  async suspendToStore(vmId: string, console: Uint8Array, done: SharedArrayBuffer): Promise<void> {
    // Chromium gives a closing tab about half a second: the state is stored as soon as it
    // is taken, before the shutdown. The disk needs no commit first: every write the guest
    // started was committed (relaxed) before its completion, and the capture settled them
    // all, so the disk's identity now is the one it keeps.
    const t0 = performance.now();
    let opened: ImageStore | undefined;
    try {
      // Uncompressed: deflating the RAM is most of a save's time, storing it a small part.
      const taken = await this.suspend({ deflate: false });
      if ('refused' in taken) return settlePageHide(done, PAGEHIDE_FAILED, taken.refused);
      const t1 = performance.now();
      const disk = this.spec?.disk;
      const childImageId = disk && 'childImageId' in disk ? disk.childImageId : undefined;
      const store = this.disk?.store ?? (opened = await ImageStore.open(undefined, { removeAbandoned: false }));
      const disks = await store.vmDiskIdentities({ diskImageId: childImageId, dataImageId: this.spec?.dataDisk?.imageId });
      await store.putSuspended({ vmId, state: taken.state, ...disks, console, takenAt: Date.now() }, 'relaxed');
      settlePageHide(done, PAGEHIDE_SAVED, `captured in ${Math.round(t1 - t0)} ms, stored in ${Math.round(performance.now() - t1)} ms, ${taken.state.length} bytes`);
    } catch (e) {
      settlePageHide(done, PAGEHIDE_FAILED, (e as Error).message);
    } finally {
      opened?.dispose();
    }
    // If the page is still there (a back/forward cache), the worker stops as after Suspend.
    await this.shutdown().catch(() => {});
  }

  /** Whether the guest was paused before a snapshot paused it (it stays so after). */
  private pausedBeforeFreeze = false;

  async freezeForSnapshot(withState: boolean): Promise<{ state?: Uint8Array } | { refused: string }> {
    const vm = this.vm;
    if (!vm || this.stopped) return { refused: 'the VM is not running' };
    if (!this.disk || !this.spec?.disk || !('childImageId' in this.spec.disk)) return { refused: 'only a VM with its own disk has snapshots' };
    this.pausedBeforeFreeze = this.paused;
    this.pause();
    try {
      let state: Uint8Array | undefined;
      if (withState) {
        const s = await vm.captureState();
        state = await encodeMachineState(s, { disks: s.shape.disks.map(() => ({ chain: [] })) });
      } else {
        // What the guest wrote must be in the frozen disk: every request it started lands first.
        for (let p = vm.pendingWork(); p; p = vm.pendingWork()) await p;
      }
      await this.disk.flush();
      // The data disk is frozen with it: its writes must be in the frozen image too.
      await this.dataDisk?.flush();
      this.postConsole();
      return state ? { state } : {};
    } catch (e) {
      if (!this.pausedBeforeFreeze) await this.resume();
      if (e instanceof StateError) return { refused: e.message };
      throw e;
    }
  }

  async thawAfterSnapshot(childImageId: string | undefined, dataImageId?: string): Promise<void> {
    // A failed switch throws with the guest still paused: it must not write on into the
    // frozen disk, so the page stops it.
    if (childImageId) await this.disk?.switchTo(childImageId);
    if (dataImageId) await this.dataDisk?.switchTo(dataImageId);
    // A suspend on pagehide names the disks the guest writes now, not the frozen ones.
    if (this.spec && childImageId) this.spec = { ...this.spec, disk: { childImageId }, ...(dataImageId ? { dataDisk: { imageId: dataImageId } } : {}) };
    if (!this.pausedBeforeFreeze) await this.resume();
  }

  /**
   * The machine of a suspended VM, from its state file, or undefined (with the reason on the
   * console) when the state does not fit: the VM then boots from its disk.
   */
  private async resumeVm(file: Uint8Array): Promise<Vm | undefined> {
    let vm: Vm | undefined;
    try {
      const { state } = await decodeMachineState(file);
      vm = await this.createVm(state);
      return vm;
    } catch (e) {
      await vm?.dispose().catch(() => {});
      if (this.spec?.restoreOnly) throw e;
      const note = `[romvisor] the suspended state could not be resumed (${(e as Error).message}); booting from the disk`;
      this.pendingOutput.push(new TextEncoder().encode(`\x1b[33m${note}\x1b[0m\r\n`));
      return undefined;
    }
  }

  /** The console size a new Vm starts with: fixed, 80x24 in deterministic time, or the terminal's. */
  private consoleSize(spec: VmBootSpec): ConsoleSize {
    if (spec.consoleSize && validSize(spec.consoleSize)) return spec.consoleSize;
    if (spec.timeMode === 'deterministic') return { ...DEFAULT_CONSOLE_SIZE };
    const t = this.terminalSize ?? spec.terminalSize;
    return t && validSize(t) ? t : { ...DEFAULT_CONSOLE_SIZE };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = performance.now();
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    // After a full quota: the writes held in memory go first, or the guest stays paused.
    if (this.quotaPaused) {
      await this.disk?.flush();
      await this.dataDisk?.flush();
      this.quotaPaused = false;
      // Requests that stalled after the pause was decided left their own record of the same
      // full quota; space is back now, so it must not pause the guest a second time.
      this.disk?.clearFailure();
      // The guest's requests that waited on the quota go now (they may stall again).
      this.disk?.retry();
    }
    this.paused = false;
    if (this.pausedAt !== undefined) this.pausedMs += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
    this.inspector?.continuePastBreakpoint();
    // Guest time stood still while paused, as QEMU's clock does while its VM is stopped.
    this.vm?.resumeClock();
    // The pause is not running time on the timeline.
    this.inspector?.beforeSlice(performance.now());
    this.guestLoop.wake();
  }

  async reset(): Promise<void> {
    if (!this.vm) return;
    const old = this.vm;
    this.vm = undefined;
    this.instructionBase += Number(old.core.instructions);
    await this.quiesce(old);
    this.vm = await this.createVm();
    this.resume();
    this.guestLoop.wake();
  }

  async shutdown(): Promise<Uint8Array[] | undefined> {
    this.stopped = true;
    this.guestLoop.wake();
    await this.loopDone;
    // A lockstep guest that is switched off leaves its run: the others go on without it.
    if (this.lockstep) this.replyQuantum(true);
    this.netPort?.close();
    this.netPort = undefined;
    if (this.vm) await this.vm.dispose();
    // A flush refused for lack of space rejects here, and the page keeps this worker
    // (and the writes it holds) alive.
    await this.disk?.flush();
    // What the run fetched to the last byte, before the page stops listening.
    this.remoteMeter?.flush();
    this.remoteMeter?.dispose();
    await this.disk?.dispose();
    this.disk = undefined;
    await this.dataDisk?.flush();
    await this.dataDisk?.dispose();
    this.dataDisk = undefined;
    // Refused for lack of space like the disk: the page keeps the worker and the folder.
    await this.folder?.flush();
    this.folder?.dispose();
    this.folder = undefined;
    return this.bareDriveBytes();
  }

  shareFiles(): SharedFileInfo[] {
    return this.folder?.share.summary() ?? [];
  }

  shareRead(path: string): Uint8Array {
    if (!this.folder) throw new Error('this VM has no shared folder');
    return this.folder.share.readFile(path);
  }

  async shareAdd(files: SharedFileUpload[]): Promise<SharedFolderState> {
    if (!this.folder) throw new Error('this VM has no shared folder');
    // All or nothing: the bounds are checked on a copy first, so a refused drop leaves no half.
    const trial = new MemoryShare({ maxBytes: SHARE_MAX_BYTES, maxObjects: SHARE_MAX_OBJECTS });
    trial.load(this.folder.share.entries());
    for (const f of files) trial.putFile(f.path, f.data);
    for (const f of files) this.folder.share.putFile(f.path, f.data);
    await this.folder.flush().catch(() => {});
    return this.folder.state;
  }

  crashReport(): CrashInfo {
    if (!this.vm) throw new Error('no VM has been booted in this worker');
    return crashInfo(this.vm.crashReport(), this.instructionBase);
  }

  /** A bare kernel's drives, opened once: their writes stay across resets, as in a file under QEMU. */
  private bareDisks: VmDisk[] | undefined;
  /** Their bytes (a VHD's file, not its contents). */
  private bareFiles: { backend: MemoryBackend; vhd?: VhdDisk }[] = [];

  private async createVm(restored?: VmState): Promise<Vm> {
    const spec = this.spec!;
    this.rewind = undefined;
    const vm = spec.bareKernel ? await this.createBareKernelVm(spec, spec.bareKernel) : await this.createLinuxVm(spec, restored);
    const sink = (bytes: Uint8Array) => this.onGuestOutput(bytes);
    // Set by createLinuxVm for a machine that can step back.
    const rewind = this.rewind as Rewind | undefined;
    if (rewind) {
      rewind.onConsole(sink);
      await rewind.checkpoint();
    } else vm.onConsole(sink);
    this.inspector?.dispose();
    this.inspector = new VmInspector(vm, { rewind, noRewind: this.noRewind(spec) });
    this.breakpoint = undefined;
    return vm;
  }

  /** Why this machine has no step back (undefined when it has). */
  private noRewind(spec: VmBootSpec): string | undefined {
    if (spec.timeMode !== 'deterministic') return 'step back needs deterministic time; this VM runs in realtime (its time mode is set when it is created)';
    if (spec.share) return 'step back cannot take a shared folder back (its files live in the browser, outside the machine)';
    return undefined;
  }

  /** The same machine as `romvisor boot --bios none --kernel ELF --drive ...` (bareKernelVmConfig). */
  private async createBareKernelVm(spec: VmBootSpec, k: BareKernelSpec): Promise<Vm> {
    const elf = ElfImage.parse(k.elf, k.name);
    this.bareDisks ??= await Promise.all(
      k.drives.map(async (d, slot): Promise<VmDisk> => {
        const backend = new MemoryBackend(d.bytes, { readOnly: d.readOnly, maxSize: d.format === 'raw' ? d.bytes.length : undefined });
        const vhd = d.format === 'vhd' ? await VhdDisk.open(backend, { readOnly: d.readOnly }) : undefined;
        this.bareFiles[slot] = { backend, vhd };
        return { disk: vhd ?? backend, readOnly: d.readOnly, slot, serial: d.name.slice(0, 20) };
      }),
    );
    // Step back: each drive behind an undo log of this machine's own (a reset starts a new one).
    const undo = this.noRewind(spec) === undefined ? this.bareDisks.map((d) => new UndoLogDisk(d.disk)) : undefined;
    const disks = undo ? this.bareDisks.map((d, i) => ({ ...d, disk: undo[i]! })) : this.bareDisks;
    const vm = await Vm.create(
      spec.module,
      bareKernelVmConfig({ elf, ramBytes: spec.ramBytes, harts: spec.harts, timeMode: spec.timeMode, jit: spec.jit, bootargs: k.bootargs, disks }),
    );
    if (undo) this.rewind = new Rewind(vm, undo);
    return vm;
  }

  private async createLinuxVm(spec: VmBootSpec, restored?: VmState): Promise<Vm> {
    // Read even for a resume: the disk's serial and the console wiring make the machine's shape.
    this.bootImages ??= await this.resolveBootImages(spec);
    // Step back: every write keeps what it overwrote, so a checkpoint's disk can come back.
    const rewindable = this.noRewind(spec) === undefined;
    const undo = rewindable && this.disk ? new UndoLogDisk(this.disk.device) : undefined;
    const vm = await Vm.create(spec.module, {
      ramBytes: spec.ramBytes,
      harts: spec.harts,
      timeMode: spec.timeMode,
      jit: spec.jit,
      boot: restored ? NO_LOADER : linuxLoader(this.bootImages),
      console: this.consoleSize(spec),
      guestConsole: guestConsoleOf(this.bootImages.bootargs),
      // The data disk on the next slot down (/dev/vdb: Linux names the disks from the top slot).
      disks: this.disk ? [{ disk: undo ?? this.disk.device, serial: this.diskSerial }, ...(this.dataDisk ? [{ disk: this.dataDisk.device, serial: `${this.diskSerial}-data`.slice(0, 20) }] : [])] : undefined,
      share: this.folder?.server,
      net: spec.net ? { mac: spec.netMac ? Uint8Array.from(spec.netMac.match(/../g) ?? [], (x) => parseInt(x, 16)) : macFromName(spec.net.name) } : undefined,
    });
    if (restored) {
      try {
        // Checks everything before it changes anything: a refusal leaves a machine to drop.
        vm.applyState(restored);
      } catch (e) {
        await vm.dispose().catch(() => {});
        throw e;
      }
    }
    this.disk?.attach(vm);
    if (rewindable) this.rewind = new Rewind(vm, undo ? [undo] : []);
    const port = this.netPort;
    if (vm.netDevice && port) {
      const transmit = (frame: Uint8Array) => {
        // The buffer moves to the page; a view into a larger buffer is copied out first.
        const own = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : frame.slice();
        // Lockstep: kept for the quantum's reply (the switch bounds what crosses, as in the CLI).
        if (this.lockstep) this.quantumFrames.push(own.buffer as ArrayBuffer);
        else port.postMessage(own.buffer, [own.buffer as ArrayBuffer]);
      };
      // Step back drops what a replay transmits again.
      if (this.rewind) this.rewind.onTransmit = transmit;
      else vm.netDevice.onTransmit = transmit;
    }
    return vm;
  }

  private onGuestOutput(bytes: Uint8Array): void {
    this.pendingOutput.push(bytes);
    if (this.spec?.keepTranscript && this.transcriptBytes + bytes.length <= TRANSCRIPT_BYTES) {
      this.transcriptChunks.push(bytes.slice());
      this.transcriptBytes += bytes.length;
    }
    this.player?.feed(new TextDecoder('latin1').decode(bytes));
  }

  scriptProgress(): ScriptProgress | undefined {
    const p = this.player;
    if (!p) return undefined;
    return { results: [...p.results], current: p.currentStep, done: p.done, failed: p.failed };
  }

  transcript(): ConsoleTranscript {
    const bytes = new Uint8Array(this.transcriptBytes);
    let n = 0;
    for (const c of this.transcriptChunks) {
      bytes.set(c, n);
      n += c.length;
    }
    return { bytes, atScriptEnd: this.transcriptAtScriptEnd };
  }

  // --- the teaching views: VmInspector over comlink ---
  timeline() { return this.ins().timeline(); }
  traps(maxRecent?: number) { return this.ins().traps(maxRecent); }
  snapshot() { return this.ins().snapshot(); }
  explain(va: bigint, access: AccessType, priv?: Privilege) { return this.ins().explain(va, access, priv); }
  step() { return this.whilePaused(() => this.ins().step()); }
  stepUntilTrap(maxInsns?: number) { return this.whilePaused(() => this.ins().stepUntilTrap(maxInsns)); }
  runUntilPrivChange(maxInsns?: number) { return this.whilePaused(() => this.ins().runUntilPrivChange(maxInsns)); }
  stepBack() { return this.whilePaused(() => this.back(() => this.ins().stepBack())); }
  runBackToTrap() { return this.whilePaused(() => this.back(() => this.ins().runBackToTrap())); }
  runBackToPrivChange() { return this.whilePaused(() => this.back(() => this.ins().runBackToPrivChange())); }
  backToTrap(seq: number) { return this.whilePaused(() => this.back(() => this.ins().backToTrap(seq))); }
  stepBackInfo() { return this.ins().stepBackInfo(); }

  /**
   * A step back, then the terminal redrawn as it was at that instruction: a full reset
   * (ESC c) and the console's bytes up to there, through the ordinary console channel.
   */
  private async back<T>(op: () => Promise<T>): Promise<T> {
    const r = await op();
    this.pendingOutput.length = 0;
    this.pendingOutput.push(new TextEncoder().encode('\x1bc'), this.rewind!.consoleOutput());
    return r;
  }
  setBreakpoint(pc: bigint | undefined) {
    this.ins().setBreakpoint(pc);
    this.breakpoint = pc;
  }
  jitView() {
    const inspector = this.ins();
    if (!this.vm) throw new Error('the VM is rebooting');
    const core = this.vm.core;
    return jitView(core, inspector.explain(core.pc, 'fetch').translation.pa, this.breakpoint);
  }
  continuePastBreakpoint() { this.ins().continuePastBreakpoint(); }
  setTrapLogFilter(filter: TrapLogFilter) { this.ins().setTrapLogFilter(filter); }

  private ins(): VmInspector {
    if (!this.inspector) throw new Error('no VM has been booted in this worker');
    return this.inspector;
  }

  /** Debugger operations run the guest themselves: the loop is parked first (it only runs between calls). */
  private async whilePaused<T>(op: () => Promise<T>): Promise<T> {
    this.pause();
    // A turn the loop is in (a quantum waiting on the disk, a checkpoint) ends before the operation touches the machine.
    this.guestLoop.wake();
    while (this.turning) await new Promise((r) => setTimeout(r, 1));
    const r = await op();
    this.postConsole();
    this.postStats(true);
    return r;
  }

  /** A RAM appliance brings its images; a disk appliance boots from its boot partition. */
  private async resolveBootImages(spec: VmBootSpec): Promise<LinuxBootImages> {
    const images = await this.chooseBootImages(spec);
    return spec.extraBootargs ? { ...images, bootargs: `${images.bootargs} ${spec.extraBootargs}` } : images;
  }

  private async chooseBootImages(spec: VmBootSpec): Promise<LinuxBootImages> {
    const firmware = spec.firmware;
    if (!firmware) throw new Error('a Linux guest needs the firmware (OpenSBI)');
    if (spec.ram) return { firmware, ...spec.ram };
    if (!this.disk) throw new Error('a VM needs either RAM boot images or a disk');
    try {
      // The same reader, checks and errors as `romvisor boot IMAGE`.
      const boot = await readApplianceBoot(this.disk.disk);
      this.diskSerial = boot.manifest.name;
      return { firmware, ...boot.images };
    } catch (e) {
      if (!spec.rescue) throw e;
      const note = `[romvisor] this disk has nothing to boot (${(e as Error).message}); booting the built-in BusyBox Linux with it as /dev/vda`;
      this.pendingOutput.push(new TextEncoder().encode(`\x1b[33m${note}\x1b[0m\r\n`));
      return { firmware, ...spec.rescue };
    }
  }

  /** Lets in-flight disk work finish, then commits it: what reset, reboot and power-off share. */
  private async quiesce(vm: Vm): Promise<void> {
    await vm.dispose();
    await this.disk?.flush();
    await this.dataDisk?.flush();
    // The next machine's guest starts a new 9P session.
    await this.folder?.server.reset();
    await this.folder?.flush().catch(() => {});
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const vm = this.vm;
      // Behind its horizon after a step back, a lockstep guest goes forward between quanta too.
      const between = this.lockstep && this.quantumEnd === undefined && this.quanta.length === 0 && !this.rewind?.behind;
      if (this.paused || !vm || between) {
        // Between quanta the page's next one wakes the loop; paused, a resume does.
        this.postConsole(!between);
        this.postStats(!between);
        this.ackNet();
        await this.guestLoop.sleep(STATS_MS);
        continue;
      }
      this.turning = true;
      try {
        await this.turn(vm);
      } finally {
        this.turning = false;
      }
    }
  }

  /** One turn of the loop: a run (or a quantum, or a step forward after a step back) and what follows it. */
  private async turn(vm: Vm): Promise<void> {
    if (this.rewind?.behind) {
      await this.forwardChunk(vm);
      return;
    }
    if (this.lockstep) {
      await this.runQuantum(vm);
      return;
    }
    // After a step back, a run ends where the log's next input is due.
    const due = this.rewind?.runLimit();
    const outcome = this.runOnce(vm, { maxMs: SLICE_MS, ...(due !== undefined ? { maxInsns: due } : {}) });
    if (!outcome) return;
    await this.rewind?.afterRun();
    this.afterRun(vm, outcome, GuestLoop.settled(vm, outcome));
    switch (outcome.kind) {
      case 'running':
      case 'budget':
      case 'debug':
      case 'idle':
        // A debugger stop (breakpoint) pauses above; trap and mode stops are the inspector's own.
        // Idle: sleep until the timer is due, a key arrives, or a disk request settles;
        // output still waiting for room in the console ring is retried soon.
        await this.guestLoop.rest(vm, outcome, this.pendingOutput.length ? SLICE_MS : STATS_MS);
        break;
      case 'poweroff':
      case 'crashed':
      case 'reboot':
        await this.guestEnded(vm, outcome);
        break;
    }
    if (this.disk?.failure) this.onDiskFailure(vm);
  }

  /**
   * After a step back, running on goes forward through the log to where the machine had
   * been (its output shown again), in chunks so that a pause gets in between.
   */
  private async forwardChunk(vm: Vm): Promise<void> {
    const t0 = performance.now();
    this.inspector?.beforeSlice(t0);
    try {
      await this.rewind!.forward(vm.core.instructions + FORWARD_CHUNK);
    } catch (e) {
      this.postConsole();
      this.emitStopped({ cause: 'fault', message: `emulator fault while going forward after a step back: ${(e as Error).message}`, crash: crashInfo(vm.crashReport(), this.instructionBase) });
      this.stopped = true;
      return;
    }
    this.busyMs += performance.now() - t0;
    this.afterRun(vm, { kind: 'running' }, false);
    await this.guestLoop.rest(vm, { kind: 'running' }, 0);
  }

  /**
   * One lockstep quantum (src/net/Lockstep.ts, the step `romvisor boot` runs): the frames
   * the page brought go into the card, the guest runs to the quantum's end, and the page
   * gets what it sent. The same run and judge points as the CLI's, so the console bytes
   * and the place a finished script ends are the same. A pause (a breakpoint, the user)
   * holds the quantum halfway, and with it the whole scenario, until the guest resumes.
   */
  private async runQuantum(vm: Vm): Promise<void> {
    if (this.quantumEnd === undefined) {
      const q = this.quanta.shift()!;
      this.quantumEnd = q.boundary;
      const frames = q.frames.map((f) => new Uint8Array(f));
      // Step back logs them with their instruction, and the quantum's limit with them.
      if (this.rewind) for (const f of frames) this.rewind.receiveFrame(f);
      else deliverFrames(vm, frames);
    }
    this.rewind?.setTimeLimit(this.quantumEnd);
    let end: RunOutcome | undefined;
    const reached = await runToBoundary(vm, this.quantumEnd, {
      run: (opts) => this.runOnce(vm, opts),
      after: (outcome, settled) => {
        this.afterRun(vm, outcome, settled);
        if (outcome.kind === 'poweroff' || outcome.kind === 'crashed' || outcome.kind === 'reboot') end = outcome;
        return end !== undefined || this.paused || this.stopped;
      },
      turn: () => this.guestLoop.rest(vm, { kind: 'running' }, 0),
    });
    await this.rewind?.afterRun();
    if (this.disk?.failure) this.onDiskFailure(vm);
    if (reached) {
      this.quantumEnd = undefined;
      this.replyQuantum(false);
    } else if (end) {
      this.quantumEnd = undefined;
      this.replyQuantum(true);
      await this.guestEnded(vm, end);
    } else if (this.stopped) {
      // An emulator fault (runOnce said so) or a disk error.
      this.replyQuantum(true);
    }
  }

  /** The quantum's frames to the page (transferred); `ended`: this guest runs no more quanta. */
  private replyQuantum(ended: boolean): void {
    const frames = this.quantumFrames;
    this.quantumFrames = [];
    const reply: LockstepReply = { frames, ended };
    this.netPort?.postMessage(reply, frames);
  }

  /** One run of the guest; undefined after an emulator fault (reported, the loop ends). */
  private runOnce(vm: Vm, opts: RunOptions): RunOutcome | undefined {
    const t0 = performance.now();
    this.inspector?.beforeSlice(t0);
    try {
      const outcome = vm.runUntil(opts);
      this.busyMs += performance.now() - t0;
      return outcome;
    } catch (e) {
      this.postConsole();
      const crash = crashInfo(vm.crashReport(), this.instructionBase);
      this.emitStopped({ cause: 'fault', message: `emulator fault: ${(e as Error).message}`, crash });
      this.stopped = true;
      return undefined;
    }
  }

  /** After each run: breakpoints, the script, the shared folder, output and readouts to the page. */
  private afterRun(vm: Vm, outcome: RunOutcome, settled: boolean): void {
    for (const ev of this.inspector?.afterSlice(performance.now()) ?? []) {
      if (ev.kind !== 'breakpoint') continue;
      this.pause();
      this.emit({ kind: 'paused', reason: 'breakpoint', message: `stopped at the breakpoint ${hex(ev.pc)} (${ev.priv}-mode); that instruction has not run yet` });
    }
    this.player?.poll();
    this.folder?.tick(performance.now());
    // Where `romvisor boot SCENARIO.json` stops: the script is done and the guest idles with nothing left to take.
    if (this.player?.done && this.transcriptAtScriptEnd === undefined && settled) {
      this.transcriptAtScriptEnd = this.transcriptBytes;
    }
    this.postConsole(!this.lockstep);
    this.postStats(false);
    this.ackNet();
  }

  /**
   * The guest powered off, crashed or rebooted. A reboot starts a new machine, except in
   * lockstep: its guest time would start again at 0 behind the others', so it ends there, as
   * `romvisor boot` ends a rebooting guest.
   */
  private async guestEnded(vm: Vm, outcome: RunOutcome): Promise<void> {
    this.postConsole();
    switch (outcome.kind) {
      case 'poweroff':
        this.stopped = true;
        try {
          await this.quiesce(vm);
          this.emitStopped({ cause: 'poweroff', message: 'the guest powered off' });
        } catch (e) {
          this.emitStopped({ cause: 'disk-error', message: `the guest powered off, but its last writes could not be saved: ${(e as Error).message}` });
        }
        break;
      case 'crashed':
        this.stopped = true;
        await this.quiesce(vm).catch(() => {});
        this.emitStopped({ cause: 'crashed', message: 'the guest crashed: it is stuck repeating one fault', crash: crashInfo(outcome.report, this.instructionBase) });
        break;
      case 'reboot':
        if (this.lockstep) {
          this.stopped = true;
          await this.quiesce(vm).catch(() => {});
          this.emitStopped({ cause: 'poweroff', message: 'the guest rebooted; a guest of a deterministic scenario stops there' });
          break;
        }
        this.instructionBase += Number(vm.core.instructions);
        this.vm = undefined;
        await this.quiesce(vm).catch(() => {});
        this.vm = await this.createVm();
        this.emit({ kind: 'rebooted' });
        break;
      default:
        break;
    }
  }

  /**
   * The guest is gone, and with it the worker's answers: the console script's last state
   * goes with the news, so a guest that powers off right after its last step still passes.
   */
  private emitStopped(ev: Omit<Extract<VmWorkerEvent, { kind: 'stopped' }>, 'kind' | 'script' | 'drives'>): void {
    // The last readout first: a run shorter than STATS_MS would show none.
    this.postStats(true);
    this.remoteMeter?.flush();
    void this.bareDriveBytes().then(
      (drives) => this.emit({ kind: 'stopped', ...ev, script: this.scriptProgress(), drives }),
      () => this.emit({ kind: 'stopped', ...ev, script: this.scriptProgress() }),
    );
  }

  /** A bare kernel's drive files as the guest left them (a VHD's metadata written out first). */
  private async bareDriveBytes(): Promise<Uint8Array[] | undefined> {
    if (!this.bareDisks) return undefined;
    for (const f of this.bareFiles) await f.vhd?.flush();
    return this.bareFiles.map((f) => f.backend.bytes());
  }

  /** A failed disk request: a full quota pauses (nothing is lost), anything else stops. */
  private onDiskFailure(vm: Vm): void {
    const f = this.disk!.failure!;
    this.disk!.clearFailure();
    if (f.quota) {
      this.pause();
      this.quotaPaused = true;
      this.emit({ kind: 'paused', reason: 'quota', message: f.message });
    } else if (!this.stopped) {
      this.stopped = true;
      this.emitStopped({ cause: 'disk-error', message: f.message, crash: crashInfo(vm.crashReport(), this.instructionBase), ...(f.noAnswerUrl ? { noAnswerUrl: f.noAnswerUrl } : {}) });
    }
  }

  /** Gives the page its credit back for the frames taken since the last slice. */
  private ackNet(): void {
    if (this.netTaken === 0 || !this.netPort) return;
    this.netPort.postMessage(this.netTaken);
    this.netTaken = 0;
  }

  /**
   * Console output to the page. Lockstep runs (1 ms of guest time each) post it at most once
   * per SLICE_MS unless `now`, so a busy guest does not send the page a message per quantum.
   */
  private postConsole(now = true): void {
    if (this.pendingOutput.length === 0) return;
    const t = performance.now();
    if (!now && t - this.consoleAt < SLICE_MS) return;
    this.consoleAt = t;
    let bytes: Uint8Array;
    if (this.pendingOutput.length === 1) {
      bytes = this.pendingOutput[0]!;
    } else {
      let n = 0;
      for (const b of this.pendingOutput) n += b.length;
      bytes = new Uint8Array(n);
      n = 0;
      for (const b of this.pendingOutput) {
        bytes.set(b, n);
        n += b.length;
      }
    }
    this.pendingOutput.length = 0;
    if (this.ring) {
      // What does not fit waits here until the page has read the ring.
      const n = this.ring.write(bytes);
      if (n < bytes.length) this.pendingOutput.push(bytes.subarray(n));
      return;
    }
    // The buffer moves to the page; the worker never touches it again.
    this.emit(Comlink.transfer({ kind: 'console', bytes }, [bytes.buffer as ArrayBuffer]));
  }

  private postStats(force: boolean): void {
    const now = performance.now();
    const dt = now - this.statsAt;
    if (dt < STATS_MS && !force) return;
    if (dt <= 0) return;
    const vm = this.vm;
    if (!vm) return;
    const instructions = this.instructionBase + Number(vm.core.instructions);
    const r = vm.crashReport();
    const stats: VmRunStats = {
      instructions,
      mips: this.paused ? 0 : (instructions - this.statsInstructions) / dt / 1000,
      uptimeMs: now - this.poweredOnAt - this.pausedMs - (this.pausedAt !== undefined ? now - this.pausedAt : 0),
      busy: Math.min(1, this.busyMs / dt),
      pc: hex(r.pc),
      priv: r.priv,
      net: vm.netDevice ? { rxFrames: vm.netDevice.stats.rxFrames, txFrames: vm.netDevice.stats.txFrames, rxDropped: vm.netDevice.stats.rxDropped, txDropped: vm.netDevice.stats.txDropped } : undefined,
    };
    this.statsAt = now;
    this.statsInstructions = instructions;
    this.busyMs = 0;
    this.emit({ kind: 'stats', stats });
  }
}

Comlink.expose(new VmWorker());
