/**
 * The contract between the page and one guest's Web Worker. Both sides import this file:
 * the worker `expose`s a `VmWorkerApi`, the page `wrap`s it with comlink. Control calls go
 * page → worker; everything the guest does comes back as `VmWorkerEvent`s through one
 * proxied callback, console bytes as transferred buffers.
 */
import type { JitMode } from '../jit/Jit.ts';
import type { LinuxBootImages } from '../boot/index.ts';
import type { JitView, Privilege, TimeMode, VmInspectorApi } from '../machine/index.ts';
import type { ConsoleSize } from '../machine/virtio/index.ts';
import type { RemoteDiskReadout } from '../repo/index.ts';
import type { ConsoleStep, StepResult } from '../scenario/index.ts';

/** Where a guest's disk lives: IndexedDB images of the image store, by id. */
export type WorkerDiskSpec =
  /** The writable differencing child the guest writes to. */
  | { childImageId: string }
  /**
   * A scenario run: a fresh differencing child in worker memory over this stored base
   * image, which stays untouched; whatever the guest writes is gone when the worker ends.
   * With `overlay` (a scenario's state guest), that child is these bytes: the differencing
   * VHD a self-contained state embeds, whose parent is the stored base.
   */
  | { scratchOverImageId: string; overlay?: Uint8Array };

/** A disk image of a bare kernel, held in memory: the guest's writes change these bytes only. */
export interface BareKernelDrive {
  /** The file's name (the card shows it; its first 20 characters are the disk's serial). */
  name: string;
  format: 'raw' | 'vhd';
  readOnly: boolean;
  bytes: Uint8Array;
}

/**
 * QEMU's `-machine virt -bios none -kernel ELF -drive ...` (the page's "Run a kernel", a
 * scenario's kernel guest): the ELF starts in M-mode at 0x8000_0000 on every hart, the
 * drives on virtio-blk from 0x1000_1000 (IRQ 1) in order.
 */
export interface BareKernelSpec {
  /** The ELF's file name, for messages. */
  name: string;
  elf: Uint8Array;
  /** QEMU's -append: /chosen bootargs in the device tree. */
  bootargs: string;
  drives: BareKernelDrive[];
}

export interface VmBootSpec {
  /** The compiled core, compiled once by the page and shared by every worker. */
  module: WebAssembly.Module;
  ramBytes: number;
  /** Harts of the machine, 1..8 (default 1). */
  harts?: number;
  timeMode: TimeMode;
  /** The JIT tier (src/jit): off unless the page asked (`?jit=auto|eager`). */
  jit?: JitMode;
  /** The firmware in the server's ROM (OpenSBI), for a Linux guest; absent with `bareKernel`. */
  firmware?: Uint8Array;
  /** A bare kernel instead of Linux: no firmware, no appliance, no disk of the store. */
  bareKernel?: BareKernelSpec;
  /**
   * A RAM appliance: the kernel, initrd and command line to boot. Without it the guest
   * boots what its disk's boot partition holds (/Image and /appliance.json).
   */
  ram?: Omit<LinuxBootImages, 'firmware'>;
  /**
   * A disk with no bootable partition (a blank or foreign VHD) boots these instead, with
   * the disk still attached as /dev/vda.
   */
  rescue?: Omit<LinuxBootImages, 'firmware'>;
  disk?: WorkerDiskSpec;
  /** The VM's data disk, a stored image written in place: /dev/vdb beside `disk`. */
  dataDisk?: { imageId: string };
  /**
   * A suspended VM's machine state file (src/state): the machine resumes from it instead of
   * booting. One that does not fit is said on the console, and the VM boots from its disk.
   */
  restore?: Uint8Array;
  /** A state that does not fit fails the boot instead of booting from the disk (a scenario's state guest). */
  restoreOnly?: boolean;
  /** Appended to whichever kernel command line is booted (the VM's own extra arguments). */
  extraBootargs?: string;
  /**
   * A console script the worker plays itself, fed on the same instruction as the CLI's
   * `romvisor boot --script`, so a deterministic run gives the same console bytes.
   */
  script?: ConsoleStep[];
  /** Keep every console byte the guest writes (bounded), for `transcript()`. */
  keepTranscript?: boolean;
  /**
   * The guest console's size, fixed (a scenario's `consoleSize`): resizes are ignored. In
   * deterministic time it is this or 80x24, whatever the terminal, so the page and the CLI
   * print the same bytes.
   */
  consoleSize?: ConsoleSize;
  /** The page's terminal size at boot (realtime, no fixed size): `resize()` follows it after. */
  terminalSize?: ConsoleSize;
  /** The VM's shared folder (ShareStore, by VM id) on virtio-9p: the guest's /mnt/host. */
  share?: { vmId: string };
  /**
   * A network card on the server's switch: `name` gives its MAC (macFromName, so its DHCP
   * address and DNS name), `port` carries frames as transferred ArrayBuffers both ways
   * (transferred to the worker with the spec).
   */
  net?: { name: string; port: MessagePort; lockstep?: boolean };
  /** The card's MAC (12 hex digits) when it is not the one `net.name` gives: a resumed state's. */
  netMac?: string;
}

