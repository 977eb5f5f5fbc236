import { CodedError } from '../errors/CodedError.ts';
import { hex } from '../format/hex.ts';

/**
 * ELF64 RISC-V executables: the loadable segments and the symbols a bare-metal run needs
 * (`tohost`). Every field that could send a read out of bounds is checked first.
 */

export type ElfErrorCode = 'not-elf' | 'not-elf64' | 'not-riscv' | 'not-executable' | 'truncated' | 'bad-segment';

export class ElfError extends CodedError<ElfErrorCode> {
  constructor(
    code: ElfErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'ElfError';
  }
}

export interface ElfSegment {
  /** Physical load address. */
  paddr: bigint;
  /** Bytes from the file; the rest of memSize is zero. */
  data: Uint8Array;
  memSize: bigint;
}

const EM_RISCV = 243;
const ET_EXEC = 2;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;


export class ElfImage {
  private constructor(
    readonly entry: bigint,
    readonly segments: ElfSegment[],
    readonly symbols: Map<string, bigint>,
  ) {}

  static parse(bytes: Uint8Array, name = 'ELF file'): ElfImage {
    const need = (end: bigint | number, what: string) => {
      if (BigInt(end) > BigInt(bytes.length)) {
        throw new ElfError('truncated', `${name}: ${what} ends at ${hex(end)}, past the end of the file (${hex(bytes.length)} bytes)`);
      }
    };
    if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new ElfError('not-elf', `${name}: not an ELF file (no \\x7fELF magic at offset 0)`);
    }
    need(64, 'ELF header');
    if (bytes[4] !== 2 || bytes[5] !== 1) {
      throw new ElfError('not-elf64', `${name}: ELF class ${bytes[4]} / data ${bytes[5]} at offset 4, expected 64-bit little-endian (2 / 1)`);
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const type = dv.getUint16(16, true);
    const machine = dv.getUint16(18, true);
    if (machine !== EM_RISCV) throw new ElfError('not-riscv', `${name}: e_machine at 0x12 is ${machine}, expected ${EM_RISCV} (RISC-V)`);
    if (type !== ET_EXEC) throw new ElfError('not-executable', `${name}: e_type at 0x10 is ${type}, expected ${ET_EXEC} (executable)`);
    const entry = dv.getBigUint64(24, true);
    const phoff = dv.getBigUint64(32, true);
    const shoff = dv.getBigUint64(40, true);
    const phentsize = dv.getUint16(54, true);
    const phnum = dv.getUint16(56, true);
    const shentsize = dv.getUint16(58, true);
    const shnum = dv.getUint16(60, true);

    const segments: ElfSegment[] = [];
    if (phnum > 0 && phentsize < 56) throw new ElfError('bad-segment', `${name}: e_phentsize at 0x36 is ${phentsize}, expected 56`);
    need(phoff + BigInt(phnum * phentsize), 'program header table');
    for (let i = 0; i < phnum; i++) {
      const ph = Number(phoff) + i * phentsize;
      if (dv.getUint32(ph, true) !== PT_LOAD) continue;
      const offset = dv.getBigUint64(ph + 8, true);
      const paddr = dv.getBigUint64(ph + 24, true);
      const fileSize = dv.getBigUint64(ph + 32, true);
      const memSize = dv.getBigUint64(ph + 40, true);
      if (fileSize > memSize) {
        throw new ElfError('bad-segment', `${name}: segment ${i} at ${hex(ph)}: p_filesz ${hex(fileSize)} exceeds p_memsz ${hex(memSize)}`);
      }
      need(offset + fileSize, `segment ${i} (program header at ${hex(ph)})`);
      segments.push({ paddr, memSize, data: bytes.subarray(Number(offset), Number(offset + fileSize)) });
    }
    if (segments.length === 0) throw new ElfError('bad-segment', `${name}: no PT_LOAD segment`);

    const symbols = new Map<string, bigint>();
    if (shnum > 0 && shentsize >= 64 && shoff + BigInt(shnum * shentsize) <= BigInt(bytes.length)) {
      for (let i = 0; i < shnum; i++) {
        const sh = Number(shoff) + i * shentsize;
        if (dv.getUint32(sh + 4, true) !== SHT_SYMTAB) continue;
        const off = dv.getBigUint64(sh + 24, true);
        const size = dv.getBigUint64(sh + 32, true);
        const link = dv.getUint32(sh + 40, true);
        if (link >= shnum || off + size > BigInt(bytes.length)) continue;
        const strSh = Number(shoff) + link * shentsize;
        const strOff = Number(dv.getBigUint64(strSh + 24, true));
        const strSize = Number(dv.getBigUint64(strSh + 32, true));
        if (strOff + strSize > bytes.length) continue;
        for (let s = Number(off); s + 24 <= Number(off + size); s += 24) {
          const nameOff = dv.getUint32(s, true);
          if (nameOff === 0 || nameOff >= strSize) continue;
          let end = strOff + nameOff;
          while (end < strOff + strSize && bytes[end] !== 0) end++;
          const symName = new TextDecoder().decode(bytes.subarray(strOff + nameOff, end));
          symbols.set(symName, dv.getBigUint64(s + 8, true));
        }
      }
    }
    return new ElfImage(entry, segments, symbols);
  }
}
