/**
 * A romvisor machine state file (format version 1): a running machine saved between two
 * instructions, and read back with every field checked before anything is applied.
 *
 * The container (StateContainer.ts) holds four sections, in this order, each with its
 * sha256 in the section table:
 *
 * - "META" (JSON, stored as is): `shape` (RAM bytes, harts, time mode, which virtio devices
 *   on which slots, each disk's size: the machine it restores into must be the same),
 *   `core` (the core's scalar count and region lengths: another core build is refused),
 *   `instructions` and `mtime` (decimal strings) at the save, `takenAt` (ISO time), and
 *   `disks`: per disk of `shape.disks`, its chain from the top, each `{ path, sha256, bytes }`
 *   of the file as it was at the save (the top is the overlay, frozen from then on).
 * - "CORE" (DEFLATE): the core's scalars (CoreScalar in wasm/machineMap.ts, u64 each: every
 *   hart's live registers and CSRs including Sstc's stimecmp and the triggers' tselect, the
 *   CLINT, PLIC and UART registers, the hart scheduler, the instruction count), then the
 *   core's regions besides RAM (wasm/machineState.ts: register files, the save areas of the
 *   harts not running, pmpaddr, trigger CSRs, PLIC and CLINT per hart, the UART's receive
 *   and transmit rings, the reset ROM, the trap log).
 * - "DEVS" (DEFLATE, JSON): the virtio transports by slot (registers, queue addresses, the
 *   device's ring indices), the console's size and whether it announced it, frames waiting
 *   for the network card, the shared folder's 9P session (`share`: msize, and each fid's
 *   path; saved only while no file is open), console input typed and not yet taken, whether the state was
 *   taken at a WFI not yet handled (`heldAtWfi`: the restored machine handles it first, so
 *   the next input lands where it would have), and the disk completions the guest has not
 *   seen yet (due instruction, slot, status, read data and where it goes).
 *   Bigints are decimal strings, bytes are base64.
 * - "RAM " (DEFLATE): u32 page size (4096), u32 page count, a bitmap of the pages that are
 *   not all zero (bit i of byte i/8), then those pages in order.
 * - Optional, a self-contained state (`romvisor boot --save-state F --self-contained`):
 *   "Vdnn" (DEFLATE) for each chain file of disk d marked `embedded` in META, nn its
 *   place in the chain (two digits), in META's order: the file's bytes (the frozen
 *   overlay), which must hash to the chain entry's sha256. The files not embedded (the
 *   base) are then named by sha256 only: the reader finds them among the built-in
 *   appliances or in its repositories, wherever they live there.
 *
 * Not in a state: the TLBs and the JIT's code (caches, dropped on restore), the debugger's
 * breakpoints and host triggers, and anything outside the machine: the disk's bytes (the
 * `disks` chain references them by sha256), the network beyond the card, the shared
 * folder's files (the host keeps them).
 */
import type { DeviceState, RamImage, VmShape, VmState } from '../machine/index.ts';
import type { ConsoleSize } from '../machine/virtio/index.ts';
import { decodeContainer, encodeContainer, type DeflateCodec } from './StateContainer.ts';
import { StateError } from './StateError.ts';
import { FieldReader } from './FieldReader.ts';
import { CoreScalar } from '../../wasm/machineMap.ts';
import { sha256Hex } from '../format/sha256.ts';

/** One file of a disk's chain at the save. */
export interface StateDiskFile {
  path: string;
  /** sha256 of the whole file, lowercase hex. */
  sha256: string;
  bytes: number;
  /** The file's bytes are in the state (a "Vdnn" section): the reader needs no copy of its own. */
  embedded?: boolean;
}

export interface StateMeta {
  shape: VmShape;
  core: { scalars: number; regions: number[] };
  instructions: bigint;
  mtime: bigint;
  takenAt: string;
  /** Per disk of `shape.disks`: its chain, the top (the frozen overlay) first. */
  disks: { chain: StateDiskFile[] }[];
}

export interface MachineStateFile {
  meta: StateMeta;
  state: VmState;
  /** The embedded chain files' bytes by their sha256 (each checked against it). */
  embedded: Map<string, Uint8Array>;
}

/** The largest chain file a state embeds (an overlay of a busy guest; the base is never embedded). */
const MAX_EMBEDDED_BYTES = 2 ** 31;

/** The section id of chain file `index` of disk `disk`. */
const embeddedId = (disk: number, index: number) => `V${disk}${String(index).padStart(2, '0')}`;

