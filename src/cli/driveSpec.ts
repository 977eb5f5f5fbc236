/**
 * `--drive` and `--device` as `romvisor boot` reads them: romvisor's own
 * `--drive FILE[,format=raw|vhd][,readonly]` and QEMU's
 * `-drive file=F,format=raw[,if=none,id=x][,readonly=on]` with
 * `-device virtio-blk-device,drive=x[,bus=virtio-mmio-bus.N]`. The result is one list of
 * disks with the virtio-mmio slot each one takes:
 *
 * - a drive without `if=none` takes the lowest free slot, in command-line order: the first
 *   at 0x1000_1000 on IRQ 1, where teaching kernels (xv6) look for their disk;
 * - a `-device` names its slot with `bus=virtio-mmio-bus.N`, or else takes the highest
 *   free one, as QEMU places a virtio-mmio device without a bus (Linux probes it first).
 */
import { CodedError } from '../errors/CodedError.ts';

export type DriveFormat = 'raw' | 'vhd';

export interface DriveSpec {
  path: string;
  format: DriveFormat;
  readOnly: boolean;
  /** virtio-mmio slot: 0 = 0x1000_1000, IRQ 1. */
  slot: number;
  /** What the user wrote, for messages. */
  text: string;
}

export class DriveSpecError extends CodedError<'bad-drive'> {
  override readonly name = 'DriveSpecError';
  constructor(message: string) {
    super('bad-drive', message);
  }
}

/** Splits QEMU's option syntax: `a=b,c` with `,,` for a literal comma. */
function splitOptions(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (text[i] === ',') {
      parts.push(cur);
      cur = '';
    } else {
      cur += text[i];
    }
  }
  parts.push(cur);
  return parts;
}

const ON = new Set(['on', 'yes', 'true']);
const OFF = new Set(['off', 'no', 'false']);

interface ParsedDrive {
  path: string;
  format: DriveFormat;
  readOnly: boolean;
  id?: string;
  ifNone: boolean;
  text: string;
}

function parseDrive(text: string): ParsedDrive {
  const where = `--drive "${text}"`;
  const parts = splitOptions(text);
  let path: string | undefined;
  let format: DriveFormat | undefined;
  let readOnly = false;
  let id: string | undefined;
  let ifNone = false;
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part === 'readonly') readOnly = true;
      else if (i === 0 && part !== '') path = part;
      else throw new DriveSpecError(`${where}: "${part}" is not key=value (file=, format=, if=, id=, readonly=)`);
      return;
    }
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    switch (key) {
      case 'file':
        path = value;
        break;
      case 'format':
        if (value === 'raw') format = 'raw';
        else if (value === 'vhd' || value === 'vpc') format = 'vhd';
        else throw new DriveSpecError(`${where}: format "${value}" is not raw or vhd (QEMU's vpc)`);
        break;
      case 'readonly':
        if (ON.has(value)) readOnly = true;
        else if (OFF.has(value)) readOnly = false;
        else throw new DriveSpecError(`${where}: readonly "${value}" is not on or off`);
        break;
      case 'id':
        id = value;
        break;
      case 'if':
        // if=virtio is a PCI disk under QEMU's virt; romvisor has no PCI and attaches it
        // to virtio-mmio in order, as a plain --drive.
        if (value === 'none') ifNone = true;
        else if (value !== 'virtio') throw new DriveSpecError(`${where}: if=${value} is not supported (if=none with -device virtio-blk-device, or if=virtio)`);
        break;
      case 'media':
        if (value !== 'disk') throw new DriveSpecError(`${where}: media=${value} is not supported (disk only)`);
        break;
      default:
        throw new DriveSpecError(`${where}: unknown drive option "${key}" (file=, format=, if=, id=, readonly=)`);
    }
  });
  if (path === undefined || path === '') throw new DriveSpecError(`${where}: no file (FILE or file=FILE)`);
  if (ifNone && id === undefined) throw new DriveSpecError(`${where}: if=none needs an id= for -device virtio-blk-device,drive=ID`);
  // QEMU probes an image without format=; romvisor goes by the file name.
  format ??= /\.vhd$/i.test(path) ? 'vhd' : 'raw';
  return { path, format, readOnly, id, ifNone, text };
}

