/**
 * The demo worker's contract (teachDemo.worker.ts), shared by both sides: one guest, its
 * console, run control, and the VmInspector methods (the page's real worker exposes the
 * same inspector methods). Events to the page are a discriminated union.
 */
import type { InspectorEvent, VmInspectorApi } from '../../machine/InspectorTypes.ts';

export interface TeachDemoBoot {
  /** The compiled wasm core. */
  module: WebAssembly.Module;
  firmware: Uint8Array;
  kernel: Uint8Array;
  initrd: Uint8Array;
  bootargs: string;
  ramBytes: number;
}

export type TeachDemoEvent =
  | { kind: 'console'; bytes: Uint8Array }
  | InspectorEvent
  | { kind: 'paused'; reason: 'request' | 'breakpoint' }
  | { kind: 'resumed' }
  | { kind: 'stopped'; reason: 'poweroff' | 'reboot' | 'fault'; message: string };

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export interface TeachDemoApi extends Async<VmInspectorApi> {
  boot(spec: TeachDemoBoot, events: (e: TeachDemoEvent) => void): Promise<void>;
  input(bytes: Uint8Array): Promise<void>;
  pause(): Promise<void>;
  /** Runs on, past the breakpoint if stopped at it. */
  resume(): Promise<void>;
  shutdown(): Promise<void>;
}