/**
 * A deterministic scenario guest's network (`net.lockstep`): the page's LockstepNetwork
 * posts one quantum at a time, the frames the switch forwarded to this guest at the last
 * crossing and the guest time to run to; the worker puts the frames into the card, runs the
 * guest to `boundary` (src/net/Lockstep.ts) and answers with what the guest sent meanwhile.
 * The guest does not run between quanta.
 */
export interface LockstepQuantum {
  boundary: bigint;
  frames: ArrayBuffer[];
}

/** The worker's answer to a LockstepQuantum: `ended` when the guest stopped (it runs no more quanta). */
export interface LockstepReply {
  frames: ArrayBuffer[];
  ended: boolean;
}

/** One object of a shared folder as the page lists it. */
export interface SharedFileInfo {
  /** `/`-separated path under the folder. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
}

/** A file the page puts into a shared folder (dropped on the VM's card). */
export interface SharedFileUpload {
  path: string;
  data: Uint8Array;
}

/** A shared folder's size, and why its latest changes are only in memory (a full quota), if they are. */
export interface SharedFolderState {
  files: number;
  bytes: number;
  unsaved?: string;
}

/** How far the worker's console script got. */
export interface ScriptProgress {
  results: StepResult[];
  /** Index of the step being played (= steps.length when all ran). */
  current: number;
  done: boolean;
  failed: boolean;
}

/** The guest's raw console bytes; `atScriptEnd` is where the CLI would have stopped (once known). */
export interface ConsoleTranscript {
  bytes: Uint8Array;
  atScriptEnd?: number;
}

/** A crash report in plain numbers and strings, as it crosses the worker boundary. */
export interface CrashInfo {
  pc: string;
  priv: Privilege;
  instructions: number;
  lastTrap: { cause: string; kind: 'interrupt' | 'exception'; pc: string; tval: string; count: number };
  /** One line: what `formatCrashReport` prints in the CLI. */
  summary: string;
}

export interface VmRunStats {
  /** Instructions since power-on (all resets included). */
  instructions: number;
  /** Millions of instructions per second over the last interval; 0 when idle or paused. */
  mips: number;
  /** Wall time the guest has been powered on, pauses excluded. */
  uptimeMs: number;
  /** Share of the last interval the guest spent executing (the rest it idled in WFI). */
  busy: number;
  pc: string;
  priv: Privilege;
  /** The network card's counters (virtio-net), when the VM has one. */
  net?: { rxFrames: number; txFrames: number; rxDropped: number; txDropped: number };
}

/** Why a guest stopped on its own. */
/** Why a VM stopped: it powered off, the emulator faulted, the guest is stuck repeating
 *  one fault (crashed), or its disk failed. */
export type VmStopCause = 'poweroff' | 'fault' | 'crashed' | 'disk-error';

export type VmWorkerEvent =
  | { kind: 'console'; bytes: Uint8Array }
  | { kind: 'stats'; stats: VmRunStats }
  /** What the disk's repository images fetched so far (throttled; only for a VM that has any). */
  | { kind: 'remote-disk'; disk: RemoteDiskReadout }
  /** The guest powered itself off (or the emulator faulted); the worker has flushed and is idle. */
  | {
      kind: 'stopped'; cause: VmStopCause; message: string; crash?: CrashInfo; script?: ScriptProgress;
      /** A bare kernel's drives as the guest left them (BareKernelSpec.drives' order). */
      drives?: Uint8Array[];
      /** A disk error because a repository file gave no answer: its URL, for the page's probe. */
      noAnswerUrl?: string;
    }
  /** The worker paused the guest itself, e.g. the disk hit the storage quota. */
  | { kind: 'paused'; reason: 'quota' | 'breakpoint'; message: string }
  | { kind: 'rebooted' }
  /** The shared folder was saved (or could not be: `state.unsaved`); its listing may have changed. */
  | { kind: 'share'; state: SharedFolderState };

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> | Awaited<R> : never };

