// RV64M (unprivileged spec ch. 7). Division never traps: the spec's results for a zero
// divisor and for signed overflow are written out, and WebAssembly's trapping division is
// only reached with operands where it is defined.

const INT64_MIN: i64 = i64.MIN_VALUE;
const INT32_MIN: i32 = i32.MIN_VALUE;

/** High 64 bits of the unsigned 128-bit product, from 32-bit halves. */
export function mulhu(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff, aHi = a >> 32;
  const bLo = b & 0xffffffff, bHi = b >> 32;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const hihi = aHi * bHi;
  const mid = (lolo >> 32) + (hilo & 0xffffffff) + (lohi & 0xffffffff);
  return hihi + (hilo >> 32) + (lohi >> 32) + (mid >> 32);
}

export function mulh(a: u64, b: u64): u64 {
  // Signed high product from the unsigned one: subtract the other operand for each
  // negative operand (two's-complement correction of the upper half).
  let h = mulhu(a, b);
  if (<i64>a < 0) h -= b;
  if (<i64>b < 0) h -= a;
  return h;
}

export function mulhsu(a: u64, b: u64): u64 {
  let h = mulhu(a, b);
  if (<i64>a < 0) h -= b;
  return h;
}

@inline export function div(a: u64, b: u64): u64 {
  if (b == 0) return <u64>-1;
  if (<i64>a == INT64_MIN && <i64>b == -1) return a;
  return <u64>(<i64>a / <i64>b);
}

@inline export function divu(a: u64, b: u64): u64 {
  return b == 0 ? <u64>-1 : a / b;
}

@inline export function rem(a: u64, b: u64): u64 {
  if (b == 0) return a;
  if (<i64>a == INT64_MIN && <i64>b == -1) return 0;
  return <u64>(<i64>a % <i64>b);
}

@inline export function remu(a: u64, b: u64): u64 {
  return b == 0 ? a : a % b;
}

@inline function sext32(v: i32): u64 {
  return <u64><i64>v;
}

@inline export function divw(a: u64, b: u64): u64 {
  const x = <i32>a, y = <i32>b;
  if (y == 0) return <u64>-1;
  if (x == INT32_MIN && y == -1) return sext32(x);
  return sext32(x / y);
}

@inline export function divuw(a: u64, b: u64): u64 {
  const x = <u32>a, y = <u32>b;
  return y == 0 ? <u64>-1 : sext32(<i32>(x / y));
}

@inline export function remw(a: u64, b: u64): u64 {
  const x = <i32>a, y = <i32>b;
  if (y == 0) return sext32(x);
  if (x == INT32_MIN && y == -1) return 0;
  return sext32(x % y);
}

@inline export function remuw(a: u64, b: u64): u64 {
  const x = <u32>a, y = <u32>b;
  return y == 0 ? sext32(<i32>x) : sext32(<i32>(x % y));
}
