// FMUL (.S and .D): IEEE multiplication with one rounding.
import { fflags, FLAG_NV, FLAG_NX, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, hostResultOk32, hostResultOk64, isInf32, isInf64, isNaN32,
  isNaN64, isSNaN32, isSNaN64, isZero32, isZero64, normalOrZero32, normalOrZero64, signOf32,
  signOf64, unpackExp32, unpackExp64, unpackSig32, unpackSig64,
} from './format';
import { packInf, packZero, roundPack } from './roundPack';
import { mulHi64 } from './uint128';

/** Product of two finite nonzero unpacked values, rounded to the target format. */
export function mulUnpacked(sign: bool, ea: i32, siga: u64, eb: i32, sigb: u64, rm: u32, dbl: bool): u64 {
  // Both significands are in [2^63, 2^64), so the 128-bit product is in [2^126, 2^128).
  let hi = mulHi64(siga, sigb);
  let lo = siga * sigb;
  let e = ea + eb + 1;
  if ((hi >> 63) == 0) {
    hi = (hi << 1) | (lo >> 63);
    lo <<= 1;
    e--;
  }
  return roundPack(sign, e, hi | <u64>(lo != 0), rm, dbl);
}

function mul64(a: u64, b: u64, rm: u32): u64 {
  if (isNaN64(a) || isNaN64(b)) {
    if (isSNaN64(a) || isSNaN64(b)) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  const sign = signOf64(a) != signOf64(b);
  if (isInf64(a) || isInf64(b)) {
    if (isZero64(a) || isZero64(b)) { fflags |= FLAG_NV; return F64_DEFAULT_NAN; }
    return packInf(sign, true);
  }
  if (isZero64(a) || isZero64(b)) return packZero(sign, true);
  return mulUnpacked(sign, unpackExp64(a), unpackSig64(a), unpackExp64(b), unpackSig64(b), rm, true);
}

function mul32(a: u32, b: u32, rm: u32): u32 {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  const sign = signOf32(a) != signOf32(b);
  if (isInf32(a) || isInf32(b)) {
    if (isZero32(a) || isZero32(b)) { fflags |= FLAG_NV; return F32_DEFAULT_NAN; }
    return <u32>packInf(sign, false);
  }
  if (isZero32(a) || isZero32(b)) return <u32>packZero(sign, false);
  return <u32>mulUnpacked(sign, unpackExp32(a), unpackSig32(a), unpackExp32(b), unpackSig32(b), rm, false);
}

export function f64_mul(a: u64, b: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero64(a) && normalOrZero64(b)) {
    const r = reinterpret<u64>(reinterpret<f64>(a) * reinterpret<f64>(b));
    if (hostResultOk64(r)) return r;
  }
  return mul64(a, b, rm);
}

export function f32_mul(a: u32, b: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero32(a) && normalOrZero32(b)) {
    const r = reinterpret<u32>(reinterpret<f32>(a) * reinterpret<f32>(b));
    if (hostResultOk32(r)) return r;
  }
  return mul32(a, b, rm);
}
