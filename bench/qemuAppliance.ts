// QEMU booting the base appliance as the network benchmarks run it: the committed kernel
// gunzipped (QEMU cannot read it from the VHD) and the VHD gunzipped into `work`, the disk
// on virtio-blk with snapshot=on (each QEMU's writes stay in its own temporary file).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

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
