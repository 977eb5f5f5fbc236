// FEQ/FLT/FLE, FMIN/FMAX and FCLASS (.S and .D): operations that never round.
import { fflags, FLAG_NV } from './flags';
import {
  F32_DEFAULT_NAN, F32_INF, F32_QUIET, F64_DEFAULT_NAN, F64_INF, F64_QUIET, isNaN32, isNaN64,
  isSNaN32, isSNaN64,
} from './format';

// Ordering of two non-NaN bit patterns. Sign-magnitude encoding orders like the integers
// within one sign (reversed for negatives). `less` treats -0 as below +0, as FMIN/FMAX
// require; the IEEE comparisons instead call ±0 equal.
@inline function less64(a: u64, b: u64): bool {
  const sa = (a >> 63) != 0, sb = (b >> 63) != 0;
  if (sa != sb) return sa;
  return sa ? a > b : a < b;
}
@inline function less32(a: u32, b: u32): bool {
  const sa = (a >> 31) != 0, sb = (b >> 31) != 0;
  if (sa != sb) return sa;
  return sa ? a > b : a < b;
}
@inline function bothZero64(a: u64, b: u64): bool { return ((a | b) << 1) == 0; }
@inline function bothZero32(a: u32, b: u32): bool { return ((a | b) << 1) == 0; }

/** FEQ.D: quiet comparison, NV only for a signaling NaN. */
export function f64_eq(a: u64, b: u64): bool {
  if (isNaN64(a) || isNaN64(b)) {
    if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
    return false;
  }
  return a == b || bothZero64(a, b);
}
/** FLT.D: signaling comparison, NV for any NaN. */
export function f64_lt(a: u64, b: u64): bool {
  if (isNaN64(a) || isNaN64(b)) { fflags |= FLAG_NV; return false; }
  return less64(a, b) && !bothZero64(a, b);
}
/** FLE.D: signaling comparison, NV for any NaN. */
export function f64_le(a: u64, b: u64): bool {
  if (isNaN64(a) || isNaN64(b)) { fflags |= FLAG_NV; return false; }
  return a == b || less64(a, b) || bothZero64(a, b);
}

export function f32_eq(a: u32, b: u32): bool {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
    return false;
  }
  return a == b || bothZero32(a, b);
}
export function f32_lt(a: u32, b: u32): bool {
  if (isNaN32(a) || isNaN32(b)) { fflags |= FLAG_NV; return false; }
  return less32(a, b) && !bothZero32(a, b);
}
export function f32_le(a: u32, b: u32): bool {
  if (isNaN32(a) || isNaN32(b)) { fflags |= FLAG_NV; return false; }
  return a == b || less32(a, b) || bothZero32(a, b);
}

// FMIN/FMAX follow F 2.2 (IEEE 754-2019 minimumNumber/maximumNumber): a single NaN yields
// the other operand, two NaNs the canonical NaN, and a signaling NaN raises NV either way.
export function f64_min(a: u64, b: u64): u64 {
  const na = isNaN64(a), nb = isNaN64(b);
  if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
  if (na) return nb ? F64_DEFAULT_NAN : b;
  if (nb) return a;
  return less64(b, a) ? b : a;
}
export function f64_max(a: u64, b: u64): u64 {
  const na = isNaN64(a), nb = isNaN64(b);
  if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
  if (na) return nb ? F64_DEFAULT_NAN : b;
  if (nb) return a;
  return less64(a, b) ? b : a;
}
export function f32_min(a: u32, b: u32): u32 {
  const na = isNaN32(a), nb = isNaN32(b);
  if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
  if (na) return nb ? F32_DEFAULT_NAN : b;
  if (nb) return a;
  return less32(b, a) ? b : a;
}
export function f32_max(a: u32, b: u32): u32 {
  const na = isNaN32(a), nb = isNaN32(b);
  if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
  if (na) return nb ? F32_DEFAULT_NAN : b;
  if (nb) return a;
  return less32(a, b) ? b : a;
}

// FCLASS result bits (spec table "Format of result of FCLASS instruction"); exactly one is set.
const CLASS_NEG_INF: u64 = 1 << 0;
const CLASS_NEG_NORMAL: u64 = 1 << 1;
const CLASS_NEG_SUBNORMAL: u64 = 1 << 2;
const CLASS_NEG_ZERO: u64 = 1 << 3;
const CLASS_POS_ZERO: u64 = 1 << 4;
const CLASS_POS_SUBNORMAL: u64 = 1 << 5;
const CLASS_POS_NORMAL: u64 = 1 << 6;
const CLASS_POS_INF: u64 = 1 << 7;
const CLASS_SNAN: u64 = 1 << 8;
const CLASS_QNAN: u64 = 1 << 9;

export function f64_classify(a: u64): u64 {
  const mag = a & ~(<u64>1 << 63);
  const field = mag >> 52;
  if (field == 0x7FF) {
    if (mag == F64_INF) return (a >> 63) != 0 ? CLASS_NEG_INF : CLASS_POS_INF;
    return (mag & F64_QUIET) != 0 ? CLASS_QNAN : CLASS_SNAN;
  }
  const neg = (a >> 63) != 0;
  if (field != 0) return neg ? CLASS_NEG_NORMAL : CLASS_POS_NORMAL;
  if (mag != 0) return neg ? CLASS_NEG_SUBNORMAL : CLASS_POS_SUBNORMAL;
  return neg ? CLASS_NEG_ZERO : CLASS_POS_ZERO;
}

export function f32_classify(a: u32): u64 {
  const mag = a & 0x7FFF_FFFF;
  const field = mag >> 23;
  if (field == 0xFF) {
    if (mag == F32_INF) return (a >> 31) != 0 ? CLASS_NEG_INF : CLASS_POS_INF;
    return (mag & F32_QUIET) != 0 ? CLASS_QNAN : CLASS_SNAN;
  }
  const neg = (a >> 31) != 0;
  if (field != 0) return neg ? CLASS_NEG_NORMAL : CLASS_POS_NORMAL;
  if (mag != 0) return neg ? CLASS_NEG_SUBNORMAL : CLASS_POS_SUBNORMAL;
  return neg ? CLASS_NEG_ZERO : CLASS_POS_ZERO;
}