/** Where each embedded file's section goes, in META's order. */
function embeddedSections(disks: { chain: StateDiskFile[] }[]): { id: string; file: StateDiskFile }[] {
  return disks.flatMap((d, k) => d.chain.flatMap((file, i) => (file.embedded ? [{ id: embeddedId(k, i), file }] : [])));
}

const PAGE = 4096;
/** The largest RAM a state may declare (the core's linear memory is 32-bit). */
const MAX_RAM_BYTES = 0xf000_0000;
const MAX_META_BYTES = 1 << 20;
const MAX_CORE_BYTES = 1 << 20;
/** Disk completions carry read data (up to 64 MiB in flight per disk), base64 in JSON. */
const MAX_DEVS_BYTES = 256 << 20;

/**
 * Encodes a captured machine state (Vm.captureState) with the caller's disk chain; chain
 * files marked `embedded` go in with their bytes from `files` (by sha256).
 */
/**
 * `extra.deflate: false` stores CORE, DEVS and RAM as they are: a larger file, written in a
 * fraction of the time (a page closing has half a second for it).
 */
export async function encodeMachineState(state: VmState, extra: { disks: { chain: StateDiskFile[] }[]; takenAt?: string; files?: ReadonlyMap<string, Uint8Array>; deflate?: boolean }, codec?: DeflateCodec): Promise<Uint8Array> {
  const deflate = extra.deflate ?? true;
  const embedded = embeddedSections(extra.disks).map(({ id, file }) => {
    const bytes = extra.files?.get(file.sha256);
    if (!bytes || bytes.length !== file.bytes) throw new RangeError(`encodeMachineState: no ${file.bytes} bytes given for the embedded ${file.path}`);
    return { id, bytes, deflate: true };
  });
  const meta = {
    shape: state.shape,
    core: { scalars: state.core.scalars.length, regions: state.core.regions.map((r) => r.length) },
    instructions: state.core.scalars[CoreScalar.Icount]!.toString(),
    mtime: state.mtime.toString(),
    takenAt: extra.takenAt ?? new Date().toISOString(),
    disks: extra.disks,
  };
  return encodeContainer([
    { id: 'META', bytes: utf8(JSON.stringify(meta)) },
    { id: 'CORE', bytes: encodeCore(state), deflate },
    { id: 'DEVS', bytes: utf8(JSON.stringify(devicesJson(state))), deflate },
    { id: 'RAM ', bytes: encodeRam(state.ram), deflate },
    ...embedded,
  ], codec);
}

const utf8 = (s: string) => new TextEncoder().encode(s);

