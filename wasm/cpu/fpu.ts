// The F and D extensions' register-to-register instructions (unprivileged spec ch. 11-12):
// decoding, rounding-mode resolution, NaN-boxing, and the sign-injection and move
// instructions. The arithmetic itself is in softfloat.ts, IEEE-exact in every mode.
import { CAUSE_ILLEGAL_INSTRUCTION, MSTATUS_FS, frm, mstatus, pendingCause, pendingTval } from './state';
import * as sf from './softfloat';
import { fmt as fmtOf, funct3, funct7, rd as rdOf, rm as rmOf, rs1 as rs1Of, rs2 as rs2Of, rs3 as rs3Of } from './fields';
import { getF, getX, setF, setX } from './regs';

export const FP_OK: u32 = 0;
export const FP_ILLEGAL: u32 = 1;

/** A single in a 64-bit register must be NaN-boxed (upper half all ones). */
const BOX: u64 = 0xffffffff00000000;
const CANONICAL_NAN_S: u32 = 0x7fc00000;
const SIGN_S: u32 = 0x80000000;
const SIGN_D: u64 = 0x8000000000000000;
const RM_DYN: u32 = 7;

/** The single held in f[r]; an improperly boxed value reads as the canonical NaN. */
@inline function getS(r: u32): u32 {
  const v = getF(r);
  return (v & BOX) == BOX ? <u32>v : CANONICAL_NAN_S;
}
@inline function setS(r: u32, v: u32): void {
  setF(r, BOX | <u64>v);
}

@inline export function fpEnabled(): bool {
  return (mstatus & MSTATUS_FS) != 0;
}

function illegal(insn: u32): u32 {
  pendingCause = CAUSE_ILLEGAL_INSTRUCTION;
  pendingTval = <u64>insn;
  return FP_ILLEGAL;
}

/** The instruction's rounding mode, with DYN resolved through frm; 5..7 are invalid. */
@inline function roundingMode(insn: u32): u32 {
  const rm = rmOf(insn);
  return rm == RM_DYN ? frm : rm;
}

/** FMADD/FMSUB/FNMSUB/FNMADD (opcodes 0x43/0x47/0x4b/0x4f). */
export function execFma(insn: u32): u32 {
  if (!fpEnabled()) return illegal(insn);
  const rm = roundingMode(insn);
  const fmt = fmtOf(insn);
  if (rm > 4 || fmt > 1) return illegal(insn);
  const rd = rdOf(insn), rs1 = rs1Of(insn), rs2 = rs2Of(insn), rs3 = rs3Of(insn);
  const op = (insn >> 2) & 3; // 0 fmadd, 1 fmsub, 2 fnmsub, 3 fnmadd
  // fmsub negates the addend, fnmsub the product, fnmadd both (negating a negates a*b).
  const negProduct = op >= 2;
  const negAddend = op == 1 || op == 3;
  if (fmt == 0) {
    let a = getS(rs1), c = getS(rs3);
    if (negProduct) a ^= SIGN_S;
    if (negAddend) c ^= SIGN_S;
    setS(rd, sf.f32_fma(a, getS(rs2), c, rm));
  } else {
    let a = getF(rs1), c = getF(rs3);
    if (negProduct) a ^= SIGN_D;
    if (negAddend) c ^= SIGN_D;
    setF(rd, sf.f64_fma(a, getF(rs2), c, rm));
  }
  mstatus |= MSTATUS_FS;
  return FP_OK;
}

