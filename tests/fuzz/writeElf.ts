// Writes a minimal ELF64 executable for RISC-V: header, one PT_LOAD per segment, no
// sections or symbols. That is all QEMU's -kernel loader and romvisor's ELF reader need
// for the fuzzer's programs, which end through the sifive test device, not `tohost`.

export interface ElfSegment {
  /** Physical (= virtual) load address. */
  address: number;
  bytes: Uint8Array;
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const EM_RISCV = 243;
/** e_flags: EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE, as gcc marks rv64gc/lp64d objects. */
const RISCV_FLAGS = 0x1 | 0x4;
const PT_LOAD = 1;
const PF_RWX = 7;

export function writeElf(entry: number, segments: readonly ElfSegment[]): Uint8Array {
  const align = (n: number): number => (n + 0xfff) & ~0xfff;
  let offset = align(EHDR_SIZE + PHDR_SIZE * segments.length);
  const placed = segments.map((s) => {
    const at = offset;
    offset = align(offset + s.bytes.length);
    return { ...s, offset: at };
  });
  const out = new Uint8Array(offset);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little-endian, version 1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, EM_RISCV, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(entry), true);
  v.setBigUint64(32, BigInt(EHDR_SIZE), true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff
  v.setUint32(48, RISCV_FLAGS, true);
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, segments.length, true);
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, 0, true);
  v.setUint16(62, 0, true);
  placed.forEach((s, i) => {
    const p = EHDR_SIZE + i * PHDR_SIZE;
    v.setUint32(p, PT_LOAD, true);
    v.setUint32(p + 4, PF_RWX, true);
    v.setBigUint64(p + 8, BigInt(s.offset), true);
    v.setBigUint64(p + 16, BigInt(s.address), true);
    v.setBigUint64(p + 24, BigInt(s.address), true);
    v.setBigUint64(p + 32, BigInt(s.bytes.length), true);
    v.setBigUint64(p + 40, BigInt(s.bytes.length), true);
    v.setBigUint64(p + 48, 0x1000n, true);
    out.set(s.bytes, s.offset);
  });
  return out;
}
