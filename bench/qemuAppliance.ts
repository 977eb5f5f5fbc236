// QEMU booting an appliance: the kernel gunzipped (QEMU cannot read it from the VHD) and
// the VHD gunzipped into a work folder, the disk on virtio-blk with snapshot=on (each
// QEMU's writes stay in its own temporary file).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readApplianceBoot, type ApplianceBoot } from '../src/boot/applianceBoot.ts';
import { BUILTIN } from '../src/cli/bootImages.ts';
import { VhdDisk } from '../src/disk/index.ts';
import { FileBackend, fileParentResolver } from '../src/disk/node.ts';

const repo = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** Writes the kernel and disk into `work`; returns QEMU's arguments up to the network card. */
export function qemuBaseApplianceArgs(work: string, memory: string): string[] {
  const kernel = join(work, 'Image');
  writeFileSync(kernel, gunzipSync(readFileSync(repo('appliances/boot/Image.gz'))));
  const disk = join(work, 'base.vhd');
  writeFileSync(disk, gunzipSync(readFileSync(repo('appliances/base.vhd.gz'))));
  return [
    '-M', 'virt', '-m', memory, '-nographic', '-monitor', 'none',
    '-bios', repo('roms/opensbi/fw_dynamic.bin'),
    '-kernel', kernel,
    '-append', 'console=ttyS0 root=/dev/vda2 rw rootwait',
    '-drive', `file=${disk},format=vpc,if=none,id=d0,snapshot=on`,
    '-device', 'virtio-blk-device,drive=d0',
  ];
}

/**
 * Any appliance (.vhd or .vhd.gz) as QEMU boots it: the VHD (gunzipped) and its kernel, read
 * from its boot partition, written into `work`; the appliance's memory and command line,
 * its console moved from hvc0 (romvisor's virtio console) to ttyS0 (QEMU's stdio); the disk
 * with snapshot=on and no network card. Returns QEMU's arguments (with -nographic).
 */
export async function qemuApplianceArgs(image: string, work: string): Promise<string[]> {
  const disk = join(work, basename(image).replace(/\.gz$/i, ''));
  const bytes = readFileSync(image);
  writeFileSync(disk, /\.gz$/i.test(image) ? gunzipSync(bytes) : bytes);
  const vhd = await VhdDisk.open(await FileBackend.open(disk, { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
  let boot: ApplianceBoot;
  try {
    boot = await readApplianceBoot(vhd);
  } finally {
    await vhd.dispose();
  }
  const kernel = `${disk}.Image`;
  writeFileSync(kernel, boot.images.kernel);
  return [
    '-M', 'virt', '-m', `${boot.manifest.memoryMiB ?? 64}M`, '-nographic', '-monitor', 'none', '-nic', 'none',
    '-bios', BUILTIN.firmware,
    '-kernel', kernel,
    // keep_bootcon would print the kernel's lines twice on the one serial port.
    '-append', boot.images.bootargs.replace(/\bconsole=hvc0\b/, 'console=ttyS0').replace(/ keep_bootcon\b/, ''),
    '-drive', `file=${disk},format=vpc,if=none,id=d0,snapshot=on`,
    '-device', 'virtio-blk-device,drive=d0',
  ];
}
