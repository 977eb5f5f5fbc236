/** The built-in boot images shipped in the repository (node only). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { LinuxBootImages } from '../boot/index.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const BUILTIN = {
  firmware: repo('roms/opensbi/fw_dynamic.bin'),
  kernel: repo('appliances/boot/Image.gz'),
  initrd: repo('appliances/boot/initramfs.cpio.gz'),
};

export const DEFAULT_BOOTARGS = 'console=ttyS0';

/** The built-in firmware, kernel and busybox initramfs, ready for Vm.create. */
export async function builtinInitramfsImages(): Promise<LinuxBootImages> {
  return {
    firmware: new Uint8Array(await readFile(BUILTIN.firmware)),
    kernel: await readMaybeGzip(BUILTIN.kernel),
    initrd: new Uint8Array(await readFile(BUILTIN.initrd)),
    bootargs: DEFAULT_BOOTARGS,
  };
}

/** Reads a file, gunzipping it if it is gzip (kernels are shipped as Image.gz). */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}
