// The single rounding step of every operation: an exact (or sticky-collapsed) unpacked
// value in, an IEEE-754 bit pattern of the target format out, with NX/UF/OF raised.
import { fflags, FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP } from './flags';
import { F32_INF, F32_SIGN, F64_INF, F64_SIGN } from './format';

/**
 * Whether discarding `rem` (a fraction scaled so that `half` means exactly one half of the
 * last kept unit) rounds the magnitude `kept` up by one unit, in mode `rm`.
 */
@inline export function roundsUp(rm: u32, sign: bool, kept: u64, rem: u64, half: u64): bool {
  if (rm == RM_RNE) return rem > half || (rem == half && (kept & 1) != 0);
  if (rm == RM_RTZ) return false;
  if (rm == RM_RDN) return sign && rem != 0;
  if (rm == RM_RUP) return !sign && rem != 0;
  if (rm == RM_RMM) return rem >= half;
  return rem > half || (rem == half && (kept & 1) != 0); // reserved modes: as RNE
}

/**
 * x >> n, with every bit shifted out ORed into bit 0 ("sticky"). Rounding x afterwards at a
 * position at least two bits above bit 0 gives the same result and the same inexactness as
 * rounding the exact value, which is what lets the core routines work in 64 or 128 bits.
 */
@inline export function shiftRightJam64(x: u64, n: u32): u64 {
  if (n == 0) return x;
  if (n < 64) return (x >> n) | <u64>((x << (64 - n)) != 0);
  return <u64>(x != 0);
}

/** Signed zero of the target format. */
@inline export function packZero(sign: bool, dbl: bool): u64 {
  if (!sign) return 0;
  return dbl ? F64_SIGN : <u64>F32_SIGN;
}

/** Signed infinity of the target format. */
@inline export function packInf(sign: bool, dbl: bool): u64 {
  if (dbl) return sign ? F64_INF | F64_SIGN : F64_INF;
  return <u64>(sign ? F32_INF | F32_SIGN : F32_INF);
}

// IEEE 754 §7.4: an overflowed result is infinity when rounding goes away from zero (RNE,
// RMM, and the directed mode pointing at the result's own infinity), else the largest
// finite number of that sign, whose bit pattern is infinity's minus one.
function overflow(sign: bool, rm: u32, dbl: bool): u64 {
  fflags |= FLAG_OF | FLAG_NX;
  const toZero = rm == RM_RTZ || (rm == RM_RDN && !sign) || (rm == RM_RUP && sign);
  const inf = packInf(false, dbl);
  const mag = toZero ? inf - 1 : inf;
  return sign ? mag | (dbl ? F64_SIGN : <u64>F32_SIGN) : mag;
}

/**
 * Rounds (-1)^sign * sig * 2^(e - 63) to binary64 (dbl) or binary32 in mode rm and packs it.
 * sig must have bit 63 set; its bit 0 may be a sticky bit (see shiftRightJam64). The caller
 * handles exact zeros, infinities and NaNs. binary32 results come back in the low 32 bits.
 */
export function roundPack(sign: bool, e: i32, sig: u64, rm: u32, dbl: bool): u64 {
  const fracBits: u64 = dbl ? 52 : 23;
  const bias: i32 = dbl ? 1023 : 127;
  const emin: i32 = 1 - bias;
  // Bits of sig below the target precision: 11 for binary64, 40 for binary32.
  const drop: u64 = 63 - fracBits;
  const half: u64 = (<u64>1) << (drop - 1);
  const mask: u64 = ((<u64>1) << drop) - 1;
  if (e > bias) return overflow(sign, rm, dbl); // |x| >= 2^(emax+1): beyond max finite

  let tiny = false;
  if (e < emin) {
    // The spec (F extension, "Subnormal Arithmetic"): tininess is detected after rounding,
    // i.e. x is tiny unless rounding it to full precision with an unbounded exponent range
    // reaches 2^emin. Only x in [2^(emin-1), 2^emin) whose kept bits are all ones can.
    const full = sig >> drop;
    const allOnes: u64 = ((<u64>1) << (fracBits + 1)) - 1;
    tiny = e < emin - 1 || full != allOnes || !roundsUp(rm, sign, full, sig & mask, half);
    sig = shiftRightJam64(sig, <u32>(emin - e));
    e = emin;
  }
  const rem = sig & mask;
  let kept = sig >> drop;
  if (roundsUp(rm, sign, kept, rem, half)) kept++;
  if (rem != 0) fflags |= tiny ? FLAG_NX | FLAG_UF : FLAG_NX;

  // kept carries the hidden bit, so adding it to (biased exponent - 1) << fracBits yields the
  // right exponent field, including a rounding carry to the next binade and the subnormal
  // (field 0) to smallest-normal (field 1) step.
  const bits = ((<u64>(e + bias - 1)) << fracBits) + kept;
  if (bits >= packInf(false, dbl)) return overflow(sign, rm, dbl);
  if (!sign) return bits;
  return bits | (dbl ? F64_SIGN : <u64>F32_SIGN);
}
