/**
 * Puts an ELF's PT_LOAD segments into guest RAM at their physical addresses, zeroing each
 * segment's tail beyond its file bytes (.bss). Shared by bare-metal programs (run-elf) and
 * bare kernels (`-bios none`); free of node imports so the page can load kernels too.
 */
import { RAM_BASE, type Core } from '../machine/Core.ts';
import { hex } from '../format/hex.ts';
import { ElfError, type ElfImage } from './ElfImage.ts';

export function loadElfIntoRam(core: Core, elf: ElfImage): void {
  const ramEnd = RAM_BASE + BigInt(core.ramBytes);
  for (const seg of elf.segments) {
    if (seg.memSize === 0n) continue;
    if (seg.paddr < RAM_BASE || seg.paddr + seg.memSize > ramEnd) {
      throw new ElfError(
        'bad-segment',
        `segment at ${hex(seg.paddr)} (${hex(seg.memSize)} bytes) is outside RAM ${hex(RAM_BASE)}..${hex(ramEnd)}`,
      );
    }
    const off = Number(seg.paddr - RAM_BASE);
    core.ram.fill(0, off, off + Number(seg.memSize));
    core.ram.set(seg.data, off);
    core.ramWritten(off, Number(seg.memSize));
  }
}
