// RV64GC instruction encoders for the fuzzer: each returns the instruction's bits (a u32
// for the base encodings, a u16 for RVC). Field layouts are from the unprivileged spec
// ("Base Instruction Formats", "Compressed Instruction Formats"); encode.test.ts checks
// every encoder against the GNU assembler.

/** Integer register number 0..31. */
export type Reg = number;
/** Floating-point register number 0..31. */
export type FReg = number;
/** Rounding mode field: 0 rne, 1 rtz, 2 rdn, 3 rup, 4 rmm, 7 dyn. */
export type Rm = 0 | 1 | 2 | 3 | 4 | 7;

function bits(value: number, hi: number, lo: number): number {
  return (value >>> lo) & ((1 << (hi - lo + 1)) - 1);
}

function checkImm(name: string, imm: number, min: number, max: number, align = 1): void {
  if (!Number.isInteger(imm) || imm < min || imm > max || imm % align !== 0) {
    throw new RangeError(`${name}: immediate ${imm} outside ${min}..${max} (multiple of ${align})`);
  }
}

export function rType(funct7: number, rs2: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

export function iType(imm: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  checkImm('I-type', imm, -2048, 2047);
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

export function sType(imm: number, rs2: number, rs1: number, funct3: number, opcode: number): number {
  checkImm('S-type', imm, -2048, 2047);
  return ((bits(imm, 11, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (bits(imm, 4, 0) << 7) | opcode) >>> 0;
}

export function bType(offset: number, rs2: number, rs1: number, funct3: number): number {
  checkImm('B-type', offset, -4096, 4094, 2);
  return (
    ((bits(offset, 12, 12) << 31) | (bits(offset, 10, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) |
      (bits(offset, 4, 1) << 8) | (bits(offset, 11, 11) << 7) | 0x63) >>> 0
  );
}

export function uType(imm20: number, rd: number, opcode: number): number {
  return (((imm20 & 0xfffff) << 12) | (rd << 7) | opcode) >>> 0;
}

export function jType(offset: number, rd: number): number {
  checkImm('J-type', offset, -(1 << 20), (1 << 20) - 2, 2);
  return (
    ((bits(offset, 20, 20) << 31) | (bits(offset, 10, 1) << 21) | (bits(offset, 11, 11) << 20) |
      (bits(offset, 19, 12) << 12) | (rd << 7) | 0x6f) >>> 0
  );
}

export function r4Type(rs3: number, fmt: number, rs2: number, rs1: number, rm: number, rd: number, opcode: number): number {
  return ((rs3 << 27) | (fmt << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | opcode) >>> 0;
}

// Opcodes (unprivileged spec, "RV32/64G Instruction Set Listings").
export const OP = 0x33, OP_32 = 0x3b, OP_IMM = 0x13, OP_IMM_32 = 0x1b, LUI = 0x37, AUIPC = 0x17;
export const LOAD = 0x03, STORE = 0x23, JALR = 0x67, AMO = 0x2f, SYSTEM = 0x73;
export const LOAD_FP = 0x07, STORE_FP = 0x27, OP_FP = 0x53;
export const MADD = 0x43, MSUB = 0x47, NMSUB = 0x4b, NMADD = 0x4f;

/** rd' / rs1' / rs2' of the compressed formats: x8..x15 (or f8..f15). */
function creg(r: number): number {
  if (r < 8 || r > 15) throw new RangeError(`compressed register field needs x8..x15, got x${r}`);
  return r - 8;
}

// RVC, quadrant 0.
export function cAddi4spn(rd: Reg, uimm: number): number {
  checkImm('c.addi4spn', uimm, 4, 1020, 4);
  return (bits(uimm, 5, 4) << 11) | (bits(uimm, 9, 6) << 7) | (bits(uimm, 2, 2) << 6) | (bits(uimm, 3, 3) << 5) | (creg(rd) << 2);
}
/** c.fld / c.ld / c.fsd / c.sd: funct3 1, 3, 5, 7; offset a multiple of 8 in 0..248. */
export function cMem8(funct3: number, r: number, rs1: Reg, uimm: number): number {
  checkImm('c.ld/sd', uimm, 0, 248, 8);
  return (funct3 << 13) | (bits(uimm, 5, 3) << 10) | (creg(rs1) << 7) | (bits(uimm, 7, 6) << 5) | (creg(r) << 2);
}
/** c.lw / c.sw: funct3 2, 6; offset a multiple of 4 in 0..124. */
export function cMem4(funct3: number, r: number, rs1: Reg, uimm: number): number {
  checkImm('c.lw/sw', uimm, 0, 124, 4);
  return (funct3 << 13) | (bits(uimm, 5, 3) << 10) | (creg(rs1) << 7) | (bits(uimm, 2, 2) << 6) | (bits(uimm, 6, 6) << 5) | (creg(r) << 2);
}

// RVC, quadrant 1.
/** c.addi (funct3 0), c.addiw (1), c.li (2): 6-bit signed immediate. */
export function cImm6(funct3: number, rd: Reg, imm: number): number {
  checkImm('c.addi/addiw/li', imm, -32, 31);
  return (funct3 << 13) | (bits(imm, 5, 5) << 12) | (rd << 7) | (bits(imm, 4, 0) << 2) | 1;
}
export function cAddi16sp(imm: number): number {
  checkImm('c.addi16sp', imm, -512, 496, 16);
  if (imm === 0) throw new RangeError('c.addi16sp: immediate 0 is reserved');
  return (3 << 13) | (bits(imm, 9, 9) << 12) | (2 << 7) | (bits(imm, 4, 4) << 6) | (bits(imm, 6, 6) << 5) | (bits(imm, 8, 7) << 3) | (bits(imm, 5, 5) << 2) | 1;
}
/** c.lui: \imm6 is the signed value of bits 17:12 of the result, not 0. */
export function cLui(rd: Reg, imm6: number): number {
  checkImm('c.lui', imm6, -32, 31);
  if (imm6 === 0 || rd === 0 || rd === 2) throw new RangeError(`c.lui x${rd}, ${imm6} is reserved`);
  return (3 << 13) | (bits(imm6, 5, 5) << 12) | (rd << 7) | (bits(imm6, 4, 0) << 2) | 1;
}
/** c.srli (0), c.srai (1), c.andi (2) on rd'. */
export function cAluImm(kind: 0 | 1 | 2, rd: Reg, imm: number): number {
  if (kind === 2) checkImm('c.andi', imm, -32, 31);
  else checkImm('c.srli/srai', imm, 1, 63);
  return (4 << 13) | (bits(imm, 5, 5) << 12) | (kind << 10) | (creg(rd) << 7) | (bits(imm, 4, 0) << 2) | 1;
}
/** c.sub (0), c.xor (1), c.or (2), c.and (3), c.subw (4), c.addw (5). */
export function cAluReg(kind: number, rd: Reg, rs2: Reg): number {
  return (4 << 13) | ((kind >> 2) << 12) | (3 << 10) | (creg(rd) << 7) | ((kind & 3) << 5) | (creg(rs2) << 2) | 1;
}
export function cJ(offset: number): number {
  checkImm('c.j', offset, -2048, 2046, 2);
  return (
    (5 << 13) | (bits(offset, 11, 11) << 12) | (bits(offset, 4, 4) << 11) | (bits(offset, 9, 8) << 9) | (bits(offset, 10, 10) << 8) |
    (bits(offset, 6, 6) << 7) | (bits(offset, 7, 7) << 6) | (bits(offset, 3, 1) << 3) | (bits(offset, 5, 5) << 2) | 1
  );
}
/** c.beqz (funct3 6), c.bnez (7). */
export function cBranch(funct3: 6 | 7, rs1: Reg, offset: number): number {
  checkImm('c.beqz/bnez', offset, -256, 254, 2);
  return (
    (funct3 << 13) | (bits(offset, 8, 8) << 12) | (bits(offset, 4, 3) << 10) | (creg(rs1) << 7) | (bits(offset, 7, 6) << 5) |
    (bits(offset, 2, 1) << 3) | (bits(offset, 5, 5) << 2) | 1
  );
}

// RVC, quadrant 2.
export function cSlli(rd: Reg, shamt: number): number {
  checkImm('c.slli', shamt, 1, 63);
  return (bits(shamt, 5, 5) << 12) | (rd << 7) | (bits(shamt, 4, 0) << 2) | 2;
}
/** c.fldsp (funct3 1), c.ldsp (3): offset a multiple of 8 in 0..504. */
export function cLoadSp8(funct3: 1 | 3, rd: number, uimm: number): number {
  checkImm('c.ldsp', uimm, 0, 504, 8);
  return (funct3 << 13) | (bits(uimm, 5, 5) << 12) | (rd << 7) | (bits(uimm, 4, 3) << 5) | (bits(uimm, 8, 6) << 2) | 2;
}
export function cLwsp(rd: Reg, uimm: number): number {
  checkImm('c.lwsp', uimm, 0, 252, 4);
  return (2 << 13) | (bits(uimm, 5, 5) << 12) | (rd << 7) | (bits(uimm, 4, 2) << 4) | (bits(uimm, 7, 6) << 2) | 2;
}
/** c.fsdsp (funct3 5), c.sdsp (7). */
export function cStoreSp8(funct3: 5 | 7, rs2: number, uimm: number): number {
  checkImm('c.sdsp', uimm, 0, 504, 8);
  return (funct3 << 13) | (bits(uimm, 5, 3) << 10) | (bits(uimm, 8, 6) << 7) | (rs2 << 2) | 2;
}
export function cSwsp(rs2: Reg, uimm: number): number {
  checkImm('c.swsp', uimm, 0, 252, 4);
  return (6 << 13) | (bits(uimm, 5, 2) << 9) | (bits(uimm, 7, 6) << 7) | (rs2 << 2) | 2;
}
/** c.jr (link 0, rs2 0), c.mv (link 0), c.jalr (link 1, rs2 0), c.add (link 1). */
export function cCr(link: 0 | 1, rd: Reg, rs2: Reg): number {
  return (4 << 13) | (link << 12) | (rd << 7) | (rs2 << 2) | 2;
}