function encodeCore(state: VmState): Uint8Array {
  const { scalars, regions } = state.core;
  const out = new Uint8Array(scalars.length * 8 + regions.reduce((n, r) => n + r.length, 0));
  const v = new DataView(out.buffer);
  scalars.forEach((x, i) => v.setBigUint64(i * 8, x, true));
  let at = scalars.length * 8;
  for (const r of regions) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** The page bitmap and the pages that are not all zero. */
function encodeRam(ram: RamImage): Uint8Array {
  const pages = ram.bytes / PAGE;
  const bitmapBytes = Math.ceil(pages / 8);
  const out = new Uint8Array(8 + bitmapBytes + ram.data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, PAGE, true);
  v.setUint32(4, pages, true);
  for (const p of ram.pages) out[8 + (p >> 3)]! |= 1 << (p & 7);
  out.set(ram.data, 8 + bitmapBytes);
  return out;
}

const b64 = (b: Uint8Array) => {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};

function devicesJson(state: VmState): unknown {
  return {
    pendingInput: b64(state.pendingInput),
    consoleSettled: state.consoleSettled,
    heldAtWfi: state.heldAtWfi,
    devices: state.devices.map((d) => ({
      slot: d.slot,
      deviceId: d.deviceId,
      transport: { ...d.transport, driverFeatures: d.transport.driverFeatures.toString(), instructions: d.transport.instructions.toString() },
      ...(d.console ? { console: d.console } : {}),
      ...(d.net ? { net: { waiting: d.net.waiting.map(b64) } } : {}),
      ...(d.share ? { share: d.share } : {}),
    })),
    completions: state.completions.map((c) => ({
      due: c.due.toString(),
      slot: c.slot,
      record: { ...c.record, ...(c.record.data ? { data: b64(c.record.data) } : {}) },
    })),
  };
}

/**
 * Reads a state file: verifies the container, then every field. Returns the machine state
 * ready for Vm.applyState, or throws StateError; nothing is applied anywhere here.
 */
export async function decodeMachineState(file: Uint8Array, codec?: DeflateCodec): Promise<MachineStateFile> {
  let meta: StateMeta | undefined;
  const sections = await decodeContainer(file, (id, earlier) => {
    const order = ['META', 'CORE', 'DEVS', 'RAM '];
    if (earlier.size >= order.length) {
      // The embedded files, in META's order, each exactly its chain entry's size.
      const next = embeddedSections(meta!.disks)[earlier.size - order.length];
      return next?.id === id ? next.file.bytes : undefined;
    }
    if (order.indexOf(id) !== earlier.size) return undefined;
    switch (id) {
      case 'META': return MAX_META_BYTES;
      case 'CORE': return MAX_CORE_BYTES;
      case 'DEVS': return MAX_DEVS_BYTES;
      default: {
        meta ??= readMeta(earlier.get('META')!);
        const pages = meta.shape.ramBytes / PAGE;
        return 8 + Math.ceil(pages / 8) + meta.shape.ramBytes;
      }
    }
  }, codec);
  meta ??= sections.has('META') ? readMeta(sections.get('META')!) : undefined;
  const wanted = meta ? embeddedSections(meta.disks) : [];
  if (!meta || sections.size !== 4 + wanted.length) {
    const names = ['META', 'CORE', 'DEVS', '"RAM "', ...wanted.map((w) => w.id)];
    throw new StateError('state-malformed', `state file: ${sections.size} sections, expected ${names.join(', ')}`);
  }
  const embedded = new Map<string, Uint8Array>();
  for (const { id, file: f } of wanted) {
    const bytes = sections.get(id)!;
    const sum = await sha256Hex(bytes);
    if (bytes.length !== f.bytes || sum !== f.sha256) {
      throw new StateError('state-altered', `state section ${JSON.stringify(id)}: the embedded ${f.path} has ${bytes.length} bytes with sha256 ${sum}, META says ${f.bytes} bytes, ${f.sha256}`);
    }
    embedded.set(f.sha256, bytes);
  }
  const core = readCore(sections.get('CORE')!, meta);
  if (core.scalars.length > CoreScalar.Icount) {
    if (core.scalars[CoreScalar.Icount] !== meta.instructions) {
      throw new StateError('state-malformed', `state CORE: instruction count ${core.scalars[CoreScalar.Icount]}, META says ${meta.instructions}`);
    }
    if (core.scalars[CoreScalar.HartCount] !== BigInt(meta.shape.harts)) {
      throw new StateError('state-malformed', `state CORE: ${core.scalars[CoreScalar.HartCount]} harts, META.shape says ${meta.shape.harts}`);
    }
  }
  const ram = readRam(sections.get('RAM ')!, meta.shape.ramBytes);
  const devs = readDevices(sections.get('DEVS')!, meta.shape);
  return { meta, state: { shape: meta.shape, core, ram, mtime: meta.mtime, ...devs }, embedded };
}

function parseJson(bytes: Uint8Array, section: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new StateError('state-malformed', `state ${section}: not valid UTF-8 JSON (${(e as Error).message})`, { cause: e });
  }
}

function readMeta(bytes: Uint8Array): StateMeta {
  const r = new FieldReader('state META', parseJson(bytes, 'META'));
  const shape = r.obj('shape', (s) => readShape(s));
  const core = r.obj('core', (c) => ({ scalars: c.int('scalars', 1, 4096), regions: c.arr('regions', 64, (x) => x.int(undefined, 0, 1 << 24)) }));
  const instructions = r.big('instructions');
  const mtime = r.big('mtime');
  const takenAt = r.str('takenAt', 64);
  const disks = r.arr('disks', 8, (d) => d.obj(undefined, (o) => ({
    chain: o.arr('chain', 64, (f) => f.obj(undefined, (x) => {
      const file: StateDiskFile = { path: x.str('path', 4096), sha256: x.hex('sha256', 64), bytes: x.int('bytes', 0, Number.MAX_SAFE_INTEGER) };
      if (x.has('embedded') && x.bool('embedded')) {
        if (file.bytes > MAX_EMBEDDED_BYTES) x.fail('bytes', file.bytes, `at most ${MAX_EMBEDDED_BYTES} for an embedded file`);
        file.embedded = true;
      }
      return file;
    })),
  })));
  const embeddedCount = disks.reduce((n, d) => n + d.chain.filter((f) => f.embedded).length, 0);
  if (embeddedCount > 12) r.fail('disks', embeddedCount, 'at most 12 embedded files (a state file has 16 sections)');
  if (disks.length !== shape.disks.length) r.fail('disks', disks.length, `one chain per disk of shape.disks (${shape.disks.length})`);
  return { shape, core, instructions, mtime, takenAt, disks };
}

