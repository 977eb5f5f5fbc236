// FMADD (.S and .D): a * b + c with a single rounding. FMSUB, FNMSUB and FNMADD are this
// with the sign bits of a and/or c flipped by the caller.
import { fflags, FLAG_NV, FLAG_NX, RM_RDN, RM_RNE } from './flags';
import {
  F32_DEFAULT_NAN, F64_DEFAULT_NAN, F64_FRAC, hostResultOk32, hostResultOk64, isInf32, isInf64, isNaN32, isNaN64, isSNaN32,
  isSNaN64, isZero32, isZero64, normalOrZero32, signOf32, signOf64, unpackExp32, unpackExp64,
  unpackSig32, unpackSig64,
} from './format';
import { mulUnpacked } from './mul';
import { packInf, packZero, roundPack } from './roundPack';
import { clz128, mulHi64, shiftLeft128, shiftRightJam128, wideLo } from './uint128';

/**
 * (-1)^sp * A * B + (-1)^sc * C for finite nonzero unpacked A, B, C, rounded once. The sum
 * is formed exactly in 128 bits: the product has at most 106 significant bits, and an
 * addend too far below it to matter except as a sticky bit is jammed.
 */
export function fmaUnpacked(
  sp: bool, ea: i32, siga: u64, eb: i32, sigb: u64, sc: bool, ec: i32, sigc: u64, rm: u32, dbl: bool,
): u64 {
  // Both operands get their top bit at 126, leaving bit 127 for the carry of an addition;
  // X = (xh, xl) stands for X * 2^(ex - 126).
  let ph = mulHi64(siga, sigb);
  let pl = siga * sigb;
  let pe = ea + eb;
  if ((ph >> 63) != 0) {
    pl = (pl >> 1) | (ph << 63) | (pl & 1); // bit 0 of the product is 0 anyway: exact
    ph >>= 1;
    pe++;
  }
  let ch = sigc >> 1;
  let cl = sigc << 63;

  // Make X the larger magnitude, so X - Y >= 0; Y is aligned to X's exponent with jamming.
  // Jamming only happens for a gap of 2 or more, where at most one leading bit cancels.
  let xh = ph, xl = pl, ex = pe, sx = sp;
  let yh = ch, yl = cl, ey = ec;
  if (ec > pe || (ec == pe && (ch > ph || (ch == ph && cl > pl)))) {
    xh = ch; xl = cl; ex = ec; sx = sc;
    yh = ph; yl = pl; ey = pe;
  }
  yh = shiftRightJam128(yh, yl, <u32>(ex - ey));
  yl = wideLo;

  let zh: u64, zl: u64;
  if (sp == sc) {
    zl = xl + yl;
    zh = xh + yh + <u64>(zl < xl);
  } else {
    zl = xl - yl;
    zh = xh - yh - <u64>(xl < yl);
    // Exact cancellation: +0, or -0 when rounding down (IEEE 754 §6.3).
    if ((zh | zl) == 0) return packZero(rm == RM_RDN, dbl);
  }
  // Normalize the top bit to 127, then fold the low half into a sticky bit.
  const n = clz128(zh, zl);
  zh = shiftLeft128(zh, zl, n);
  zl = wideLo;
  return roundPack(sx, ex + 1 - <i32>n, zh | <u64>(zl != 0), rm, dbl);
}

// ---- binary64 host fast path ------------------------------------------------------------
//
// WebAssembly has no fused multiply-add, so the host path rebuilds a*b + c from error-free
// transformations, all exact in RNE barring over/underflow:
//   a*b = p + e    (Dekker's product with Veltkamp splitting)
//   p + c = s + t  (Knuth's TwoSum)
//   t + e = u + err
//   s + u = r + w  (r = RN(s + u))
// so a*b + c = r + (w + err) exactly, and r is the correctly rounded result iff w + err
// stays inside r's rounding interval. w is at most half an ulp of r and err is some 2^-100
// of it, so that is decided by comparing |w| with half an ulp, and only the rare cases
// where err could tip the balance (|w| within |err| of the half ulp) fall back. Powers of
// two, whose interval is lopsided, fall back too.

// Every operand's unbiased exponent in [-400, 400]: products, their error terms (2^-106
// below) and any cancellation stay far from the subnormal and overflow ranges, and the
// Veltkamp split (multiplying by 2^27 + 1) cannot overflow.
@inline function inHostWindow64(a: u64): bool {
  return (((a >> 52) & 0x7FF) - (1023 - 400)) < 801;
}

// Knuth's TwoSum: x + y = sum + twoSumErr exactly, for any order of magnitudes.
let twoSumErr: f64 = 0;
@inline function twoSum(x: f64, y: f64): f64 {
  const sum = x + y;
  const yv = sum - x;
  twoSumErr = (x - (sum - yv)) + (y - yv);
  return sum;
}

