/** The built-in boot images shipped in the repository (node only). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const BUILTIN = {
  firmware: repo('roms/opensbi/fw_dynamic.bin'),
  kernel: repo('appliances/boot/Image.gz'),
  initrd: repo('appliances/boot/initramfs.cpio.gz'),
};

export const DEFAULT_BOOTARGS = 'console=ttyS0';

/** Reads a file, gunzipping it if it is gzip (kernels are shipped as Image.gz). */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}
