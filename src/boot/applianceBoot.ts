/**
 * The boot files of an appliance disk: partition 1 (ext2/3/4) holds `Image` (the kernel,
 * uncompressed; a gzipped one is unpacked too), an optional `initrd`, and `appliance.json`.
 * The root file system is elsewhere on the disk (partition 2 by convention), mounted by
 * Linux over virtio-blk as the command line says. Works on any ByteSource (a VhdDisk chain).
 */
import { Ext2Error, openPartitionFileSystem, type ByteSource, type Ext2Reader } from '../disk/index.ts';
import { ApplianceError } from './ApplianceError.ts';
import { parseApplianceManifest, type ApplianceManifest } from './ApplianceManifest.ts';
import type { LinuxBootImages } from './linuxBoot.ts';

export const BOOT_PARTITION = 1;
export const MANIFEST_PATH = '/appliance.json';
export const KERNEL_PATH = '/Image';
export const INITRD_PATH = '/initrd';
/** appliance.json is small; anything bigger is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export interface ApplianceBoot {
  manifest: ApplianceManifest;
  /** Kernel, initrd and command line from the disk; the caller adds the firmware. */
  images: Omit<LinuxBootImages, 'firmware'>;
}

/**
 * Reads appliance.json, Image and initrd from the boot partition of `disk`. Throws
 * PartitionError / Ext2Error for a damaged disk, ApplianceError for missing or bad files.
 */
export async function readApplianceBoot(disk: ByteSource): Promise<ApplianceBoot> {
  const fs = await openPartitionFileSystem(disk, BOOT_PARTITION);
  const manifestBytes = await readBootFile(fs, MANIFEST_PATH, MAX_MANIFEST_BYTES);
  const manifest = parseApplianceManifest(manifestBytes!, `partition ${BOOT_PARTITION}${MANIFEST_PATH}`);
  let kernel = (await readBootFile(fs, KERNEL_PATH))!;
  if (kernel[0] === 0x1f && kernel[1] === 0x8b) kernel = await gunzip(kernel);
  const initrd = await readBootFile(fs, INITRD_PATH, undefined, true);
  return { manifest, images: { kernel, initrd, bootargs: manifest.cmdline } };
}

async function readBootFile(fs: Ext2Reader, path: string, maxBytes?: number, optional = false): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(path, { maxBytes });
  } catch (e) {
    if (e instanceof Ext2Error && e.code === 'not-found') {
      if (optional) return undefined;
      throw new ApplianceError('missing-file', `appliance: partition ${BOOT_PARTITION} has no ${path} (${e.message})`, path);
    }
    throw e;
  }
}

/** DecompressionStream exists in browsers and node ≥ 18, so this module stays portable. */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
