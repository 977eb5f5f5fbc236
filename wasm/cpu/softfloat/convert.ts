// FCVT between binary64, binary32 and 32/64-bit integers (unprivileged spec, F and D
// chapters, "Conversion and Move Instructions").
import { fflags, FLAG_NV, FLAG_NX, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F32_SIGN, F64_DEFAULT_NAN, hostResultOk32, isInf32, isInf64, isNaN32,
  isNaN64, isSNaN32, isSNaN64, isZero32, isZero64, normalOrZero64, signOf32, signOf64,
  unpackExp32, unpackExp64, unpackSig32, unpackSig64,
} from './format';
import { packInf, roundPack, roundsUp } from './roundPack';

// ---- float -> integer -------------------------------------------------------------------
//
// The spec's table "Domains of float-to-integer conversions": validity is judged on the
// rounded value; out-of-range values, infinities and NaN saturate (NaN like +infinity) and
// raise NV instead of NX. fcvt.w[u] results are sign-extended from 32 bits, so fcvt.wu of a
// value >= 2^31 reads back as a negative XLEN-bit number.

const MAX_I64: u64 = 0x7FFF_FFFF_FFFF_FFFF;
const MIN_I64: u64 = 0x8000_0000_0000_0000;
const MAX_I32: u64 = 0x7FFF_FFFF;
const MIN_I32: u64 = 0xFFFF_FFFF_8000_0000; // -2^31 sign-extended
const ALL_ONES: u64 = 0xFFFF_FFFF_FFFF_FFFF;

// Set by roundToIntMagnitude: whether the rounded integer differs from the operand.
let convInexact = false;

// |x| rounded to an integer, for x = sig * 2^(e - 63) with e <= 63 (so it fits in u64; the
// increment cannot carry out because e == 63 leaves no fraction to round).
function roundToIntMagnitude(sign: bool, e: i32, sig: u64, rm: u32): u64 {
  let kept: u64 = 0;
  let rem: u64 = 0; // fraction, scaled so 2^63 is one half
  if (e >= 63) {
    kept = sig;
  } else if (e >= 0) {
    kept = sig >> <u64>(63 - e);
    rem = sig << <u64>(e + 1);
  } else if (e == -1) {
    rem = sig; // |x| in [1/2, 1)
  } else {
    rem = 1; // |x| < 1/2: nonzero, below half
  }
  convInexact = rem != 0;
  if (roundsUp(rm, sign, kept, rem, MIN_I64)) kept++;
  return kept;
}

// Each target range as "largest valid magnitude" per sign; a magnitude that is over it (or
// an exponent >= 64, which includes infinity) saturates.
@inline function toSigned(sign: bool, e: i32, sig: u64, rm: u32, maxPos: u64, minNeg: u64): u64 {
  if (e < 64) {
    const mag = roundToIntMagnitude(sign, e, sig, rm);
    if (mag <= (sign ? (<u64>0) - minNeg : maxPos)) {
      if (convInexact) fflags |= FLAG_NX;
      return sign ? (<u64>0) - mag : mag;
    }
  }
  fflags |= FLAG_NV;
  return sign ? minNeg : maxPos;
}

@inline function toUnsigned(sign: bool, e: i32, sig: u64, rm: u32, maxPos: u64, saturated: u64): u64 {
  if (e < 64) {
    const mag = roundToIntMagnitude(sign, e, sig, rm);
    // A negative operand is valid only if it rounds to zero (e.g. -0.3 in RTZ).
    if (sign ? mag == 0 : mag <= maxPos) {
      if (convInexact) fflags |= FLAG_NX;
      return mag;
    }
  }
  fflags |= FLAG_NV;
  return sign ? 0 : saturated;
}

// Exponent used for infinity: anything >= 64 routes it to saturation.
const HUGE_EXP: i32 = 1 << 16;

@inline function exp64ForInt(a: u64): i32 { return isInf64(a) ? HUGE_EXP : unpackExp64(a); }
@inline function exp32ForInt(a: u32): i32 { return isInf32(a) ? HUGE_EXP : unpackExp32(a); }

export function f64_to_i32(a: u64, rm: u32): u64 {
  if (isNaN64(a)) { fflags |= FLAG_NV; return MAX_I32; }
  if (isZero64(a)) return 0;
  return toSigned(signOf64(a), exp64ForInt(a), unpackSig64(a), rm, MAX_I32, MIN_I32);
}
export function f64_to_u32(a: u64, rm: u32): u64 {
  if (isNaN64(a)) { fflags |= FLAG_NV; return ALL_ONES; }
  if (isZero64(a)) return 0;
  return <u64><i64><i32>toUnsigned(signOf64(a), exp64ForInt(a), unpackSig64(a), rm, 0xFFFF_FFFF, ALL_ONES);
}
export function f64_to_i64(a: u64, rm: u32): u64 {
  if (isNaN64(a)) { fflags |= FLAG_NV; return MAX_I64; }
  if (isZero64(a)) return 0;
  return toSigned(signOf64(a), exp64ForInt(a), unpackSig64(a), rm, MAX_I64, MIN_I64);
}
export function f64_to_u64(a: u64, rm: u32): u64 {
  if (isNaN64(a)) { fflags |= FLAG_NV; return ALL_ONES; }
  if (isZero64(a)) return 0;
  return toUnsigned(signOf64(a), exp64ForInt(a), unpackSig64(a), rm, ALL_ONES, ALL_ONES);
}

