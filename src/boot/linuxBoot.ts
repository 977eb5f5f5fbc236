/**
 * Places firmware, kernel, initrd and device tree in a fresh machine's RAM, the way QEMU's
 * virt board does for `-bios fw_dynamic.bin -kernel Image -initrd ... -append ...`, and
 * points the hart at the reset ROM.
 *
 *   0x8000_0000            firmware (OpenSBI fw_dynamic; it protects its own 2 MiB)
 *   0x8020_0000            kernel Image (RISC-V Linux wants a 2 MiB-aligned load address)
 *   ... free ...
 *   top - 1 MiB - initrd   initrd, page aligned
 *   top - 1 MiB            device tree, with room above it for OpenSBI's fix-ups
 */
import { buildVirtDeviceTree, Core, RAM_BASE, type GuestLoader } from '../machine/index.ts';
import { BootError } from './BootError.ts';
import { buildResetRom, RESET_ROM_BASE } from './resetRom.ts';

export const MIN_RAM = 64 << 20;
export const KERNEL_OFFSET = 0x20_0000n;
const FDT_SPACE = 0x10_0000n;
const PAGE = 0x1000n;

export interface LinuxBootImages {
  firmware: Uint8Array;
  /** An uncompressed RISC-V Linux `Image`. */
  kernel: Uint8Array;
  initrd?: Uint8Array;
  bootargs: string;
}

export interface BootLayout {
  firmware: bigint;
  kernel: bigint;
  kernelEnd: bigint;
  initrd?: { start: bigint; end: bigint };
  fdt: bigint;
}

/** The Image header (Documentation/riscv/boot-image-header.rst): magic2 "RSC\x05" at 56. */
export function kernelImageSize(kernel: Uint8Array): bigint {
  const dv = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const magic2 = kernel.length >= 64 ? dv.getUint32(56, true) : 0;
  if (magic2 !== 0x05435352) {
    throw new BootError('not-kernel-image', `kernel: no RISC-V Image header (magic2 at 0x38 is 0x${magic2.toString(16)}, expected 0x5435352 "RSC\\x05"); pass an uncompressed Image`);
  }
  const size = dv.getBigUint64(16, true);
  return size > BigInt(kernel.length) ? size : BigInt(kernel.length);
}

export function planBootLayout(ramBytes: number, images: LinuxBootImages, fdtSize: number): BootLayout {
  if (ramBytes < MIN_RAM) {
    throw new BootError('ram-too-small', `memory: ${ramBytes >> 20} MiB is below the minimum of ${MIN_RAM >> 20} MiB`);
  }
  const ramEnd = RAM_BASE + BigInt(ramBytes);
  const kernel = RAM_BASE + KERNEL_OFFSET;
  if (BigInt(images.firmware.length) > KERNEL_OFFSET) {
    throw new BootError('ram-too-small', `firmware: ${images.firmware.length} bytes do not fit below the kernel at 0x${kernel.toString(16)}`);
  }
  const kernelEnd = kernel + kernelImageSize(images.kernel);
  const fdt = ramEnd - FDT_SPACE;
  let initrd: BootLayout['initrd'];
  let lowestUsed = fdt;
  if (images.initrd) {
    const start = (fdt - BigInt(images.initrd.length)) & ~(PAGE - 1n);
    initrd = { start, end: start + BigInt(images.initrd.length) };
    lowestUsed = start;
  }
  if (kernelEnd > lowestUsed || BigInt(fdtSize) > FDT_SPACE / 2n) {
    throw new BootError('ram-too-small', `memory: ${ramBytes >> 20} MiB cannot hold the kernel (ends at 0x${kernelEnd.toString(16)}) and the initrd (starts at 0x${lowestUsed.toString(16)})`);
  }
  return { firmware: RAM_BASE, kernel, kernelEnd, initrd, fdt };
}

/** Loads everything into a new core's RAM and sets the hart at the reset vector. */
export function loadLinuxBoot(core: Core, images: LinuxBootImages, timebaseHz: number): BootLayout {
  const fdtFor = (initrd?: { start: bigint; end: bigint }) =>
    buildVirtDeviceTree({ ramBase: RAM_BASE, ramBytes: BigInt(core.ramBytes), bootargs: images.bootargs, timebaseHz, initrd, harts: core.harts });
  // The initrd range is part of the tree, and the tree's size decides nothing about the
  // initrd's place (it sits below a fixed FDT window), so plan with a first draft.
  const layout = planBootLayout(core.ramBytes, images, fdtFor({ start: 0n, end: 0n }).length);
  const fdt = fdtFor(layout.initrd);

  // A new core's RAM is already zero (fresh wasm pages): clearing 256 MiB again would
  // cost a tenth of the boot. Callers hand in a new core, never a used one.
  core.reset();
  const at = (pa: bigint) => Number(pa - RAM_BASE);
  core.ram.set(images.firmware, at(layout.firmware));
  core.ram.set(images.kernel, at(layout.kernel));
  if (images.initrd && layout.initrd) core.ram.set(images.initrd, at(layout.initrd.start));
  core.ram.set(fdt, at(layout.fdt));
  core.ramWritten(0, core.ramBytes); // nothing is compiled yet after the reset; stay safe if that changes

  const rom = buildResetRom({ firmwareAddr: layout.firmware, fdtAddr: layout.fdt, nextAddr: layout.kernel });
  core.rom.fill(0);
  core.rom.set(rom, Number(RESET_ROM_BASE));
  // Every hart starts in the ROM, as on QEMU's virt: OpenSBI's fw_dynamic keeps the others
  // parked (HSM) until the kernel starts them.
  for (let h = 0; h < core.harts; h++) core.setHartPc(h, RESET_ROM_BASE);
  return layout;
}

/** A Vm's loader for Linux behind the reset ROM and the firmware: `Vm.create(module, { boot: linuxLoader(images), ... })`. */
export function linuxLoader(images: LinuxBootImages): GuestLoader {
  return { load: (core) => void loadLinuxBoot(core, images, core.timebaseHz) };
}