/**
 * The teaching views' calls (VmInspector over comlink). Stepping and walking need the
 * guest paused (`pause()` first); `resume()` runs on past a breakpoint.
 */
export interface VmWorkerApi extends Async<VmInspectorApi> {
  /**
   * Creates the machine and starts running it; events arrive through `events`. With
   * `consoleRing` (a crossOriginIsolated page), console bytes go into that shared ring
   * (see ConsoleRing) instead of 'console' events.
   */
  boot(spec: VmBootSpec, events: (event: VmWorkerEvent) => void, consoleRing?: SharedArrayBuffer): Promise<void>;
  /** The teaching inspector's JIT panel: counters, hot and compiled pages, the pc's tier (read-only). */
  jitView(): JitView;
  /** Keystrokes for the guest's console. */
  input(bytes: Uint8Array): void;
  /** The page's terminal has a new size (columns, rows): the guest's console follows it. */
  resize(size: ConsoleSize): void;
  pause(): void;
  /** Runs the guest again; after a full quota, only once its held writes are committed. */
  resume(): Promise<void>;
  /**
   * Pauses the guest and captures its machine as a state file; `refused` (the guest runs on,
   * nothing lost) when it cannot be saved now, e.g. a file of its shared folder is open.
   * The page then calls `shutdown()`, which commits the disk the state stands on.
   */
  suspend(opts?: { deflate?: boolean }): Promise<{ state: Uint8Array } | { refused: string }>;
  /**
   * The page is going away (pagehide) and waits, blocked, on `done`: the worker suspends
   * by itself — captures the machine, shuts down (committing the disk), stores the state
   * as `vmId`'s suspended state with `console` as its screen — and then sets `done`
   * (PAGEHIDE_SAVED or PAGEHIDE_FAILED, with the reason as UTF-8 after it, see pageHideFlag).
   */
  suspendToStore(vmId: string, console: Uint8Array, done: SharedArrayBuffer): Promise<void>;
  /**
   * A snapshot's first half: the guest is paused, its disk work settled and committed, and
   * with `withState` its machine captured; `refused` (running on) when it cannot be now.
   * The page then freezes the disk in the store and calls `thawAfterSnapshot`.
   */
  freezeForSnapshot(withState: boolean): Promise<{ state?: Uint8Array } | { refused: string }>;
  /**
   * A snapshot's second half: the guest's writes go to the new child `childImageId` from
   * now (undefined: the snapshot failed, the same disk goes on), and it runs again unless
   * it was paused before.
   */
  thawAfterSnapshot(childImageId: string | undefined, dataImageId?: string): Promise<void>;
  /** Hard reset: the machine starts again from the reset ROM with the same disk. */
  reset(): Promise<void>;
  /**
   * Stops running and makes every disk write durable; the worker can then be terminated.
   * A bare kernel's drives live in the worker only: their bytes as the guest left them.
   */
  shutdown(): Promise<Uint8Array[] | undefined>;
  crashReport(): CrashInfo;
  /** The boot spec's console script so far; undefined without one. */
  scriptProgress(): ScriptProgress | undefined;
  /** Every console byte so far, when the boot spec asked to keep them. */
  transcript(): ConsoleTranscript;
  /** The shared folder's objects (none without a share). */
  shareFiles(): SharedFileInfo[];
  /** A file of the shared folder. */
  shareRead(path: string): Uint8Array;
  /** Puts files into the shared folder (replacing files of the same path) and saves it. */
  shareAdd(files: SharedFileUpload[]): Promise<SharedFolderState>;
}