export function f32_to_i32(a: u32, rm: u32): u64 {
  if (isNaN32(a)) { fflags |= FLAG_NV; return MAX_I32; }
  if (isZero32(a)) return 0;
  return toSigned(signOf32(a), exp32ForInt(a), unpackSig32(a), rm, MAX_I32, MIN_I32);
}
export function f32_to_u32(a: u32, rm: u32): u64 {
  if (isNaN32(a)) { fflags |= FLAG_NV; return ALL_ONES; }
  if (isZero32(a)) return 0;
  return <u64><i64><i32>toUnsigned(signOf32(a), exp32ForInt(a), unpackSig32(a), rm, 0xFFFF_FFFF, ALL_ONES);
}
export function f32_to_i64(a: u32, rm: u32): u64 {
  if (isNaN32(a)) { fflags |= FLAG_NV; return MAX_I64; }
  if (isZero32(a)) return 0;
  return toSigned(signOf32(a), exp32ForInt(a), unpackSig32(a), rm, MAX_I64, MIN_I64);
}
export function f32_to_u64(a: u32, rm: u32): u64 {
  if (isNaN32(a)) { fflags |= FLAG_NV; return ALL_ONES; }
  if (isZero32(a)) return 0;
  return toUnsigned(signOf32(a), exp32ForInt(a), unpackSig32(a), rm, ALL_ONES, ALL_ONES);
}

// ---- integer -> float -------------------------------------------------------------------

// Magnitudes below 2^53 (2^24) are exact in the target, so the host's conversion is exact
// in every rounding mode and raises nothing; larger ones go through roundPack.
@inline function fromMagnitude(sign: bool, mag: u64, rm: u32, dbl: bool): u64 {
  const n = <i32>clz<u64>(mag);
  return roundPack(sign, 63 - n, mag << n, rm, dbl);
}

export function i32_to_f64(a: u64, rm: u32): u64 {
  return reinterpret<u64>(<f64><i32>a); // always exact
}
export function u32_to_f64(a: u64, rm: u32): u64 {
  return reinterpret<u64>(<f64><u32>a); // always exact
}
export function i64_to_f64(a: u64, rm: u32): u64 {
  const mag = <i64>a < 0 ? (<u64>0) - a : a; // -2^63 maps to 2^63, as u64
  if (mag < (<u64>1 << 53)) return reinterpret<u64>(<f64><i64>a);
  return fromMagnitude(<i64>a < 0, mag, rm, true);
}
export function u64_to_f64(a: u64, rm: u32): u64 {
  if (a < (<u64>1 << 53)) return reinterpret<u64>(<f64>a);
  return fromMagnitude(false, a, rm, true);
}
export function i32_to_f32(a: u64, rm: u32): u32 {
  const v = <i64><i32>a;
  const mag = v < 0 ? (<u64>0) - <u64>v : <u64>v;
  if (mag < (<u64>1 << 24)) return reinterpret<u32>(<f32>v);
  return <u32>fromMagnitude(v < 0, mag, rm, false);
}
export function u32_to_f32(a: u64, rm: u32): u32 {
  const mag = <u64><u32>a;
  if (mag < (<u64>1 << 24)) return reinterpret<u32>(<f32>mag);
  return <u32>fromMagnitude(false, mag, rm, false);
}
export function i64_to_f32(a: u64, rm: u32): u32 {
  const mag = <i64>a < 0 ? (<u64>0) - a : a;
  if (mag < (<u64>1 << 24)) return reinterpret<u32>(<f32><i64>a);
  return <u32>fromMagnitude(<i64>a < 0, mag, rm, false);
}
export function u64_to_f32(a: u64, rm: u32): u32 {
  if (a < (<u64>1 << 24)) return reinterpret<u32>(<f32>a);
  return <u32>fromMagnitude(false, a, rm, false);
}

// ---- float -> float ---------------------------------------------------------------------

/** FCVT.S.D: rounds; a NaN becomes the canonical binary32 NaN (NV if it was signaling). */
export function f64_to_f32(a: u64, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero64(a)) {
    const r = reinterpret<u32>(<f32>reinterpret<f64>(a));
    if (hostResultOk32(r)) return r;
  }
  if (isNaN64(a)) {
    if (isSNaN64(a)) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  const sign = signOf64(a);
  if (isInf64(a)) return <u32>packInf(sign, false);
  if (isZero64(a)) return sign ? F32_SIGN : 0;
  return <u32>roundPack(sign, unpackExp64(a), unpackSig64(a), rm, false);
}

/** FCVT.D.S: exact for every non-NaN value, so the host's promotion is used as it is. */
export function f32_to_f64(a: u32): u64 {
  if (isNaN32(a)) {
    if (isSNaN32(a)) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  return reinterpret<u64>(<f64>reinterpret<f32>(a));
}
