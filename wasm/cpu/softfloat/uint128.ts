// 128-bit unsigned arithmetic built from u64 halves (WebAssembly has no i128 and no
// 64x64->128 multiply). A 128-bit value is (hi, lo); functions that produce one return hi
// and leave lo in `wideLo`, a module-level result register: no tuples, no heap.

/** Low half of the last 128-bit result. */
export let wideLo: u64 = 0;

/** High 64 bits of the full 128-bit product a * b (the low 64 bits are just a * b). */
@inline export function mulHi64(a: u64, b: u64): u64 {
  const aL = a & 0xFFFF_FFFF, aH = a >> 32;
  const bL = b & 0xFFFF_FFFF, bH = b >> 32;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  // Each term is below 2^64 and their sum below 3 * 2^32, so `mid` cannot overflow.
  const mid = (ll >> 32) + (lh & 0xFFFF_FFFF) + (hl & 0xFFFF_FFFF);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** (hi, lo) >> n with the shifted-out bits ORed into bit 0; any n >= 0. */
export function shiftRightJam128(hi: u64, lo: u64, n: u32): u64 {
  if (n == 0) {
    wideLo = lo;
    return hi;
  }
  if (n < 64) {
    wideLo = (lo >> n) | (hi << (64 - n)) | <u64>((lo << (64 - n)) != 0);
    return hi >> n;
  }
  if (n == 64) {
    wideLo = hi | <u64>(lo != 0);
    return 0;
  }
  if (n < 128) {
    wideLo = (hi >> (n - 64)) | <u64>(((hi << (128 - n)) | lo) != 0);
    return 0;
  }
  wideLo = <u64>((hi | lo) != 0);
  return 0;
}

/** Leading zeros of (hi, lo), 0..128. */
@inline export function clz128(hi: u64, lo: u64): u32 {
  return hi != 0 ? <u32>clz<u64>(hi) : 64 + <u32>clz<u64>(lo);
}

/** (hi, lo) << n for n in 0..127. */
export function shiftLeft128(hi: u64, lo: u64, n: u32): u64 {
  if (n == 0) {
    wideLo = lo;
    return hi;
  }
  if (n < 64) {
    wideLo = lo << n;
    return (hi << n) | (lo >> (64 - n));
  }
  wideLo = 0;
  return lo << (n - 64);
}