interface ParsedDevice {
  drive: string;
  slot?: number;
  text: string;
}

const BUS = /^virtio-mmio-bus\.(\d+)$/;

function parseDevice(text: string, slots: number): ParsedDevice {
  const where = `--device "${text}"`;
  const [driver, ...opts] = splitOptions(text);
  if (driver !== 'virtio-blk-device') {
    throw new DriveSpecError(`${where}: device "${driver}" is not supported (virtio-blk-device only)`);
  }
  let drive: string | undefined;
  let slot: number | undefined;
  for (const part of opts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'drive') drive = value;
    else if (key === 'bus') {
      const m = BUS.exec(value);
      if (!m || Number(m[1]) >= slots) throw new DriveSpecError(`${where}: bus "${value}" is not virtio-mmio-bus.0 .. virtio-mmio-bus.${slots - 1}`);
      slot = Number(m[1]);
    } else throw new DriveSpecError(`${where}: unknown option "${key}" (drive=, bus=)`);
  }
  if (drive === undefined || drive === '') throw new DriveSpecError(`${where}: no drive=ID`);
  return { drive, slot, text };
}

/**
 * The disks the command line asks for, each with its slot. `reserved` slots are taken
 * already (the virtio console's); `slots` is how many the machine has.
 */
export function parseDriveSpecs(drives: readonly string[], devices: readonly string[], slots: number, reserved: readonly number[] = []): DriveSpec[] {
  const parsed = drives.map(parseDrive);
  const byId = new Map<string, ParsedDrive>();
  for (const d of parsed) {
    if (d.id === undefined) continue;
    if (byId.has(d.id)) throw new DriveSpecError(`--drive "${d.text}": id "${d.id}" is used by an earlier drive too`);
    byId.set(d.id, d);
  }
  const taken = new Set(reserved);
  const out: DriveSpec[] = [];
  const take = (d: ParsedDrive, slot: number) => {
    taken.add(slot);
    out.push({ path: d.path, format: d.format, readOnly: d.readOnly, slot, text: d.text });
  };
  const used = new Set<string>();
  const devs = devices.map((t) => parseDevice(t, slots));
  // Devices that name their bus first, so the others cannot take those slots.
  for (const dev of devs.filter((d) => d.slot !== undefined)) {
    if (taken.has(dev.slot!)) throw new DriveSpecError(`--device "${dev.text}": virtio-mmio-bus.${dev.slot} is taken`);
    taken.add(dev.slot!);
  }
  const free = (from: number, step: number) => {
    for (let s = from; s >= 0 && s < slots; s += step) if (!taken.has(s)) return s;
    throw new DriveSpecError(`more disks than the ${slots} virtio-mmio slots hold`);
  };
  for (const d of parsed) if (!d.ifNone) take(d, free(0, 1));
  for (const dev of devs) {
    const d = byId.get(dev.drive);
    if (!d || !d.ifNone) throw new DriveSpecError(`--device "${dev.text}": there is no --drive with if=none,id=${dev.drive}`);
    if (used.has(dev.drive)) throw new DriveSpecError(`--device "${dev.text}": drive ${dev.drive} is attached to an earlier device already`);
    used.add(dev.drive);
    if (dev.slot !== undefined) {
      taken.delete(dev.slot);
      take(d, dev.slot);
    } else take(d, free(slots - 1, -1));
  }
  for (const d of parsed) {
    if (d.ifNone && !used.has(d.id!)) throw new DriveSpecError(`--drive "${d.text}": drive ${d.id} (if=none) is attached to no -device virtio-blk-device,drive=${d.id}`);
  }
  return out;
}
