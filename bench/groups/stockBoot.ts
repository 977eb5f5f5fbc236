// A kernel a user would bring: Debian's linux-source-6.1 with tinyconfig plus only what the
// virt machine needs (SMP on, HZ=250, periodic tick; appliances/build/build-stock.sh), and a
// busybox-defconfig initramfs the kernel inflates itself, none of the project kernel's
// boot-time tuning. Booted on one hart to its prompt by romvisor (interpreter and --jit auto)
// and by QEMU with the same firmware, Image, initramfs and command line.
import { fileURLToPath } from 'node:url';
import { BUILTIN } from '../../src/cli/bootImages.ts';
import { bootRows, type BootSet } from './linuxBoot.ts';
import type { BenchGroup } from '../Types.ts';

const stock = (f: string) => fileURLToPath(new URL(`../../appliances/stock/${f}`, import.meta.url));

const STOCK: BootSet = {
  firmware: BUILTIN.firmware,
  kernel: stock('Image.gz'),
  initrd: stock('initramfs.cpio.gz'),
  bootargs: 'console=ttyS0',
  prompt: '~ # ',
};

export const stockBootGroup: BenchGroup = {
  name: 'stock-boot',
  description: 'a stock-configured Linux 6.1 (tinyconfig + SMP, HZ=250) + busybox-defconfig initramfs to the shell prompt, romvisor (interpreter, and --jit auto) vs QEMU',
  run: (log) => bootRows('stock-boot', STOCK, 'Image-stock', log),
};