function readShape(s: FieldReader): VmShape {
  const ramBytes = s.int('ramBytes', 1 << 20, MAX_RAM_BYTES);
  if (ramBytes % PAGE !== 0) s.fail('ramBytes', ramBytes, 'a whole number of 4 KiB pages');
  const shape: VmShape = {
    ramBytes,
    harts: s.int('harts', 1, 8),
    timeMode: s.oneOf('timeMode', ['realtime', 'deterministic'] as const),
    console: s.bool('console'),
    inputToVirtio: s.bool('inputToVirtio'),
    share: s.bool('share'),
    disks: s.arr('disks', 8, (d) => d.obj(undefined, (o) => ({ slot: o.int('slot', 0, 7), bytes: o.int('bytes', 0, Number.MAX_SAFE_INTEGER), readOnly: o.bool('readOnly'), serial: o.str('serial', 20) }))),
  };
  if (s.has('netMac')) shape.netMac = s.hex('netMac', 12);
  // Keep the key order of Vm.shape, which the restore compares as JSON.
  const { netMac, ...rest } = shape;
  return { ramBytes: rest.ramBytes, harts: rest.harts, timeMode: rest.timeMode, console: rest.console, inputToVirtio: rest.inputToVirtio, ...(netMac ? { netMac } : {}), share: rest.share, disks: rest.disks };
}

