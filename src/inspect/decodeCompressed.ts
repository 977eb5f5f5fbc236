// Decoder for the 16-bit RVC encodings of RV64GC ("C" chapter of the unprivileged spec,
// "RVC Instruction Set Listings"). Each instruction decodes to its own c.* form, as
// `objdump -M no-aliases` prints it, and to the 32-bit instruction it expands to, which
// the alias printer starts from.
import { branchTarget } from './decodeBase.ts';
import type { DecodedInsn, Operand } from './Types.ts';

interface DecodedCompressed {
  /** The c.* form. */
  insn: DecodedInsn;
  /** The equivalent base instruction (what the hart executes). */
  expanded: DecodedInsn;
  /** A HINT encoding (rd = x0, zero shift or zero immediate where the listings say so):
   * it executes as its expansion but means "no architectural effect", so even the alias
   * view keeps the c.* spelling. */
  hint?: boolean;
}

const x = (reg: number): Operand => ({ kind: 'x', reg });
const f = (reg: number): Operand => ({ kind: 'f', reg });
const imm = (value: number, hex = false): Operand => ({ kind: 'imm', value, hex });
const mem = (base: number, offset: number): Operand => ({ kind: 'mem', base, offset });
const SP = 2;

/** Bit `n` of h moved to bit `to`. */
const bit = (h: number, n: number, to: number): number => ((h >>> n) & 1) << to;
/** Bits hi..lo of h moved down to start at bit `to`. */
const field = (h: number, hi: number, lo: number, to: number): number =>
  ((h >>> lo) & ((1 << (hi - lo + 1)) - 1)) << to;
/** Sign-extends the low `width` bits. */
const sext = (v: number, width: number): number => (v << (32 - width)) >> (32 - width);

/** x8..x15, the registers the 3-bit rd'/rs1'/rs2' fields name. */
const rdPrime = (h: number): number => 8 + ((h >>> 2) & 7);
const rs1Prime = (h: number): number => 8 + ((h >>> 7) & 7);
const rdFull = (h: number): number => (h >>> 7) & 31;
const rs2Full = (h: number): number => (h >>> 2) & 31;

/** CI-format 6-bit immediate: imm[5] = bit 12, imm[4:0] = bits 6:2. */
const ciImm = (h: number): number => sext(bit(h, 12, 5) | field(h, 6, 2, 0), 6);
/** CB/CJ branch offsets. */
const cbOffset = (h: number): number =>
  sext(bit(h, 12, 8) | field(h, 11, 10, 3) | field(h, 6, 5, 6) | field(h, 4, 3, 1) | bit(h, 2, 5), 9);
const cjOffset = (h: number): number =>
  sext(
    bit(h, 12, 11) | bit(h, 11, 4) | field(h, 10, 9, 8) | bit(h, 8, 10) | bit(h, 7, 6) | bit(h, 6, 7) |
      field(h, 5, 3, 1) | bit(h, 2, 5),
    12,
  );
/** Word and doubleword offsets of the CL/CS loads and stores. */
const clwOffset = (h: number): number => field(h, 12, 10, 3) | bit(h, 6, 2) | bit(h, 5, 6);
const cldOffset = (h: number): number => field(h, 12, 10, 3) | field(h, 6, 5, 6);

function pair(mnemonic: string, ops: Operand[], base: string, baseOps: Operand[], hint = false): DecodedCompressed {
  return { insn: { mnemonic, operands: ops }, expanded: { mnemonic: base, operands: baseOps }, hint };
}

/** Decodes one 16-bit instruction (bits 1:0 != 0b11); undefined for reserved encodings. */
export function decodeCompressed(h: number, pc: bigint): DecodedCompressed | undefined {
  const quadrant = h & 3;
  const f3 = h >>> 13;
  if (quadrant === 0) return decodeQuadrant0(h, f3);
  if (quadrant === 1) return decodeQuadrant1(h, f3, pc);
  return decodeQuadrant2(h, f3);
}

