/**
 * `appliance.json` on an appliance's boot partition: what the catalog shows and how the
 * boot sequence starts it.
 *
 *   { "name": "base", "title": "romvisor base", "description": "...", "version": "1.0.0",
 *     "cmdline": "console=ttyS0 root=/dev/vda2 rw rootwait", "memoryMiB": 64,
 *     "tryFirst": ["pagefault-demo", "poweroff"], "kernel": "Image" }
 *
 * name and cmdline are required; `kernel` names the kernel's file on the boot partition
 * (default: Image, else Image.gz; the appliances this repository builds say "Image"); unknown fields are ignored so older romvisors boot newer
 * appliances. The file comes from a disk image anyone can make, so every field is checked.
 */
import { ApplianceError } from './ApplianceError.ts';

export interface ApplianceManifest {
  /** Short identifier: letters, digits, '.', '_', '-'. */
  name: string;
  title?: string;
  description?: string;
  version?: string;
  /** The kernel command line. */
  cmdline: string;
  /** RAM the appliance wants; the user may give more. */
  memoryMiB?: number;
  /**
   * Size of the blank data disk (/dev/vdb, mounted at /data by the appliance's init) the host
   * makes for each VM of this appliance; an update of the system disk keeps it.
   */
  dataDiskMiB?: number;
  /** Commands worth typing first, shown to the user. */
  tryFirst: string[];
  /** The kernel's file name in the boot partition's root directory, when the manifest names one. */
  kernel?: string;
}

export const MANIFEST_LIMITS = { name: 32, text: 4096, cmdline: 1024, tryFirst: 32, memoryMiB: { min: 64, max: 2048 }, dataDiskMiB: { min: 1, max: 65536 } } as const;

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : typeof v === 'object' ? 'an object' : String(v));

/** Parses the bytes of appliance.json; `where` names the file in messages. */
export function parseApplianceManifest(bytes: Uint8Array, where = 'appliance.json'): ApplianceManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ApplianceError('bad-manifest', `${where}: not UTF-8 JSON: ${(e as Error).message}`, where);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ApplianceError('bad-manifest', `${where}: must be a JSON object, got ${describe(json)}`, where);
  }
  const o = json as Record<string, unknown>;
  const bad = (field: string, why: string): never => {
    throw new ApplianceError('bad-manifest', `${where}: ${field} ${why}, got ${describe(o[field])}`, `${where}: ${field}`);
  };
  const text = (field: string, max: number, required: boolean): string | undefined => {
    const v = o[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string') return bad(field, required ? 'is required and must be a string' : 'must be a string');
    if (v.length > max) return bad(field, `must be at most ${max} characters`);
    return v;
  };
  const name = text('name', MANIFEST_LIMITS.name, true)!;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) bad('name', "may only contain letters, digits, '.', '_' and '-'");
  const cmdline = text('cmdline', MANIFEST_LIMITS.cmdline, true)!;
  if (/[\0\n\r]/.test(cmdline)) bad('cmdline', 'must be one line');
  let memoryMiB: number | undefined;
  if (o.memoryMiB !== undefined) {
    const m = o.memoryMiB;
    const { min, max } = MANIFEST_LIMITS.memoryMiB;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < min || m > max) bad('memoryMiB', `must be a whole number from ${min} to ${max}`);
    memoryMiB = m as number;
  }
  let dataDiskMiB: number | undefined;
  if (o.dataDiskMiB !== undefined) {
    const d = o.dataDiskMiB;
    const { min, max } = MANIFEST_LIMITS.dataDiskMiB;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < min || d > max) bad('dataDiskMiB', `must be a whole number from ${min} to ${max}`);
    dataDiskMiB = d as number;
  }
  let tryFirst: string[] = [];
  if (o.tryFirst !== undefined) {
    if (!Array.isArray(o.tryFirst) || o.tryFirst.length > MANIFEST_LIMITS.tryFirst || !o.tryFirst.every((t) => typeof t === 'string' && t.length <= MANIFEST_LIMITS.text)) {
      bad('tryFirst', `must be an array of at most ${MANIFEST_LIMITS.tryFirst} strings`);
    }
    tryFirst = o.tryFirst as string[];
  }
  const kernel = text('kernel', MANIFEST_LIMITS.name, false);
  if (kernel !== undefined && !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(kernel)) bad('kernel', 'must be a file name in the partition\'s root directory');
  return {
    name,
    title: text('title', MANIFEST_LIMITS.text, false),
    description: text('description', MANIFEST_LIMITS.text, false),
    version: text('version', MANIFEST_LIMITS.text, false),
    cmdline,
    memoryMiB,
    ...(dataDiskMiB !== undefined ? { dataDiskMiB } : {}),
    tryFirst,
    kernel,
  };
}
