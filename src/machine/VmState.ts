/**
 * A whole machine's state as plain data, between two runs: what `Vm.captureState` takes and
 * `Vm.applyState` puts back. src/state/ turns it into a file and back, validating every
 * field; this module only names the parts. Everything is a copy: the machine may run on.
 */
import type { CoreState } from './Core.ts';
import type { TimeMode } from './TimeMode.ts';
import type { BlkCompletion, ConsoleSize, TransportState } from './virtio/index.ts';
import type { NinePSession } from './virtio/Virtio9p.ts';

/** What must be the same in the machine a state is restored into. */
export interface VmShape {
  ramBytes: number;
  harts: number;
  timeMode: TimeMode;
  /** A virtio console on slot 0 (its size is state, not shape). */
  console: boolean;
  /** Input waits for the virtio console (VmConfig.guestConsole 'virtio'). */
  inputToVirtio: boolean;
  /** The network card's MAC, 12 hex digits, when there is one. */
  netMac?: string;
  /** A shared folder (virtio-9p): its session is saved while the guest has no file of it open. */
  share: boolean;
  /** virtio-blk disks in VmConfig.disks order: their slot, size in bytes, whether read-only, what GET_ID answers. */
  disks: { slot: number; bytes: number; readOnly: boolean; serial: string }[];
}

/**
 * How a state's machine differs from this one, as a phrase ("2 harts, this machine has 1"),
 * or undefined when a state of `saved` fits `here`. Field by field, so the message names what
 * differs and the order keys were read in (a state file's JSON) does not matter.
 */
export function shapeDifference(saved: VmShape, here: VmShape): string | undefined {
  const scalars = ['ramBytes', 'harts', 'timeMode', 'console', 'inputToVirtio', 'netMac', 'share'] as const;
  for (const k of scalars) {
    if (saved[k] !== here[k]) return `${k} is ${String(saved[k] ?? 'none')} in the state, ${String(here[k] ?? 'none')} in this machine`;
  }
  if (saved.disks.length !== here.disks.length) return `the state has ${saved.disks.length} disks, this machine ${here.disks.length}`;
  for (const [i, d] of saved.disks.entries()) {
    const h = here.disks[i]!;
    for (const k of ['slot', 'bytes', 'readOnly', 'serial'] as const) {
      if (d[k] !== h[k]) return `disk ${i + 1}: ${k} is ${String(d[k])} in the state, ${String(h[k])} in this machine`;
    }
  }
  return undefined;
}

/** One virtio device: its transport's registers and queues, and its own state. */
export interface DeviceState {
  slot: number;
  /** virtio device ID: 1 net, 2 block, 3 console. */
  deviceId: number;
  transport: TransportState;
  console?: { announced: boolean; size: ConsoleSize };
  net?: { waiting: Uint8Array[] };
  /** The shared folder's 9P session (its fids); the folder's files are the host's, not the state's. */
  share?: NinePSession;
}

/** RAM without its zero pages: the 4 KiB pages that are not all zero, in ascending order. */
export interface RamImage {
  bytes: number;
  /** Page numbers (from RAM's start), ascending. */
  pages: Uint32Array;
  /** Those pages' bytes, 4096 each, in the same order. */
  data: Uint8Array;
}

export const RAM_PAGE = 4096;

export interface VmState {
  shape: VmShape;
  core: CoreState;
  /** Guest time (timebase ticks) at the capture; the instruction count is the core's. */
  mtime: bigint;
  ram: RamImage;
  /** Console input typed and not yet taken by the guest. */
  pendingInput: Uint8Array;
  consoleSettled: boolean;
  /** Taken at a WFI not yet handled (Vm.holdNextWfi): the restored machine handles it first. */
  heldAtWfi: boolean;
  devices: DeviceState[];
  /** Disk completions not yet seen by the guest, in order: due instruction, device slot, what it does. */
  completions: { due: bigint; slot: number; record: BlkCompletion }[];
}