function decodeQuadrant0(h: number, f3: number): DecodedCompressed | undefined {
  const rd = rdPrime(h);
  const rs1 = rs1Prime(h);
  switch (f3) {
    case 0: { // C.ADDI4SPN; all zeros is the defined illegal instruction
      if (h === 0) return pair('c.unimp', [], 'unimp', []);
      const nzuimm = field(h, 12, 11, 4) | field(h, 10, 7, 6) | bit(h, 6, 2) | bit(h, 5, 3);
      if (nzuimm === 0) return undefined;
      return pair('c.addi4spn', [x(rd), x(SP), imm(nzuimm)], 'addi', [x(rd), x(SP), imm(nzuimm)]);
    }
    case 1: return pair('c.fld', [f(rd), mem(rs1, cldOffset(h))], 'fld', [f(rd), mem(rs1, cldOffset(h))]);
    case 2: return pair('c.lw', [x(rd), mem(rs1, clwOffset(h))], 'lw', [x(rd), mem(rs1, clwOffset(h))]);
    case 3: return pair('c.ld', [x(rd), mem(rs1, cldOffset(h))], 'ld', [x(rd), mem(rs1, cldOffset(h))]);
    case 5: return pair('c.fsd', [f(rd), mem(rs1, cldOffset(h))], 'fsd', [f(rd), mem(rs1, cldOffset(h))]);
    case 6: return pair('c.sw', [x(rd), mem(rs1, clwOffset(h))], 'sw', [x(rd), mem(rs1, clwOffset(h))]);
    case 7: return pair('c.sd', [x(rd), mem(rs1, cldOffset(h))], 'sd', [x(rd), mem(rs1, cldOffset(h))]);
    default: return undefined; // 100 is reserved
  }
}

function decodeQuadrant1(h: number, f3: number, pc: bigint): DecodedCompressed | undefined {
  const rd = rdFull(h);
  switch (f3) {
    case 0: { // C.ADDI; C.NOP when rd = 0 and imm = 0; either one zero alone is a HINT
      const v = ciImm(h);
      return pair('c.addi', [x(rd), imm(v)], 'addi', [x(rd), x(rd), imm(v)], (rd === 0) !== (v === 0));
    }
    case 1: // C.ADDIW (RV64; rd = 0 reserved)
      if (rd === 0) return undefined;
      return pair('c.addiw', [x(rd), imm(ciImm(h))], 'addiw', [x(rd), x(rd), imm(ciImm(h))]);
    case 2: // C.LI
      return pair('c.li', [x(rd), imm(ciImm(h))], 'addi', [x(rd), x(0), imm(ciImm(h))], rd === 0);
    case 3: {
      if (rd === SP) { // C.ADDI16SP
        const nzimm = sext(
          bit(h, 12, 9) | bit(h, 6, 4) | bit(h, 5, 6) | field(h, 4, 3, 7) | bit(h, 2, 5),
          10,
        );
        if (nzimm === 0) return undefined;
        return pair('c.addi16sp', [x(SP), imm(nzimm)], 'addi', [x(SP), x(SP), imm(nzimm)]);
      }
      // C.LUI: nzimm[17:12]; printed like lui's 20-bit field
      const v = ciImm(h);
      if (v === 0) return undefined;
      const upper = imm(v & 0xfffff, true);
      return pair('c.lui', [x(rd), upper], 'lui', [x(rd), upper], rd === 0);
    }
    case 4: return decodeArith(h);
    case 5: { // C.J
      const t = branchTarget(pc, cjOffset(h));
      return pair('c.j', [t], 'jal', [x(0), t]);
    }
    case 6: case 7: { // C.BEQZ, C.BNEZ
      const rs1 = rs1Prime(h);
      const t = branchTarget(pc, cbOffset(h));
      const [c, b] = f3 === 6 ? ['c.beqz', 'beq'] : ['c.bnez', 'bne'];
      return pair(c, [x(rs1), t], b, [x(rs1), x(0), t]);
    }
  }
  return undefined;
}

