/**
 * The boot files of an appliance disk, read the same way by the CLI, the page's worker and
 * the image store's import. Partition 1 (ext2/3/4) of an MBR disk holds:
 *
 *   appliance.json  the manifest (ApplianceManifest.ts): name, cmdline, memory, ...
 *   Image           the kernel, plain or gzipped (detected by its magic); a manifest's
 *                   "kernel" names another file, and without one Image.gz is tried next
 *   initrd          optional; handed to Linux as it is (Linux unpacks a compressed one)
 *
 * The root file system is elsewhere on the disk (partition 2 by convention), mounted by
 * Linux over virtio-blk as the command line says. Works on any ByteSource (a VhdDisk
 * chain). Every refusal of the files is an ApplianceError; a disk without an MBR or
 * ext2 boot partition throws the disk layer's PartitionError / Ext2Error.
 */
import { inflateBounded, InflateError } from '../compress/inflateBounded.ts';
import { Ext2Error, openPartitionFileSystem, type ByteSource, type Ext2Reader } from '../disk/index.ts';
import { ApplianceError } from './ApplianceError.ts';
import { parseApplianceManifest, type ApplianceManifest } from './ApplianceManifest.ts';
import type { LinuxBootImages } from './linuxBoot.ts';

export const BOOT_PARTITION = 1;
export const MANIFEST_PATH = '/appliance.json';
/** Where the kernel is looked for when appliance.json names none, in this order. */
export const KERNEL_PATHS = ['/Image', '/Image.gz'] as const;
export const INITRD_PATH = '/initrd';

/** What romvisor loads from a boot partition at most. */
export const BOOT_FILE_LIMITS = {
  /** appliance.json is small; anything bigger is not one. */
  manifest: 64 * 1024,
  /** The kernel as stored and, when gzipped, as unpacked (Linux's Image is ~20 MiB). */
  kernel: 64 * 1024 * 1024,
  initrd: 256 * 1024 * 1024,
} as const;

/** Gzip's magic bytes (RFC 1952). */
const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** Input is fed to the inflater in pieces this big: one piece unpacks to at most ~1032× it (16 MiB past the limit). */
const INFLATE_PIECE = 16 * 1024;

export interface ApplianceBoot {
  manifest: ApplianceManifest;
  /** Kernel (unpacked), initrd and command line from the disk; the caller adds the firmware. */
  images: Omit<LinuxBootImages, 'firmware'>;
}

/**
 * Reads and checks only appliance.json on the boot partition of `disk`: what the catalog
 * needs to show an imported appliance, without loading its kernel.
 */
export async function readApplianceManifest(disk: ByteSource): Promise<ApplianceManifest> {
  return parseManifest(await openPartitionFileSystem(disk, BOOT_PARTITION));
}

/**
 * Reads appliance.json, the kernel and the initrd from the boot partition of `disk`.
 * Throws PartitionError / Ext2Error for a damaged disk, ApplianceError for missing or bad files.
 */
export async function readApplianceBoot(disk: ByteSource): Promise<ApplianceBoot> {
  const fs = await openPartitionFileSystem(disk, BOOT_PARTITION);
  const manifest = await parseManifest(fs);
  const kernel = await readKernel(fs, manifest.kernel);
  const initrd = await readBootFile(fs, INITRD_PATH, BOOT_FILE_LIMITS.initrd, true);
  return { manifest, images: { kernel, initrd, bootargs: manifest.cmdline } };
}

async function parseManifest(fs: Ext2Reader): Promise<ApplianceManifest> {
  const bytes = (await readBootFile(fs, MANIFEST_PATH, BOOT_FILE_LIMITS.manifest))!;
  return parseApplianceManifest(bytes, `partition ${BOOT_PARTITION}${MANIFEST_PATH}`);
}

async function readKernel(fs: Ext2Reader, named: string | undefined): Promise<Uint8Array> {
  let stored: Uint8Array | undefined;
  let path = named !== undefined ? `/${named}` : KERNEL_PATHS[0];
  if (named !== undefined) {
    stored = await readBootFile(fs, path, BOOT_FILE_LIMITS.kernel);
  } else {
    for (const p of KERNEL_PATHS) {
      path = p;
      stored = await readBootFile(fs, p, BOOT_FILE_LIMITS.kernel, true);
      if (stored) break;
    }
    if (!stored) {
      throw new ApplianceError('missing-file', `appliance: partition ${BOOT_PARTITION} has no kernel (looked for ${KERNEL_PATHS.join(' and ')}; appliance.json names none)`, KERNEL_PATHS[0]);
    }
  }
  return isGzip(stored!) ? gunzipBounded(stored!, BOOT_FILE_LIMITS.kernel, `partition ${BOOT_PARTITION}${path}`) : stored!;
}

async function readBootFile(fs: Ext2Reader, path: string, maxBytes: number, optional = false): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(path, { maxBytes });
  } catch (e) {
    if (e instanceof Ext2Error && e.code === 'not-found') {
      if (optional) return undefined;
      throw new ApplianceError('missing-file', `appliance: partition ${BOOT_PARTITION} has no ${path} (${e.message})`, path);
    }
    if (e instanceof Ext2Error && e.code === 'too-large') {
      throw new ApplianceError('too-large', `appliance: partition ${BOOT_PARTITION}${path} is over romvisor's ${maxBytes / 2 ** 20} MiB limit (${e.message})`, path);
    }
    throw e;
  }
}

/**
 * Unpacks gzip data, refusing to produce more than `maxBytes` (a small file can unpack to
 * gigabytes), with the appliance's own errors.
 */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number, where: string): Uint8Array {
  try {
    return inflateBounded(bytes, { format: 'gzip', maxBytes, pieceBytes: INFLATE_PIECE });
  } catch (e) {
    if (!(e instanceof InflateError)) throw e;
    const f = e.failure;
    if (f.kind === 'too-large') throw new ApplianceError('too-large', `${where}: unpacks to more than romvisor's ${maxBytes / 2 ** 20} MiB limit`, where);
    if (f.kind === 'truncated') throw new ApplianceError('bad-kernel', `${where}: gzip data ends early (truncated file)`, where);
    throw new ApplianceError('bad-kernel', `${where}: gzip data does not unpack: ${f.message}`, where);
  }
}
