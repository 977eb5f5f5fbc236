// FDIV (.S and .D): IEEE division with one rounding.
import { fflags, FLAG_DZ, FLAG_NV, FLAG_NX, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, hostResultOk32, hostResultOk64, isInf32, isInf64, isNaN32,
  isNaN64, isSNaN32, isSNaN64, isZero32, isZero64, normalOrZero32, normalOrZero64, signOf32,
  signOf64, unpackExp32, unpackExp64, unpackSig32, unpackSig64,
} from './format';
import { packInf, packZero, roundPack } from './roundPack';

/** Quotient of two finite nonzero unpacked values, rounded to the target format. */
export function divUnpacked(sign: bool, ea: i32, siga: u64, eb: i32, sigb: u64, rm: u32, dbl: bool): u64 {
  // Long division in 53-bit integers (exact: the low 11 bits of both significands are zero
  // in either format). Scaling the dividend so the quotient is in [1, 2) makes the first
  // quotient digit 1; each further step brings down 11 bits, the most that keep r << 11
  // below 2^64 while r < d < 2^53. Five steps give 56 quotient bits, and the remainder
  // becomes the sticky bit.
  let n = siga >> 11;
  const d = sigb >> 11;
  let e = ea - eb;
  if (n < d) {
    n <<= 1;
    e--;
  }
  let q: u64 = 1;
  let r = n - d;
  for (let i = 0; i < 5; i++) {
    r <<= 11;
    const digit = r / d;
    r -= digit * d;
    q = (q << 11) | digit;
  }
  return roundPack(sign, e, (q << 8) | <u64>(r != 0), rm, dbl);
}

function div64(a: u64, b: u64, rm: u32): u64 {
  if (isNaN64(a) || isNaN64(b)) {
    if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  const sign = signOf64(a) != signOf64(b);
  if (isInf64(a)) {
    if (isInf64(b)) { fflags |= FLAG_NV; return F64_DEFAULT_NAN; }
    return packInf(sign, true);
  }
  if (isInf64(b)) return packZero(sign, true);
  if (isZero64(b)) {
    if (isZero64(a)) { fflags |= FLAG_NV; return F64_DEFAULT_NAN; }
    fflags |= FLAG_DZ; // only a finite nonzero dividend divides by zero
    return packInf(sign, true);
  }
  if (isZero64(a)) return packZero(sign, true);
  return divUnpacked(sign, unpackExp64(a), unpackSig64(a), unpackExp64(b), unpackSig64(b), rm, true);
}

function div32(a: u32, b: u32, rm: u32): u32 {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  const sign = signOf32(a) != signOf32(b);
  if (isInf32(a)) {
    if (isInf32(b)) { fflags |= FLAG_NV; return F32_DEFAULT_NAN; }
    return <u32>packInf(sign, false);
  }
  if (isInf32(b)) return <u32>packZero(sign, false);
  if (isZero32(b)) {
    if (isZero32(a)) { fflags |= FLAG_NV; return F32_DEFAULT_NAN; }
    fflags |= FLAG_DZ;
    return <u32>packInf(sign, false);
  }
  if (isZero32(a)) return <u32>packZero(sign, false);
  return <u32>divUnpacked(sign, unpackExp32(a), unpackSig32(a), unpackExp32(b), unpackSig32(b), rm, false);
}

// Fast path: the divisor must be normal (nonzero), so DZ and NV cannot be missed.
export function f64_div(a: u64, b: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero64(a) && normalOrZero64(b) && !isZero64(b)) {
    const r = reinterpret<u64>(reinterpret<f64>(a) / reinterpret<f64>(b));
    if (hostResultOk64(r)) return r;
  }
  return div64(a, b, rm);
}

export function f32_div(a: u32, b: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero32(a) && normalOrZero32(b) && !isZero32(b)) {
    const r = reinterpret<u32>(reinterpret<f32>(a) / reinterpret<f32>(b));
    if (hostResultOk32(r)) return r;
  }
  return div32(a, b, rm);
}