/** OP-FP (opcode 0x53). */
export function execOpFp(insn: u32): u32 {
  if (!fpEnabled()) return illegal(insn);
  const f7 = funct7(insn);
  const rd = rdOf(insn), rs1 = rs1Of(insn), rs2 = rs2Of(insn);
  const f3 = funct3(insn);
  const rm = roundingMode(insn);
  // Instructions whose f3 is a rounding mode must have a valid one.
  const rounds = f7 < 0x10 || f7 == 0x2c || f7 == 0x2d || f7 == 0x20 || f7 == 0x21 ||
    (f7 >= 0x60 && f7 <= 0x69);
  if (rounds && rm > 4) return illegal(insn);

  switch (f7) {
    case 0x00: setS(rd, sf.f32_add(getS(rs1), getS(rs2), rm)); break;
    case 0x01: setF(rd, sf.f64_add(getF(rs1), getF(rs2), rm)); break;
    case 0x04: setS(rd, sf.f32_sub(getS(rs1), getS(rs2), rm)); break;
    case 0x05: setF(rd, sf.f64_sub(getF(rs1), getF(rs2), rm)); break;
    case 0x08: setS(rd, sf.f32_mul(getS(rs1), getS(rs2), rm)); break;
    case 0x09: setF(rd, sf.f64_mul(getF(rs1), getF(rs2), rm)); break;
    case 0x0c: setS(rd, sf.f32_div(getS(rs1), getS(rs2), rm)); break;
    case 0x0d: setF(rd, sf.f64_div(getF(rs1), getF(rs2), rm)); break;
    case 0x2c:
      if (rs2 != 0) return illegal(insn);
      setS(rd, sf.f32_sqrt(getS(rs1), rm));
      break;
    case 0x2d:
      if (rs2 != 0) return illegal(insn);
      setF(rd, sf.f64_sqrt(getF(rs1), rm));
      break;
    case 0x10: { // FSGNJ[N|X].S
      const a = getS(rs1), b = getS(rs2);
      let sign: u32;
      if (f3 == 0) sign = b & SIGN_S;
      else if (f3 == 1) sign = ~b & SIGN_S;
      else if (f3 == 2) sign = (a ^ b) & SIGN_S;
      else return illegal(insn);
      setS(rd, (a & ~SIGN_S) | sign);
      break;
    }
    case 0x11: { // FSGNJ[N|X].D
      const a = getF(rs1), b = getF(rs2);
      let sign: u64;
      if (f3 == 0) sign = b & SIGN_D;
      else if (f3 == 1) sign = ~b & SIGN_D;
      else if (f3 == 2) sign = (a ^ b) & SIGN_D;
      else return illegal(insn);
      setF(rd, (a & ~SIGN_D) | sign);
      break;
    }
    case 0x14:
      if (f3 == 0) setS(rd, sf.f32_min(getS(rs1), getS(rs2)));
      else if (f3 == 1) setS(rd, sf.f32_max(getS(rs1), getS(rs2)));
      else return illegal(insn);
      break;
    case 0x15:
      if (f3 == 0) setF(rd, sf.f64_min(getF(rs1), getF(rs2)));
      else if (f3 == 1) setF(rd, sf.f64_max(getF(rs1), getF(rs2)));
      else return illegal(insn);
      break;
    case 0x20: // FCVT.S.D
      if (rs2 != 1) return illegal(insn);
      setS(rd, sf.f64_to_f32(getF(rs1), rm));
      break;
    case 0x21: // FCVT.D.S
      if (rs2 != 0) return illegal(insn);
      setF(rd, sf.f32_to_f64(getS(rs1)));
      break;
    case 0x50: {
      const a = getS(rs1), b = getS(rs2);
      if (f3 == 0) setX(rd, sf.f32_le(a, b) ? 1 : 0);
      else if (f3 == 1) setX(rd, sf.f32_lt(a, b) ? 1 : 0);
      else if (f3 == 2) setX(rd, sf.f32_eq(a, b) ? 1 : 0);
      else return illegal(insn);
      break;
    }
    case 0x51: {
      const a = getF(rs1), b = getF(rs2);
      if (f3 == 0) setX(rd, sf.f64_le(a, b) ? 1 : 0);
      else if (f3 == 1) setX(rd, sf.f64_lt(a, b) ? 1 : 0);
      else if (f3 == 2) setX(rd, sf.f64_eq(a, b) ? 1 : 0);
      else return illegal(insn);
      break;
    }
    case 0x60: {
      const a = getS(rs1);
      if (rs2 == 0) setX(rd, sf.f32_to_i32(a, rm));
      else if (rs2 == 1) setX(rd, sf.f32_to_u32(a, rm));
      else if (rs2 == 2) setX(rd, sf.f32_to_i64(a, rm));
      else if (rs2 == 3) setX(rd, sf.f32_to_u64(a, rm));
      else return illegal(insn);
      break;
    }
    case 0x61: {
      const a = getF(rs1);
      if (rs2 == 0) setX(rd, sf.f64_to_i32(a, rm));
      else if (rs2 == 1) setX(rd, sf.f64_to_u32(a, rm));
      else if (rs2 == 2) setX(rd, sf.f64_to_i64(a, rm));
      else if (rs2 == 3) setX(rd, sf.f64_to_u64(a, rm));
      else return illegal(insn);
      break;
    }
    case 0x68: {
      const a = getX(rs1);
      if (rs2 == 0) setS(rd, sf.i32_to_f32(a, rm));
      else if (rs2 == 1) setS(rd, sf.u32_to_f32(a, rm));
      else if (rs2 == 2) setS(rd, sf.i64_to_f32(a, rm));
      else if (rs2 == 3) setS(rd, sf.u64_to_f32(a, rm));
      else return illegal(insn);
      break;
    }
    case 0x69: {
      const a = getX(rs1);
      if (rs2 == 0) setF(rd, sf.i32_to_f64(a, rm));
      else if (rs2 == 1) setF(rd, sf.u32_to_f64(a, rm));
      else if (rs2 == 2) setF(rd, sf.i64_to_f64(a, rm));
      else if (rs2 == 3) setF(rd, sf.u64_to_f64(a, rm));
      else return illegal(insn);
      break;
    }
    case 0x70:
      if (rs2 != 0) return illegal(insn);
      // FMV.X.W moves the raw low word, boxed or not (11.8).
      if (f3 == 0) setX(rd, <u64><i64><i32>getF(rs1));
      else if (f3 == 1) setX(rd, sf.f32_classify(getS(rs1)));
      else return illegal(insn);
      break;
    case 0x71:
      if (rs2 != 0) return illegal(insn);
      if (f3 == 0) setX(rd, getF(rs1));
      else if (f3 == 1) setX(rd, sf.f64_classify(getF(rs1)));
      else return illegal(insn);
      break;
    case 0x78:
      if (rs2 != 0 || f3 != 0) return illegal(insn);
      setS(rd, <u32>getX(rs1));
      break;
    case 0x79:
      if (rs2 != 0 || f3 != 0) return illegal(insn);
      setF(rd, getX(rs1));
      break;
    default:
      return illegal(insn);
  }
  mstatus |= MSTATUS_FS;
  return FP_OK;
}
