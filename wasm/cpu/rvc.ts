// The C extension (unprivileged spec ch. 16) by expansion: every 16-bit encoding is mapped
// once, at reset, to the 32-bit instruction it stands for, in a 64K-entry table. The hot
// loop then runs one decoder for both lengths, at the cost of one table load. Reserved
// encodings map to ILLEGAL.
import { CEXP_OFFSET } from '../layout';
import { ILLEGAL } from './fields';

@inline function bits(c: u32, hi: u32, lo: u32): u32 {
  return (c >> lo) & ((1 << (hi - lo + 1)) - 1);
}

function iType(op: u32, rd: u32, f3: u32, rs1: u32, imm: i32): u32 {
  return ((<u32>imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

function sType(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 0x1f) << 7) | op;
}

function rType(op: u32, rd: u32, f3: u32, rs1: u32, rs2: u32, f7: u32): u32 {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

function bType(f3: u32, rs1: u32, rs2: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
    (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}

function jal(rd: u32, imm: i32): u32 {
  const u = <u32>imm;
  return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
    (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}

/** Sign-extends the low n bits of v. */
@inline function sext(v: u32, n: u32): i32 {
  return (<i32>(v << (32 - n))) >> (32 - n);
}

const OP_LOAD: u32 = 0x03;
const OP_LOAD_FP: u32 = 0x07;
const OP_IMM: u32 = 0x13;
const OP_IMM_32: u32 = 0x1b;
const OP_STORE: u32 = 0x23;
const OP_STORE_FP: u32 = 0x27;
const OP: u32 = 0x33;
const OP_LUI: u32 = 0x37;
const OP_32: u32 = 0x3b;
const OP_JALR: u32 = 0x67;
const EBREAK: u32 = 0x00100073;

/** The 32-bit equivalent of compressed instruction c, or ILLEGAL if c is reserved. */
export function expand(c: u32): u32 {
  const f3 = bits(c, 15, 13);
  const rdp = bits(c, 4, 2) + 8; // rd' / rs2'
  const rs1p = bits(c, 9, 7) + 8; // rs1' / rd'
  const rd = bits(c, 11, 7);
  const rs2 = bits(c, 6, 2);
  switch (c & 3) {
    case 0: {
      // Loads/stores with 8-byte scaled offsets share one layout, and so do 4-byte ones.
      const off8 = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
      const off4 = (bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6);
      switch (f3) {
        case 0: { // C.ADDI4SPN
          const imm = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 3);
          return imm == 0 ? ILLEGAL : iType(OP_IMM, rdp, 0, 2, imm);
        }
        case 1: return iType(OP_LOAD_FP, rdp, 3, rs1p, off8); // C.FLD
        case 2: return iType(OP_LOAD, rdp, 2, rs1p, off4); // C.LW
        case 3: return iType(OP_LOAD, rdp, 3, rs1p, off8); // C.LD
        case 5: return sType(OP_STORE_FP, 3, rs1p, rdp, off8); // C.FSD
        case 6: return sType(OP_STORE, 2, rs1p, rdp, off4); // C.SW
        case 7: return sType(OP_STORE, 3, rs1p, rdp, off8); // C.SD
      }
      return ILLEGAL;
    }
    case 1: {
      const imm6 = sext((bits(c, 12, 12) << 5) | rs2, 6);
      switch (f3) {
        case 0: return iType(OP_IMM, rd, 0, rd, imm6); // C.ADDI (C.NOP and hints when rd = 0 / imm = 0)
        case 1: return rd == 0 ? ILLEGAL : iType(OP_IMM_32, rd, 0, rd, imm6); // C.ADDIW
        case 2: return iType(OP_IMM, rd, 0, 0, imm6); // C.LI
        case 3: {
          if (rd == 2) { // C.ADDI16SP
            const imm = sext((bits(c, 12, 12) << 9) | (bits(c, 6, 6) << 4) | (bits(c, 5, 5) << 6) |
              (bits(c, 4, 3) << 7) | (bits(c, 2, 2) << 5), 10);
            return imm == 0 ? ILLEGAL : iType(OP_IMM, 2, 0, 2, imm);
          }
          // C.LUI: nzimm[17:12]
          if (imm6 == 0) return ILLEGAL;
          return ((<u32>imm6 & 0xfffff) << 12) | (rd << 7) | OP_LUI;
        }
        case 4: {
          const shamt = (bits(c, 12, 12) << 5) | rs2;
          switch (bits(c, 11, 10)) {
            case 0: return iType(OP_IMM, rs1p, 5, rs1p, shamt); // C.SRLI
            case 1: return iType(OP_IMM, rs1p, 5, rs1p, shamt | 0x400); // C.SRAI
            case 2: return iType(OP_IMM, rs1p, 7, rs1p, imm6); // C.ANDI
          }
          const op2 = bits(c, 6, 5);
          if (bits(c, 12, 12) == 0) {
            if (op2 == 0) return rType(OP, rs1p, 0, rs1p, rdp, 0x20); // C.SUB
            if (op2 == 1) return rType(OP, rs1p, 4, rs1p, rdp, 0); // C.XOR
            if (op2 == 2) return rType(OP, rs1p, 6, rs1p, rdp, 0); // C.OR
            return rType(OP, rs1p, 7, rs1p, rdp, 0); // C.AND
          }
          if (op2 == 0) return rType(OP_32, rs1p, 0, rs1p, rdp, 0x20); // C.SUBW
          if (op2 == 1) return rType(OP_32, rs1p, 0, rs1p, rdp, 0); // C.ADDW
          return ILLEGAL;
        }
        case 5: { // C.J
          const imm = sext((bits(c, 12, 12) << 11) | (bits(c, 11, 11) << 4) | (bits(c, 10, 9) << 8) |
            (bits(c, 8, 8) << 10) | (bits(c, 7, 7) << 6) | (bits(c, 6, 6) << 7) |
            (bits(c, 5, 3) << 1) | (bits(c, 2, 2) << 5), 12);
          return jal(0, imm);
        }
        default: { // C.BEQZ, C.BNEZ
          const imm = sext((bits(c, 12, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) |
            (bits(c, 4, 3) << 1) | (bits(c, 2, 2) << 5), 9);
          return bType(f3 == 6 ? 0 : 1, rs1p, 0, imm);
        }
      }
    }
    case 2: {
      const sp8 = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
      const sp4 = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
      const ss8 = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
      const ss4 = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
      switch (f3) {
        case 0: return iType(OP_IMM, rd, 1, rd, (bits(c, 12, 12) << 5) | rs2); // C.SLLI
        case 1: return iType(OP_LOAD_FP, rd, 3, 2, sp8); // C.FLDSP
        case 2: return rd == 0 ? ILLEGAL : iType(OP_LOAD, rd, 2, 2, sp4); // C.LWSP
        case 3: return rd == 0 ? ILLEGAL : iType(OP_LOAD, rd, 3, 2, sp8); // C.LDSP
        case 4: {
          if (bits(c, 12, 12) == 0) {
            if (rs2 == 0) return rd == 0 ? ILLEGAL : iType(OP_JALR, 0, 0, rd, 0); // C.JR
            return rType(OP, rd, 0, 0, rs2, 0); // C.MV
          }
          if (rs2 == 0) return rd == 0 ? EBREAK : iType(OP_JALR, 1, 0, rd, 0); // C.EBREAK, C.JALR
          return rType(OP, rd, 0, rd, rs2, 0); // C.ADD
        }
        case 5: return sType(OP_STORE_FP, 3, 2, rs2, ss8); // C.FSDSP
        case 6: return sType(OP_STORE, 2, 2, rs2, ss4); // C.SWSP
        case 7: return sType(OP_STORE, 3, 2, rs2, ss8); // C.SDSP
      }
    }
  }
  return ILLEGAL;
}

export function buildExpansionTable(): void {
  for (let c: u32 = 0; c < 0x10000; c++) {
    store<u32>(CEXP_OFFSET + (c << 2), (c & 3) == 3 ? ILLEGAL : expand(c));
  }
}

/** The expansion of the compressed instruction in the low 16 bits of parcel (from the table). */
@inline export function expanded(parcel: u32): u32 {
  return load<u32>(CEXP_OFFSET + ((parcel & 0xffff) << 2));
}
