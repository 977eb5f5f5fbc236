// FSQRT (.S and .D): IEEE square root with one rounding.
import { fflags, FLAG_NV, FLAG_NX, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F32_SIGN, F64_DEFAULT_NAN, F64_SIGN, hostResultOk32, hostResultOk64, isNaN32,
  isNaN64, isSNaN32, isSNaN64, isZero32, isZero64, unpackExp32, unpackExp64, unpackSig32,
  unpackSig64, F32_INF, F64_INF,
} from './format';
import { roundPack } from './roundPack';

/** Square root of a positive finite unpacked value, rounded to the target format. */
export function sqrtUnpacked(e: i32, sig: u64, rm: u32, dbl: bool): u64 {
  // x = n * 2^(e - 52) with n a 53-bit integer; make the exponent even so it halves exactly.
  let n = sig >> 11;
  if ((e & 1) != 0) {
    n <<= 1;
    e--;
  }
  // sqrt(x) = sqrt(n * 2^58) * 2^(e/2 - 55); R = floor(sqrt(n * 2^58)) is in [2^55, 2^56),
  // three bits beyond binary64's 53. The host's correctly rounded f64 sqrt of the exactly
  // representable n * 2^58 is within 2^-53 relative, so R0 is within 9 of R. The residual
  // M - R0^2 is then below 2^63 in magnitude, so its low 64 bits, read as i64, are exact:
  // no 128-bit arithmetic is needed to correct R0 to R.
  const m = n << 58; // low 64 bits of M = n * 2^58
  let r = <u64>sqrt<f64>(<f64>n * 288230376151711744.0); // 2^58
  let d = <i64>(m - r * r);
  while (d < 0) {
    r--;
    d += <i64>(2 * r + 1);
  }
  while (d > <i64>(2 * r)) {
    d -= <i64>(2 * r + 1);
    r++;
  }
  return roundPack(false, e >> 1, (r << 8) | <u64>(d != 0), rm, dbl);
}

function sqrt64(a: u64, rm: u32): u64 {
  if (isNaN64(a)) {
    if (isSNaN64(a)) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  if (isZero64(a)) return a; // sqrt(-0) = -0
  if ((a & F64_SIGN) != 0) { fflags |= FLAG_NV; return F64_DEFAULT_NAN; }
  if (a == F64_INF) return a;
  return sqrtUnpacked(unpackExp64(a), unpackSig64(a), rm, true);
}

function sqrt32(a: u32, rm: u32): u32 {
  if (isNaN32(a)) {
    if (isSNaN32(a)) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  if (isZero32(a)) return a;
  if ((a & F32_SIGN) != 0) { fflags |= FLAG_NV; return F32_DEFAULT_NAN; }
  if (a == F32_INF) return a;
  return <u32>sqrtUnpacked(unpackExp32(a), unpackSig32(a), rm, false);
}

// Fast path: a positive normal input has a normal root; negative inputs give a host NaN,
// which hostResultOk refuses, so NV still comes from the exact path.
export function f64_sqrt(a: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && (((a >> 52) + 1) & 0x7FF) >= 2) {
    const r = reinterpret<u64>(sqrt<f64>(reinterpret<f64>(a)));
    if (hostResultOk64(r)) return r;
  }
  return sqrt64(a, rm);
}

export function f32_sqrt(a: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && (((a >> 23) + 1) & 0xFF) >= 2) {
    const r = reinterpret<u32>(sqrt<f32>(reinterpret<f32>(a)));
    if (hostResultOk32(r)) return r;
  }
  return sqrt32(a, rm);
}