/** Correctly rounded RNE a*b + c as bits, or 0 when this path cannot vouch for it. */
function fmaHost64(a: f64, b: f64, c: f64): u64 {
  const SPLIT: f64 = 134217729.0; // 2^27 + 1
  const ga = a * SPLIT, gb = b * SPLIT;
  const ah = ga - (ga - a), al = a - ah;
  const bh = gb - (gb - b), bl = b - bh;
  const p = a * b;
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  const s = twoSum(p, c);
  const t = twoSumErr;
  const u = twoSum(t, e);
  const err = twoSumErr;
  const r = twoSum(s, u);
  const w = twoSumErr;

  const bits = reinterpret<u64>(r);
  if (!hostResultOk64(bits) || (bits & F64_FRAC) == 0) return 0;
  const half = reinterpret<f64>((((bits >> 52) & 0x7FF) - 53) << 52); // ulp(r) / 2
  const aw = abs<f64>(w);
  if (aw <= half * 0.5) return abs<f64>(err) < half * 0.5 ? bits : 0; // err is ~2^-52 ulp: passes
  if (aw < half) return abs<f64>(err) < half - aw ? bits : 0; // half - aw is exact (Sterbenz)
  return aw == half && err == 0 ? bits : 0; // an exact tie, already rounded to even
}

export function f64_fma(a: u64, b: u64, c: u64, rm: u32): u64 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && inHostWindow64(a) && inHostWindow64(b) && inHostWindow64(c)) {
    const r = fmaHost64(reinterpret<f64>(a), reinterpret<f64>(b), reinterpret<f64>(c));
    if (r != 0) return r;
  }
  return fma64(a, b, c, rm);
}

function fma64(a: u64, b: u64, c: u64, rm: u32): u64 {
  if (isNaN64(a) || isNaN64(b) || isNaN64(c)) {
    // The spec requires NV for inf * 0 even when the addend is a quiet NaN.
    if (isSNaN64(a) || isSNaN64(b) || isSNaN64(c) ||
        (isInf64(a) && isZero64(b)) || (isZero64(a) && isInf64(b))) fflags |= FLAG_NV;
    return F64_DEFAULT_NAN;
  }
  const sp = signOf64(a) != signOf64(b);
  const sc = signOf64(c);
  if (isInf64(a) || isInf64(b)) {
    if (isZero64(a) || isZero64(b) || (isInf64(c) && sc != sp)) {
      fflags |= FLAG_NV;
      return F64_DEFAULT_NAN;
    }
    return packInf(sp, true);
  }
  if (isInf64(c)) return c;
  if (isZero64(a) || isZero64(b)) {
    if (isZero64(c)) return sp == sc ? c : packZero(rm == RM_RDN, true);
    return c;
  }
  if (isZero64(c)) {
    return mulUnpacked(sp, unpackExp64(a), unpackSig64(a), unpackExp64(b), unpackSig64(b), rm, true);
  }
  return fmaUnpacked(
    sp, unpackExp64(a), unpackSig64(a), unpackExp64(b), unpackSig64(b),
    sc, unpackExp64(c), unpackSig64(c), rm, true,
  );
}

function fma32(a: u32, b: u32, c: u32, rm: u32): u32 {
  if (isNaN32(a) || isNaN32(b) || isNaN32(c)) {
    if (isSNaN32(a) || isSNaN32(b) || isSNaN32(c) ||
        (isInf32(a) && isZero32(b)) || (isZero32(a) && isInf32(b))) fflags |= FLAG_NV;
    return F32_DEFAULT_NAN;
  }
  const sp = signOf32(a) != signOf32(b);
  const sc = signOf32(c);
  if (isInf32(a) || isInf32(b)) {
    if (isZero32(a) || isZero32(b) || (isInf32(c) && sc != sp)) {
      fflags |= FLAG_NV;
      return F32_DEFAULT_NAN;
    }
    return <u32>packInf(sp, false);
  }
  if (isInf32(c)) return c;
  if (isZero32(a) || isZero32(b)) {
    if (isZero32(c)) return sp == sc ? c : <u32>packZero(rm == RM_RDN, false);
    return c;
  }
  if (isZero32(c)) {
    return <u32>mulUnpacked(sp, unpackExp32(a), unpackSig32(a), unpackExp32(b), unpackSig32(b), rm, false);
  }
  return <u32>fmaUnpacked(
    sp, unpackExp32(a), unpackSig32(a), unpackExp32(b), unpackSig32(b),
    sc, unpackExp32(c), unpackSig32(c), rm, false,
  );
}

export function f32_fma(a: u32, b: u32, c: u32, rm: u32): u32 {
  if (rm == RM_RNE && (fflags & FLAG_NX) != 0 && normalOrZero32(a) && normalOrZero32(b) && normalOrZero32(c)) {
    // The binary32 product is exact in binary64 (48 <= 53 bits, exponents in range), so s is
    // the exact sum rounded once to binary64. Rounding s again to binary32 gives the
    // correctly rounded sum unless s landed exactly on a binary32 midpoint (the exact sum's
    // neighbouring midpoints are binary64 numbers, so s cannot cross one). A midpoint has
    // exactly the top one of the 29 extra fraction bits set.
    const s = <f64>reinterpret<f32>(a) * <f64>reinterpret<f32>(b) + <f64>reinterpret<f32>(c);
    if ((reinterpret<u64>(s) & 0x1FFF_FFFF) != 0x1000_0000) {
      const r = reinterpret<u32>(<f32>s);
      if (hostResultOk32(r)) return r;
    }
  }
  return fma32(a, b, c, rm);
}
