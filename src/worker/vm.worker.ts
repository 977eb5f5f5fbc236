/**
 * One guest VM in its own Web Worker: the same `Vm` the CLI runs, exposed to the page
 * with comlink as a `VmWorkerApi`. The loop runs the guest in ~16 ms slices, hands the
 * console output to the page after each slice, and sleeps (no busy loop) while the guest
 * waits for an interrupt, until its timer is due or a keystroke arrives.
 */
import * as Comlink from 'comlink';
import { formatCrashReport, Vm, type CrashReport } from '../machine/Vm.ts';
import type { CrashInfo, VmBootSpec, VmRunStats, VmWorkerApi, VmWorkerEvent } from './VmWorkerApi.ts';
import { GuestDisk } from './GuestDisk.ts';

/** Host time per run() call: one display frame, so keystrokes and output stay snappy. */
const SLICE_MS = 16;
/** How often the page hears the MIPS / uptime readout. */
const STATS_MS = 500;

const hex = (v: bigint) => `0x${v.toString(16)}`;

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

/** A zero-delay yield that is not clamped like nested setTimeout(0) is. */
function makeYield(): () => Promise<void> {
  const channel = new MessageChannel();
  let resolve: (() => void) | undefined;
  channel.port1.onmessage = () => resolve?.();
  return () =>
    new Promise<void>((r) => {
      resolve = r;
      channel.port2.postMessage(0);
    });
}

class VmWorker implements VmWorkerApi {
  private vm: Vm | undefined;
  private spec: VmBootSpec | undefined;
  private disk: GuestDisk | undefined;
  private emit: (event: VmWorkerEvent) => void = () => {};
  private readonly pendingOutput: Uint8Array[] = [];
  private paused = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly yieldTask = makeYield();

  // Readout bookkeeping.
  private instructionBase = 0;
  private poweredOnAt = 0;
  private pausedMs = 0;
  private pausedAt: number | undefined;
  private statsAt = 0;
  private statsInstructions = 0;
  private busyMs = 0;

  async boot(spec: VmBootSpec, events: (event: VmWorkerEvent) => void): Promise<void> {
    if (this.vm) throw new Error('this worker already runs a VM');
    this.spec = spec;
    this.emit = events;
    if (spec.disk) this.disk = await GuestDisk.open(spec.disk);
    this.vm = await this.createVm();
    this.poweredOnAt = this.statsAt = performance.now();
    this.loopDone = this.loop();
  }

  input(bytes: Uint8Array): void {
    this.vm?.sendInput(bytes);
    this.wake?.();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = performance.now();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.pausedAt !== undefined) this.pausedMs += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
    this.wake?.();
  }

  async reset(): Promise<void> {
    if (!this.vm) return;
    this.instructionBase += Number(this.vm.core.instructions);
    await this.disk?.flush();
    this.vm = await this.createVm();
    this.resume();
    this.wake?.();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    await this.disk?.flush();
    await this.disk?.dispose();
    this.disk = undefined;
  }

  crashReport(): CrashInfo {
    if (!this.vm) throw new Error('no VM has been booted in this worker');
    return crashInfo(this.vm.crashReport(), this.instructionBase);
  }

  private async createVm(): Promise<Vm> {
    const spec = this.spec!;
    const vm = await Vm.create(spec.module, { ramBytes: spec.ramBytes, timeMode: spec.timeMode, images: spec.images });
    this.disk?.attach(vm);
    vm.onConsole((bytes) => this.pendingOutput.push(bytes));
    return vm;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        this.postStats(true);
        await this.sleep(STATS_MS);
        continue;
      }
      const vm = this.vm!;
      const t0 = performance.now();
      let outcome;
      try {
        outcome = vm.run(SLICE_MS);
      } catch (e) {
        this.postConsole();
        const crash = crashInfo(vm.crashReport(), this.instructionBase);
        this.emit({ kind: 'stopped', cause: 'fault', message: `emulator fault: ${(e as Error).message}`, crash });
        this.stopped = true;
        break;
      }
      this.busyMs += performance.now() - t0;
      this.postConsole();
      this.postStats(false);
      switch (outcome.kind) {
        case 'running':
          await this.yieldTask();
          break;
        case 'idle':
          await this.sleep(Math.min(outcome.wakeInMs ?? STATS_MS, STATS_MS));
          break;
        case 'poweroff':
          this.stopped = true;
          await this.disk?.flush();
          this.emit({ kind: 'stopped', cause: 'poweroff', message: 'the guest powered off' });
          break;
        case 'reboot':
          this.instructionBase += Number(vm.core.instructions);
          await this.disk?.flush();
          this.vm = await this.createVm();
          this.emit({ kind: 'rebooted' });
          break;
      }
      // Disk completions the guest waits for (virtio-blk) settle while we await above.
      if (this.disk?.failure) {
        const f = this.disk.failure;
        if (f.quota) {
          this.pause();
          this.emit({ kind: 'paused', reason: 'quota', message: f.message });
        } else {
          this.stopped = true;
          this.emit({ kind: 'stopped', cause: 'disk-error', message: f.message, crash: crashInfo(vm.crashReport(), this.instructionBase) });
        }
        this.disk.clearFailure();
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private postConsole(): void {
    if (this.pendingOutput.length === 0) return;
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
    // The buffer moves to the page; the worker never touches it again.
    this.emit(Comlink.transfer({ kind: 'console', bytes }, [bytes.buffer as ArrayBuffer]));
  }

  private postStats(force: boolean): void {
    const now = performance.now();
    const dt = now - this.statsAt;
    if (dt < STATS_MS && !force) return;
    if (dt <= 0) return;
    const vm = this.vm!;
    const instructions = this.instructionBase + Number(vm.core.instructions);
    const r = vm.crashReport();
    const stats: VmRunStats = {
      instructions,
      mips: this.paused ? 0 : (instructions - this.statsInstructions) / dt / 1000,
      uptimeMs: now - this.poweredOnAt - this.pausedMs - (this.pausedAt !== undefined ? now - this.pausedAt : 0),
      busy: Math.min(1, this.busyMs / dt),
      pc: hex(r.pc),
      priv: r.priv,
    };
    this.statsAt = now;
    this.statsInstructions = instructions;
    this.busyMs = 0;
    this.emit({ kind: 'stats', stats });
  }
}

Comlink.expose(new VmWorker());
