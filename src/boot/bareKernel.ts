/**
 * QEMU's bare-kernel boot (`qemu-system-riscv64 -machine virt -bios none -kernel ELF`), the
 * way operating-systems courses start their kernels: no firmware, the ELF's segments at
 * their physical addresses, a device tree at the top of RAM, and every hart starting in
 * M-mode at the reset ROM, which sets a0 = mhartid, a1 = the device tree and a2 = a
 * fw_dynamic_info (unused without firmware) and jumps to 0x8000_0000.
 *
 * QEMU jumps to the start of RAM whatever the ELF's e_entry says (with `-bios none` the
 * "firmware" ends where it starts, and the reset vector jumps to the firmware's address),
 * so we do the same: a kernel linked to start elsewhere starts at 0x8000_0000 under both.
 *
 *   0x8000_0000                the kernel's PT_LOAD segments (p_paddr)
 *   align_down(top - 1 MiB, 2 MiB)  the device tree, as QEMU's riscv_load_fdt places its
 *                              1 MiB tree (0x87e0_0000 with 128 MiB)
 */
import { buildVirtDeviceTree, RAM_BASE, type Core, type GuestLoader, type TimeMode, type VmConfig, type VmDisk } from '../machine/index.ts';
import type { JitMode } from '../jit/Jit.ts';
import { hex } from '../format/hex.ts';
import { BootError } from './BootError.ts';
import { loadElfIntoRam } from './elfRam.ts';
import type { ElfImage } from './ElfImage.ts';
import { buildResetRom, RESET_ROM_BASE } from './resetRom.ts';

/** QEMU creates its tree with this total size and places it by it. */
const QEMU_FDT_SIZE = 0x10_0000n;
const FDT_ALIGN = 0x20_0000n;

export interface BareKernelOptions {
  /** The device tree's /chosen bootargs (QEMU's -append); empty by default. */
  bootargs?: string;
}

/** Where the device tree goes in RAM of `ramBytes`: QEMU's address for the same size. */
export function bareKernelFdtAddress(ramBytes: number): bigint {
  const top = RAM_BASE + BigInt(ramBytes);
  return (top - QEMU_FDT_SIZE) & ~(FDT_ALIGN - 1n);
}

/** Loads the ELF and the device tree into a fresh core and points the hart at the reset ROM. */
export function loadBareKernel(core: Core, elf: ElfImage, opts: BareKernelOptions = {}): bigint {
  const fdt = buildVirtDeviceTree({ ramBase: RAM_BASE, ramBytes: BigInt(core.ramBytes), bootargs: opts.bootargs ?? '', timebaseHz: core.timebaseHz, harts: core.harts });
  const fdtAt = bareKernelFdtAddress(core.ramBytes);
  if (fdtAt < RAM_BASE) throw new BootError('ram-too-small', `memory: ${core.ramBytes >> 20} MiB leaves no room for the device tree`);
  const fdtEnd = fdtAt + BigInt(fdt.length);
  for (const seg of elf.segments) {
    const end = seg.paddr + seg.memSize;
    if (seg.memSize > 0n && seg.paddr < fdtEnd && end > fdtAt) {
      throw new BootError(
        'ram-too-small',
        `kernel: segment ${hex(seg.paddr)}..${hex(end)} overlaps the device tree at ${hex(fdtAt)}..${hex(fdtEnd)}; give more memory (-m)`,
      );
    }
  }
  core.reset();
  loadElfIntoRam(core, elf);
  core.ram.set(fdt, Number(fdtAt - RAM_BASE));
  const rom = buildResetRom({ firmwareAddr: RAM_BASE, fdtAddr: fdtAt, nextAddr: elf.entry });
  core.rom.fill(0);
  core.rom.set(rom, Number(RESET_ROM_BASE));
  // Every hart starts in the ROM (a0 = its mhartid), as on QEMU's virt.
  for (let h = 0; h < core.harts; h++) core.setHartPc(h, RESET_ROM_BASE);
  return fdtAt;
}

/** A Vm's loader for a bare kernel: `Vm.create(module, { boot: bareKernelLoader(elf), ... })`. */
export function bareKernelLoader(elf: ElfImage, opts: BareKernelOptions = {}): GuestLoader {
  return { load: (core) => void loadBareKernel(core, elf, opts) };
}

/** What a bare-kernel machine is made of: the same for `romvisor boot --bios none` and the page's "Run a kernel". */
export interface BareKernelMachine {
  elf: ElfImage;
  ramBytes: number;
  /** QEMU's -smp (default 1). */
  harts?: number;
  timeMode: TimeMode;
  jit?: JitMode;
  /** QEMU's -append: the device tree's /chosen bootargs. */
  bootargs?: string;
  /** The drives, each on its virtio-mmio slot (modern virtio-mmio, as QEMU with force-legacy=false). */
  disks?: VmDisk[];
}

/**
 * The Vm configuration of QEMU's `-machine virt -bios none -kernel ELF`: no firmware, the
 * UART as the only console (no virtio console, no network card: a teaching kernel finds
 * exactly the devices it would under QEMU), the drives where the caller put them. The CLI
 * adds a --share device on top; nothing else differs between the CLI and the page.
 */
export function bareKernelVmConfig(m: BareKernelMachine): VmConfig {
  return {
    ramBytes: m.ramBytes,
    harts: m.harts,
    timeMode: m.timeMode,
    jit: m.jit,
    boot: bareKernelLoader(m.elf, { bootargs: m.bootargs }),
    disks: m.disks,
  };
}
