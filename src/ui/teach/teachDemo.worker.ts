/**
 * A minimal VM worker for the teaching views' demo page and browser test: one realtime
 * guest, a run loop of ~16 ms slices with the VmInspector told about each, pause/resume,
 * and the inspector's methods over comlink. The page's real worker (src/worker/) is richer
 * (disks, reboot, quotas); it exposes the same inspector methods.
 */
import * as Comlink from 'comlink';
import type { AccessType, Privilege } from '../../machine/InspectorTypes.ts';
import { Vm } from '../../machine/Vm.ts';
import { linuxLoader } from '../../boot/linuxBoot.ts';
import { VmInspector } from '../../machine/VmInspector.ts';
import type { TeachDemoApi, TeachDemoBoot, TeachDemoEvent } from './TeachDemoApi.ts';

const SLICE_MS = 16;
/** Longest nap while the guest idles, so the inspector's "last second" keeps moving. */
const MAX_NAP_MS = 100;

class TeachDemoWorker implements TeachDemoApi {
  private vm: Vm | undefined;
  private inspector: VmInspector | undefined;
  private emit: (e: TeachDemoEvent) => void = () => {};
  private readonly output: Uint8Array[] = [];
  private paused = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** A zero-delay yield: nested setTimeout(0) is clamped to 4 ms, a quarter of a slice. */
  private readonly yieldTask = (() => {
    const channel = new MessageChannel();
    let resolve: (() => void) | undefined;
    channel.port1.onmessage = () => resolve?.();
    return () => new Promise<void>((r) => {
      resolve = r;
      channel.port2.postMessage(0);
    });
  })();

  async boot(spec: TeachDemoBoot, events: (e: TeachDemoEvent) => void): Promise<void> {
    if (this.vm) throw new Error('this worker already runs a VM');
    this.emit = events;
    const vm = await Vm.create(spec.module, {
      ramBytes: spec.ramBytes,
      timeMode: 'realtime',
      boot: linuxLoader({ firmware: spec.firmware, kernel: spec.kernel, initrd: spec.initrd, bootargs: spec.bootargs }),
    });
    const sink = (b: Uint8Array) => this.output.push(b);
    vm.onConsole(sink);
    this.vm = vm;
    this.inspector = new VmInspector(vm);
    void this.loop();
  }

  async input(bytes: Uint8Array): Promise<void> {
    this.vm?.sendInput(bytes);
    this.wake?.();
  }

  async pause(): Promise<void> {
    this.setPaused(true, 'request');
  }

  async resume(): Promise<void> {
    this.inspector?.continuePastBreakpoint();
    this.setPaused(false);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.inspector?.dispose();
    await this.vm?.dispose();
  }

  // --- the inspector, as the page's worker exposes it ---
  async timeline() { return this.ins().timeline(); }
  async traps(maxRecent?: number) { return this.ins().traps(maxRecent); }
  async snapshot() { return this.ins().snapshot(); }
  async explain(va: bigint, access: AccessType, priv?: Privilege) { return this.ins().explain(va, access, priv); }
  async step() { return this.whilePaused(() => this.ins().step()); }
  async stepUntilTrap(maxInsns?: number) { return this.whilePaused(() => this.ins().stepUntilTrap(maxInsns)); }
  async runUntilPrivChange(maxInsns?: number) { return this.whilePaused(() => this.ins().runUntilPrivChange(maxInsns)); }
  async setBreakpoint(pc: bigint | undefined) { this.ins().setBreakpoint(pc); }
  async continuePastBreakpoint() { this.ins().continuePastBreakpoint(); }

  private ins(): VmInspector {
    if (!this.inspector) throw new Error('no VM has been booted in this worker');
    return this.inspector;
  }

  /** Debugger operations run the hart themselves: the loop must be parked first. */
  private async whilePaused<T>(op: () => Promise<T>): Promise<T> {
    this.setPaused(true, 'request');
    const r = await op();
    this.flushConsole();
    return r;
  }

  private setPaused(paused: boolean, reason: 'request' | 'breakpoint' = 'request'): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.emit(paused ? { kind: 'paused', reason } : { kind: 'resumed' });
    if (!paused) {
      this.inspector?.beforeSlice(performance.now()); // the pause is not running time
      this.wake?.();
    }
  }

  private async loop(): Promise<void> {
    const vm = this.vm!;
    const inspector = this.inspector!;
    while (!this.stopped) {
      if (this.paused) {
        await this.sleep(1e9);
        continue;
      }
      inspector.beforeSlice(performance.now());
      let outcome;
      try {
        outcome = vm.run(SLICE_MS);
      } catch (e) {
        this.emit({ kind: 'stopped', reason: 'fault', message: `emulator fault: ${(e as Error).message}` });
        return;
      }
      for (const ev of inspector.afterSlice(performance.now())) {
        this.emit(ev);
        if (ev.kind === 'breakpoint') this.setPaused(true, 'breakpoint');
      }
      this.flushConsole();
      switch (outcome.kind) {
        case 'running':
          await this.yieldTask(); // let comlink calls and input in between slices
          break;
        case 'idle':
          await this.sleep(Math.min(outcome.wakeInMs ?? MAX_NAP_MS, MAX_NAP_MS));
          break;
        case 'poweroff':
        case 'reboot':
          // XXX: the page's worker reboots into a fresh Vm and VmInspector; the demo just stops.
          this.emit({ kind: 'stopped', reason: outcome.kind, message: `the guest asked to ${outcome.kind}` });
          return;
      }
    }
  }

  private flushConsole(): void {
    if (this.output.length === 0) return;
    let n = 0;
    for (const b of this.output) n += b.length;
    const bytes = new Uint8Array(n);
    n = 0;
    for (const b of this.output.splice(0)) {
      bytes.set(b, n);
      n += b.length;
    }
    this.emit({ kind: 'console', bytes });
  }

  /** Sleeps up to `ms`, or until input, resume or shutdown wakes the loop. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

Comlink.expose(new TeachDemoWorker());