function readCore(bytes: Uint8Array, meta: StateMeta): VmState['core'] {
  const { scalars: n, regions } = meta.core;
  const expected = n * 8 + regions.reduce((a, b) => a + b, 0);
  if (bytes.length !== expected) {
    throw new StateError('state-malformed', `state CORE: ${bytes.length} bytes, but META.core says ${n} scalars and regions of ${regions.join(', ')} bytes (${expected})`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scalars = new BigUint64Array(n);
  for (let i = 0; i < n; i++) scalars[i] = v.getBigUint64(i * 8, true);
  let at = n * 8;
  const out = regions.map((len) => {
    const r = bytes.slice(at, at + len);
    at += len;
    return r;
  });
  return { scalars, regions: out };
}

function readRam(bytes: Uint8Array, ramBytes: number): RamImage {
  const pages = ramBytes / PAGE;
  const bitmapBytes = Math.ceil(pages / 8);
  if (bytes.length < 8 + bitmapBytes) throw new StateError('state-malformed', `state RAM: ${bytes.length} bytes, shorter than its page bitmap (${8 + bitmapBytes})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== PAGE) throw new StateError('state-malformed', `state RAM at 0x0: page size ${v.getUint32(0, true)}, expected ${PAGE}`);
  if (v.getUint32(4, true) !== pages) throw new StateError('state-malformed', `state RAM at 0x4: ${v.getUint32(4, true)} pages, META.shape.ramBytes says ${pages}`);
  const bitmap = bytes.subarray(8, 8 + bitmapBytes);
  const used: number[] = [];
  for (let p = 0; p < pages; p++) if (bitmap[p >> 3]! & (1 << (p & 7))) used.push(p);
  for (let p = pages; p < bitmapBytes * 8; p++) {
    if (bitmap[p >> 3]! & (1 << (p & 7))) throw new StateError('state-malformed', `state RAM at ${8 + (p >> 3)}: bit for page ${p}, past the last page ${pages - 1}`);
  }
  if (bytes.length !== 8 + bitmapBytes + used.length * PAGE) {
    throw new StateError('state-malformed', `state RAM: ${bytes.length} bytes, the bitmap names ${used.length} pages (${8 + bitmapBytes + used.length * PAGE} bytes)`);
  }
  return { bytes: ramBytes, pages: Uint32Array.from(used), data: bytes.subarray(8 + bitmapBytes) };
}

function readDevices(bytes: Uint8Array, shape: VmShape): Omit<VmState, 'shape' | 'core' | 'ram' | 'mtime'> {
  const r = new FieldReader('state DEVS', parseJson(bytes, 'DEVS'));
  const ram = shape.ramBytes;
  const ramRange = (o: FieldReader) => {
    const offset = o.int('offset', 0, ram - 1);
    const length = o.int('length', 0, ram - offset);
    return { offset, length };
  };
  const pendingInput = r.bytes('pendingInput', 1 << 20);
  const consoleSettled = r.bool('consoleSettled');
  const heldAtWfi = r.bool('heldAtWfi');
  const devices: DeviceState[] = r.arr('devices', 8, (d) => d.obj(undefined, (o) => {
    const dev: DeviceState = {
      slot: o.int('slot', 0, 7),
      deviceId: o.int('deviceId', 1, 255),
      transport: o.obj('transport', (t) => {
        const pair = (x: FieldReader, k: string): [number, number] => {
          const p = x.arr(k, 2, (e) => e.int(undefined, 0, 0xffff_ffff));
          if (p.length !== 2) x.fail(k, p.length, 'two 32-bit halves');
          return [p[0]!, p[1]!];
        };
        return {
          status: t.int('status', 0, 0xff),
          deviceFeaturesSel: t.int('deviceFeaturesSel', 0, 0xffff_ffff),
          driverFeaturesSel: t.int('driverFeaturesSel', 0, 0xffff_ffff),
          driverFeatures: t.big('driverFeatures'),
          queueSel: t.int('queueSel', 0, 0xffff_ffff),
          interruptStatus: t.int('interruptStatus', 0, 3),
          epoch: t.int('epoch', 0, Number.MAX_SAFE_INTEGER),
          instructions: t.big('instructions'),
          configGeneration: t.int('configGeneration', 0, 0xffff_ffff),
          queues: t.arr('queues', 8, (qe) => qe.obj(undefined, (q) => ({
            num: q.int('num', 0, 0xffff_ffff),
            ready: q.bool('ready'),
            desc: pair(q, 'desc'),
            driver: pair(q, 'driver'),
            device: pair(q, 'device'),
            kicked: q.bool('kicked'),
            ...(q.has('lastAvail') ? { lastAvail: q.int('lastAvail', 0, 0xffff), usedIdx: q.int('usedIdx', 0, 0xffff) } : {}),
          }))),
        };
      }),
    };
    if (o.has('console')) {
      dev.console = o.obj('console', (c) => ({
        announced: c.bool('announced'),
        size: c.obj('size', (z): ConsoleSize => ({ cols: z.int('cols', 1, 0xffff), rows: z.int('rows', 1, 0xffff) })),
      }));
    }
    if (o.has('net')) dev.net = o.obj('net', (n) => ({ waiting: n.arr('waiting', 1024, (f) => f.bytes(undefined, 1518)) }));
    if (o.has('share')) {
      // Names and bounds are checked again by the 9P server that takes the session.
      dev.share = o.obj('share', (n) => ({
        msize: n.int('msize', 4096, 0xffff_ffff),
        versioned: n.bool('versioned'),
        fids: n.arr('fids', 8192, (fe) => fe.obj(undefined, (f) => ({ fid: f.int('fid', 0, 0xffff_fffe), path: f.arr('path', 255, (e) => e.str(undefined, 255)) }))),
      }));
    }
    return dev;
  }));
  const completions = r.arr('completions', 1 << 16, (ce) => ce.obj(undefined, (c) => ({
    due: c.big('due'),
    slot: c.int('slot', 0, 7),
    record: c.obj('record', (x) => {
      const rec = {
        queue: x.int('queue', 0, 0),
        head: x.int('head', 0, 0x7fff),
        epoch: x.int('epoch', 0, Number.MAX_SAFE_INTEGER),
        statusAt: x.int('statusAt', 0, ram - 1),
        status: x.int('status', 0, 2),
        written: x.int('written', 0, 0x7fff_ffff),
        inflight: x.int('inflight', 0, 64 << 20),
        ...(x.has('data') ? { data: x.bytes('data', 64 << 20), dataIn: x.arr('dataIn', 0x8000, (e) => e.obj(undefined, ramRange)) } : {}),
        ...(x.has('bytesWritten') ? { bytesWritten: x.int('bytesWritten', 0, 64 << 20) } : {}),
      };
      return rec;
    }),
  })));
  return { pendingInput, consoleSettled, heldAtWfi, devices, completions };
}