/** Quadrant 1, funct3 100: shifts and register-register arithmetic on x8..x15. */
function decodeArith(h: number): DecodedCompressed | undefined {
  const rd = rs1Prime(h);
  const shamt = bit(h, 12, 5) | field(h, 6, 2, 0);
  switch ((h >>> 10) & 3) {
    case 0: return shift('c.srli', 'srli', rd, shamt);
    case 1: return shift('c.srai', 'srai', rd, shamt);
    case 2: return pair('c.andi', [x(rd), imm(ciImm(h))], 'andi', [x(rd), x(rd), imm(ciImm(h))]);
  }
  const rs2 = rdPrime(h);
  const ops = ((h >>> 12) & 1) === 0 ? ['sub', 'xor', 'or', 'and'] : ['subw', 'addw'];
  const m = ops[(h >>> 5) & 3];
  if (m === undefined) return undefined;
  return pair(`c.${m}`, [x(rd), x(rs2)], m, [x(rd), x(rd), x(rs2)]);
}

/**
 * C.SLLI, C.SRLI, C.SRAI. shamt = 0 is RV128's shift by 64, named C.SLLI64 & co. in the
 * RVC listings (a HINT on RV64, which executes as a no-op shift by 0); objdump prints
 * that name with no shift amount.
 */
function shift(c: string, base: string, rd: number, shamt: number): DecodedCompressed {
  const amount = imm(shamt, true);
  if (shamt === 0) return pair(`${c}64`, [x(rd)], base, [x(rd), x(rd), amount], true);
  return pair(c, [x(rd), amount], base, [x(rd), x(rd), amount], rd === 0);
}

function decodeQuadrant2(h: number, f3: number): DecodedCompressed | undefined {
  const rd = rdFull(h);
  const rs2 = rs2Full(h);
  const b12 = (h >>> 12) & 1;
  switch (f3) {
    case 0: { // C.SLLI
      return shift('c.slli', 'slli', rd, (b12 << 5) | rs2);
    }
    case 1: { // C.FLDSP
      const off = bit(h, 12, 5) | field(h, 6, 5, 3) | field(h, 4, 2, 6);
      return pair('c.fldsp', [f(rd), mem(SP, off)], 'fld', [f(rd), mem(SP, off)]);
    }
    case 2: { // C.LWSP (rd = 0 reserved)
      if (rd === 0) return undefined;
      const off = bit(h, 12, 5) | field(h, 6, 4, 2) | field(h, 3, 2, 6);
      return pair('c.lwsp', [x(rd), mem(SP, off)], 'lw', [x(rd), mem(SP, off)]);
    }
    case 3: { // C.LDSP (rd = 0 reserved)
      if (rd === 0) return undefined;
      const off = bit(h, 12, 5) | field(h, 6, 5, 3) | field(h, 4, 2, 6);
      return pair('c.ldsp', [x(rd), mem(SP, off)], 'ld', [x(rd), mem(SP, off)]);
    }
    case 4:
      if (b12 === 0) {
        if (rs2 === 0) { // C.JR (rs1 = 0 reserved)
          if (rd === 0) return undefined;
          return pair('c.jr', [x(rd)], 'jalr', [x(0), mem(rd, 0)]);
        }
        return pair('c.mv', [x(rd), x(rs2)], 'add', [x(rd), x(0), x(rs2)], rd === 0);
      }
      if (rs2 === 0) {
        if (rd === 0) return pair('c.ebreak', [], 'ebreak', []);
        return pair('c.jalr', [x(rd)], 'jalr', [x(1), mem(rd, 0)]);
      }
      return pair('c.add', [x(rd), x(rs2)], 'add', [x(rd), x(rd), x(rs2)], rd === 0);
    case 5: { // C.FSDSP
      const off = field(h, 12, 10, 3) | field(h, 9, 7, 6);
      return pair('c.fsdsp', [f(rs2), mem(SP, off)], 'fsd', [f(rs2), mem(SP, off)]);
    }
    case 6: { // C.SWSP
      const off = field(h, 12, 9, 2) | field(h, 8, 7, 6);
      return pair('c.swsp', [x(rs2), mem(SP, off)], 'sw', [x(rs2), mem(SP, off)]);
    }
    case 7: { // C.SDSP
      const off = field(h, 12, 10, 3) | field(h, 9, 7, 6);
      return pair('c.sdsp', [x(rs2), mem(SP, off)], 'sd', [x(rs2), mem(SP, off)]);
    }
  }
  return undefined;
}
