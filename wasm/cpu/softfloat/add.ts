// FADD/FSUB (.S and .D): IEEE addition with one rounding.
import { fflags, FLAG_NV, FLAG_NX, RM_RDN, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F32_SIGN, F64_DEFAULT_NAN, F64_SIGN, hostResultOk32, hostResultOk64,
  isInf32, isInf64, isNaN32, isNaN64, isSNaN32, isSNaN64, isZero32, isZero64, normalOrZero32,
  normalOrZero64, signOf32, signOf64, unpackExp32, unpackExp64, unpackSig32, unpackSig64,
} from './format';
import { packZero, roundPack, shiftRightJam64 } from './roundPack';

/** Sum of two finite nonzero unpacked values, rounded to the target format. */
export function addUnpacked(
  sa: bool, ea: i32, siga: u64, sb: bool, eb: i32, sigb: u64, rm: u32, dbl: bool,
): u64 {
  // Order by magnitude so the difference below is never negative.
  if (eb > ea || (eb == ea && sigb > siga)) {
    const ts = sa; sa = sb; sb = ts;
    const te = ea; ea = eb; eb = te;
    const tg = siga; siga = sigb; sigb = tg;
  }
  // One bit of headroom for the carry; the low bits of both are zero, so >> 1 is exact.
  // Jamming the smaller operand is safe: with an exponent gap of 2 or more at most one
  // leading bit cancels, leaving >= 9 bits between the rounding point and the sticky bit.
  const x = siga >> 1;
  const y = shiftRightJam64(sigb >> 1, <u32>(ea - eb));
  const z = sa == sb ? x + y : x - y;
  // An exact zero difference is +0, or -0 when rounding down (IEEE 754 §6.3).
  if (z == 0) return packZero(rm == RM_RDN, dbl);
  const n = <i32>clz<u64>(z);
  return roundPack(sa, ea + 1 - n, z << n, rm, dbl);
}

function add64(a: u64, b: u64, rm: u32): u64 {
  if (isNaN64(a) || isNaN64(b)) {
    if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  if (isInf64(a)) {
    if (isInf64(b) && a != b) { fflags |= FLAG_NV; return F64_DEFAULT_NAN; }
    return a;
  }
  if (isInf64(b)) return b;
  if (isZero64(a)) {
    if (isZero64(b)) return a == b ? a : packZero(rm == RM_RDN, true);
    return b;
  }
  if (isZero64(b)) return a;
  return addUnpacked(
    signOf64(a), unpackExp64(a), unpackSig64(a), signOf64(b), unpackExp64(b), unpackSig64(b), rm, true,
  );
}

function add32(a: u32, b: u32, rm: u32): u32 {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  if (isInf32(a)) {
    if (isInf32(b) && a != b) { fflags |= FLAG_NV; return F32_DEFAULT_NAN; }
    return a;
  }
  if (isInf32(b)) return b;
  if (isZero32(a)) {
    if (isZero32(b)) return a == b ? a : <u32>packZero(rm == RM_RDN, false);
    return b;
  }
  if (isZero32(b)) return a;
  return <u32>addUnpacked(
    signOf32(a), unpackExp32(a), unpackSig32(a), signOf32(b), unpackExp32(b), unpackSig32(b), rm, false,
  );
}

// Host fast path (QEMU's "hardfloat" idea): once NX is already raised, an RNE host result
// that is normal and not at the underflow boundary carries no flag we could miss.
export function f64_add(a: u64, b: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero64(a) && normalOrZero64(b)) {
    const r = reinterpret<u64>(reinterpret<f64>(a) + reinterpret<f64>(b));
    if (hostResultOk64(r)) return r;
  }
  return add64(a, b, rm);
}

export function f64_sub(a: u64, b: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero64(a) && normalOrZero64(b)) {
    const r = reinterpret<u64>(reinterpret<f64>(a) - reinterpret<f64>(b));
    if (hostResultOk64(r)) return r;
  }
  // Flipping b's sign is exact subtraction; a NaN b is caught before its sign matters.
  return add64(a, b ^ F64_SIGN, rm);
}

export function f32_add(a: u32, b: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero32(a) && normalOrZero32(b)) {
    const r = reinterpret<u32>(reinterpret<f32>(a) + reinterpret<f32>(b));
    if (hostResultOk32(r)) return r;
  }
  return add32(a, b, rm);
}

export function f32_sub(a: u32, b: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero32(a) && normalOrZero32(b)) {
    const r = reinterpret<u32>(reinterpret<f32>(a) - reinterpret<f32>(b));
    if (hostResultOk32(r)) return r;
  }
  return add32(a, b ^ F32_SIGN, rm);
}
