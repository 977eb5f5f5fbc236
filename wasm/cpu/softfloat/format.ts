// Bit layouts of binary64 and binary32, and the unpacked form every core routine works in.
//
// Unpacked form: a finite nonzero value is  sig * 2^(exp - 63)  with bit 63 of sig set, so
// exp is the value's unbiased binary exponent and subnormal inputs arrive normalized. Both
// formats share it, which lets one add/mul/div/sqrt/fma core serve F and D; only the final
// rounding (roundPack) knows the target precision.

export const F64_SIGN: u64 = 0x8000_0000_0000_0000;
export const F64_INF: u64 = 0x7FF0_0000_0000_0000;
export const F64_FRAC: u64 = 0x000F_FFFF_FFFF_FFFF;
export const F64_QUIET: u64 = 0x0008_0000_0000_0000;
export const F64_MIN_NORMAL: u64 = 0x0010_0000_0000_0000;
// RISC-V never propagates payloads: every NaN result is this one (spec: "canonical NaN").
export const F64_DEFAULT_NAN: u64 = 0x7FF8_0000_0000_0000;

export const F32_SIGN: u32 = 0x8000_0000;
export const F32_INF: u32 = 0x7F80_0000;
export const F32_FRAC: u32 = 0x007F_FFFF;
export const F32_QUIET: u32 = 0x0040_0000;
export const F32_MIN_NORMAL: u32 = 0x0080_0000;
export const F32_DEFAULT_NAN: u32 = 0x7FC0_0000;

@inline export function isNaN64(a: u64): bool { return (a & ~F64_SIGN) > F64_INF; }
@inline export function isSNaN64(a: u64): bool { return isNaN64(a) && (a & F64_QUIET) == 0; }
@inline export function isInf64(a: u64): bool { return (a & ~F64_SIGN) == F64_INF; }
@inline export function isZero64(a: u64): bool { return (a << 1) == 0; }
@inline export function signOf64(a: u64): bool { return (a >> 63) != 0; }

@inline export function isNaN32(a: u32): bool { return (a & ~F32_SIGN) > F32_INF; }
@inline export function isSNaN32(a: u32): bool { return isNaN32(a) && (a & F32_QUIET) == 0; }
@inline export function isInf32(a: u32): bool { return (a & ~F32_SIGN) == F32_INF; }
@inline export function isZero32(a: u32): bool { return (a << 1) == 0; }
@inline export function signOf32(a: u32): bool { return (a >> 31) != 0; }

// Unpacking: only for finite nonzero values (callers dispatch zero, inf and NaN first).
// A subnormal binary64 is frac * 2^-1074; shifting frac left by clz puts its top bit at 63,
// hence exp = -1074 + 63 - clz = -1011 - clz.
@inline export function unpackExp64(a: u64): i32 {
  const field = <i32>((a >> 52) & 0x7FF);
  if (field != 0) return field - 1023;
  return -1011 - <i32>clz<u64>(a & F64_FRAC);
}
@inline export function unpackSig64(a: u64): u64 {
  const frac = a & F64_FRAC;
  if (((a >> 52) & 0x7FF) != 0) return (frac | F64_MIN_NORMAL) << 11;
  return frac << clz<u64>(frac);
}
// A subnormal binary32 is frac * 2^-149, so exp = -149 + 63 - clz64(frac) = -86 - clz.
@inline export function unpackExp32(a: u32): i32 {
  const field = <i32>((a >> 23) & 0xFF);
  if (field != 0) return field - 127;
  return -86 - <i32>clz<u64>(<u64>(a & F32_FRAC));
}
@inline export function unpackSig32(a: u32): u64 {
  const frac = <u64>(a & F32_FRAC);
  if (((a >> 23) & 0xFF) != 0) return (frac | <u64>F32_MIN_NORMAL) << 40;
  return frac << clz<u64>(frac);
}

// Gates of the host ("hardfloat") fast path. Inputs: normal, or zero (the host handles
// signed zeros exactly as IEEE does in RNE). Results: strictly above the smallest normal
// and finite. Equal to the smallest normal is refused because an exact value just below it
// can round up to it and still be tiny after rounding (UF must be raised), and zero is
// refused because it can be the rounded remains of an underflow.
@inline export function normalOrZero64(a: u64): bool {
  return (((a >> 52) + 1) & 0x7FF) >= 2 || (a << 1) == 0;
}
@inline export function normalOrZero32(a: u32): bool {
  return (((a >> 23) + 1) & 0xFF) >= 2 || (a << 1) == 0;
}
@inline export function hostResultOk64(r: u64): bool {
  return (r & ~F64_SIGN) - (F64_MIN_NORMAL + 1) < F64_INF - (F64_MIN_NORMAL + 1);
}
@inline export function hostResultOk32(r: u32): bool {
  return (r & ~F32_SIGN) - (F32_MIN_NORMAL + 1) < F32_INF - (F32_MIN_NORMAL + 1);
}
