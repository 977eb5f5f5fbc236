// wasm/cpu/softfloat against an exact oracle: every operation is recomputed here on exact
// rationals (BigInt), rounded with each RISC-V rounding mode to binary32/binary64, and its
// flags derived from the IEEE 754 definitions (underflow: tiny after rounding and inexact,
// as the unprivileged spec's F chapter says). The oracle never looks at how the AssemblyScript
// code rounds: it only knows values, so a wrong guard/sticky bit shows up as a mismatch.
//
// Every case runs twice: with fflags clear (the exact integer path) and with NX preset,
// which lets RNE operations take the host "hardfloat" fast path; both must agree with the
// oracle bit for bit, flags included.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import asc from 'assemblyscript/asc';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hex } from '../../src/format/hex.ts';
import { SeededRandom } from '../SeededRandom.ts';

// ---- build the entry -------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));

async function compileEntry(): Promise<WebAssembly.Instance> {
  const dir = mkdtempSync(join(tmpdir(), 'softfloat-'));
  try {
    const out = join(dir, 'softfloat.wasm');
    const { error, stderr } = await asc.main([
      join(here, 'softfloat.entry.ts'), '--runtime', 'stub', '-O3', '--noAssert', '-o', out,
    ]);
    if (error) throw new Error(`asc failed on softfloat.entry.ts: ${error.message}\n${stderr.toString()}`);
    const { instance } = await WebAssembly.instantiate(readFileSync(out), {
      env: { abort: () => { throw new Error('softfloat wasm called abort()'); } },
    });
    return instance;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const wasm = (await compileEntry()).exports as Record<string, (...args: unknown[]) => unknown> & {
  getFlags(): number;
  setFlags(v: number): void;
};

// ---- formats and flags -----------------------------------------------------------------

const NX = 0x01, UF = 0x02, OF = 0x04, DZ = 0x08, NV = 0x10;
const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;
const MODES = [RNE, RTZ, RDN, RUP, RMM];
const MODE_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm'];

interface Fmt {
  name: 'f32' | 'f64';
  width: number;
  p: number; // precision including the hidden bit
  bias: number;
  emin: number;
  emax: number;
}
const F64: Fmt = { name: 'f64', width: 64, p: 53, bias: 1023, emin: -1022, emax: 1023 };
const F32: Fmt = { name: 'f32', width: 32, p: 24, bias: 127, emin: -126, emax: 127 };

const fracBits = (f: Fmt): bigint => BigInt(f.p - 1);
const expMask = (f: Fmt): bigint => (1n << BigInt(f.width - f.p)) - 1n;
const signBit = (f: Fmt): bigint => 1n << BigInt(f.width - 1);
const infBits = (f: Fmt): bigint => expMask(f) << fracBits(f);
const defaultNaN = (f: Fmt): bigint => infBits(f) | (1n << (fracBits(f) - 1n));

// ---- exact values ----------------------------------------------------------------------

type Decoded =
  | { kind: 'nan'; signaling: boolean }
  | { kind: 'inf'; neg: boolean }
  | { kind: 'zero'; neg: boolean }
  | { kind: 'num'; neg: boolean; m: bigint; e: number }; // |x| = m * 2^e, m > 0

function decode(bits: bigint, f: Fmt): Decoded {
  const neg = (bits & signBit(f)) !== 0n;
  const field = (bits >> fracBits(f)) & expMask(f);
  const frac = bits & ((1n << fracBits(f)) - 1n);
  if (field === expMask(f)) {
    if (frac === 0n) return { kind: 'inf', neg };
    return { kind: 'nan', signaling: (frac >> (fracBits(f) - 1n)) === 0n };
  }
  if (field === 0n) {
    if (frac === 0n) return { kind: 'zero', neg };
    return { kind: 'num', neg, m: frac, e: f.emin - (f.p - 1) };
  }
  return { kind: 'num', neg, m: frac | (1n << fracBits(f)), e: Number(field) - f.bias - (f.p - 1) };
}

/** A positive real the oracle can round: floor(log2 x) and x / 2^k split at one half. */
interface Exact {
  ilog2(): number;
  /** q = floor(x / 2^k); rem: 0 exact, 1 below one half, 2 exactly one half, 3 above. */
  quantize(k: number): { q: bigint; rem: number };
}

const bitLength = (n: bigint): number => n.toString(2).length;
const shift = (n: bigint, k: number): bigint => (k >= 0 ? n << BigInt(k) : n >> BigInt(-k));

/** num / den, both positive. */
class Ratio implements Exact {
  constructor(readonly num: bigint, readonly den: bigint) {}
  ilog2(): number {
    const l = bitLength(this.num) - bitLength(this.den);
    const atLeast = l >= 0 ? this.num >= this.den << BigInt(l) : this.num << BigInt(-l) >= this.den;
    return atLeast ? l : l - 1;
  }
  quantize(k: number): { q: bigint; rem: number } {
    const n = k >= 0 ? this.num : this.num << BigInt(-k);
    const d = k >= 0 ? this.den << BigInt(k) : this.den;
    const q = n / d;
    const r2 = (n - q * d) * 2n;
    return { q, rem: r2 === 0n ? 0 : r2 < d ? 1 : r2 === d ? 2 : 3 };
  }
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(num / den), both positive. */
class SqrtRatio implements Exact {
  constructor(readonly num: bigint, readonly den: bigint) {}
  ilog2(): number {
    return Math.floor(new Ratio(this.num, this.den).ilog2() / 2);
  }
  quantize(k: number): { q: bigint; rem: number } {
    // sqrt(y) / 2^k = sqrt(y / 4^k)
    const n = k >= 0 ? this.num : this.num << BigInt(-2 * k);
    const d = k >= 0 ? this.den << BigInt(2 * k) : this.den;
    const q = isqrt(n / d);
    if (q * q * d === n) return { q, rem: 0 };
    // compare sqrt(n/d) with q + 1/2, i.e. 4n with (2q + 1)^2 d
    const lhs = 4n * n, rhs = (2n * q + 1n) ** 2n * d;
    return { q, rem: lhs < rhs ? 1 : lhs === rhs ? 2 : 3 };
  }
}

interface Result { bits: bigint; flags: number }

function roundsUp(rm: number, neg: boolean, q: bigint, rem: number): boolean {
  switch (rm) {
    case RNE: return rem === 3 || (rem === 2 && (q & 1n) === 1n);
    case RTZ: return false;
    case RDN: return neg && rem !== 0;
    case RUP: return !neg && rem !== 0;
    case RMM: return rem >= 2;
  }
  throw new Error(`rounding mode ${rm} is not one of 0..4`);
}

/** IEEE rounding of (-1)^neg * x to format f, with the flags it raises. */
function roundTo(x: Exact, neg: boolean, f: Fmt, rm: number): Result {
  const sign = neg ? signBit(f) : 0n;
  const e = x.ilog2();
  const k = Math.max(e, f.emin) - (f.p - 1);
  const { q, rem } = x.quantize(k);
  let m = q + (roundsUp(rm, neg, q, rem) ? 1n : 0n);
  let flags = rem !== 0 ? NX : 0;
  if (m !== 0n && bitLength(m) - 1 + k > f.emax) {
    const toInf = rm === RNE || rm === RMM || (rm === RDN && neg) || (rm === RUP && !neg);
    return { bits: sign | (toInf ? infBits(f) : infBits(f) - 1n), flags: OF | NX };
  }
  if (e < f.emin && rem !== 0) {
    // Tiny after rounding: round to p bits as if the exponent range were unbounded.
    const k2 = e - (f.p - 1);
    const r2 = x.quantize(k2);
    const m2 = r2.q + (roundsUp(rm, neg, r2.q, r2.rem) ? 1n : 0n);
    if (bitLength(m2) - 1 + k2 < f.emin) flags |= UF;
  }
  let kk = k;
  if (m === 1n << BigInt(f.p)) { m >>= 1n; kk++; }
  if (m < 1n << fracBits(f)) return { bits: sign | m, flags }; // subnormal or zero
  const field = BigInt(kk + f.p - 1 + f.bias);
  return { bits: sign | (field << fracBits(f)) | (m - (1n << fracBits(f))), flags };
}

/** A signed dyadic or rational value as the oracle computes with it. */
interface Value { neg: boolean; num: bigint; den: bigint } // num >= 0, den > 0

function valueOf(d: Extract<Decoded, { kind: 'num' }>): Value {
  return d.e >= 0
    ? { neg: d.neg, num: d.m << BigInt(d.e), den: 1n }
    : { neg: d.neg, num: d.m, den: 1n << BigInt(-d.e) };
}
const signed = (v: Value): bigint => (v.neg ? -v.num : v.num);
function fromSigned(n: bigint, den: bigint): Value {
  return { neg: n < 0n, num: n < 0n ? -n : n, den };
}
function addValues(a: Value, b: Value): Value {
  return fromSigned(signed(a) * b.den + signed(b) * a.den, a.den * b.den);
}
function mulValues(a: Value, b: Value): Value {
  return { neg: a.neg !== b.neg, num: a.num * b.num, den: a.den * b.den };
}
function roundValue(v: Value, f: Fmt, rm: number): Result {
  return roundTo(new Ratio(v.num, v.den), v.neg, f, rm);
}
const zero = (neg: boolean, f: Fmt): bigint => (neg ? signBit(f) : 0n);
const nanResult = (f: Fmt, invalid: boolean): Result => ({ bits: defaultNaN(f), flags: invalid ? NV : 0 });

// ---- the oracle, operation by operation ------------------------------------------------

function oAdd(f: Fmt, a: bigint, b: bigint, rm: number): Result {
  const x = decode(a, f), y = decode(b, f);
  if (x.kind === 'nan' || y.kind === 'nan') {
    return nanResult(f, (x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling));
  }
  if (x.kind === 'inf' && y.kind === 'inf') {
    return x.neg === y.neg ? { bits: a, flags: 0 } : nanResult(f, true);
  }
  if (x.kind === 'inf') return { bits: a, flags: 0 };
  if (y.kind === 'inf') return { bits: b, flags: 0 };
  if (x.kind === 'zero' && y.kind === 'zero') {
    return { bits: zero(x.neg === y.neg ? x.neg : rm === RDN, f), flags: 0 };
  }
  const vx = x.kind === 'num' ? valueOf(x) : { neg: false, num: 0n, den: 1n };
  const vy = y.kind === 'num' ? valueOf(y) : { neg: false, num: 0n, den: 1n };
  const s = addValues(vx, vy);
  if (s.num === 0n) return { bits: zero(rm === RDN, f), flags: 0 };
  return roundValue(s, f, rm);
}

function oMul(f: Fmt, a: bigint, b: bigint, rm: number): Result {
  const x = decode(a, f), y = decode(b, f);
  if (x.kind === 'nan' || y.kind === 'nan') {
    return nanResult(f, (x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling));
  }
  const neg = x.neg !== y.neg;
  if (x.kind === 'inf' || y.kind === 'inf') {
    if (x.kind === 'zero' || y.kind === 'zero') return nanResult(f, true);
    return { bits: zero(neg, f) | infBits(f), flags: 0 };
  }
  if (x.kind === 'zero' || y.kind === 'zero') return { bits: zero(neg, f), flags: 0 };
  return roundValue(mulValues(valueOf(x), valueOf(y)), f, rm);
}

function oDiv(f: Fmt, a: bigint, b: bigint, rm: number): Result {
  const x = decode(a, f), y = decode(b, f);
  if (x.kind === 'nan' || y.kind === 'nan') {
    return nanResult(f, (x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling));
  }
  const neg = x.neg !== y.neg;
  if (x.kind === 'inf') {
    return y.kind === 'inf' ? nanResult(f, true) : { bits: zero(neg, f) | infBits(f), flags: 0 };
  }
  if (y.kind === 'inf') return { bits: zero(neg, f), flags: 0 };
  if (y.kind === 'zero') {
    if (x.kind === 'zero') return nanResult(f, true);
    return { bits: zero(neg, f) | infBits(f), flags: DZ };
  }
  if (x.kind === 'zero') return { bits: zero(neg, f), flags: 0 };
  const vx = valueOf(x), vy = valueOf(y);
  return roundTo(new Ratio(vx.num * vy.den, vx.den * vy.num), neg, f, rm);
}

function oSqrt(f: Fmt, a: bigint, rm: number): Result {
  const x = decode(a, f);
  if (x.kind === 'nan') return nanResult(f, x.signaling);
  if (x.kind === 'zero') return { bits: a, flags: 0 };
  if (x.neg) return nanResult(f, true);
  if (x.kind === 'inf') return { bits: a, flags: 0 };
  const v = valueOf(x);
  return roundTo(new SqrtRatio(v.num, v.den), false, f, rm);
}

function oFma(f: Fmt, a: bigint, b: bigint, c: bigint, rm: number): Result {
  const x = decode(a, f), y = decode(b, f), z = decode(c, f);
  const infTimesZero = (x.kind === 'inf' && y.kind === 'zero') || (x.kind === 'zero' && y.kind === 'inf');
  if (x.kind === 'nan' || y.kind === 'nan' || z.kind === 'nan') {
    const snan = [x, y, z].some((d) => d.kind === 'nan' && d.signaling);
    return nanResult(f, snan || infTimesZero); // spec: inf * 0 + qNaN raises NV
  }
  if (infTimesZero) return nanResult(f, true);
  const pneg = x.neg !== y.neg;
  if (x.kind === 'inf' || y.kind === 'inf') {
    if (z.kind === 'inf' && z.neg !== pneg) return nanResult(f, true);
    return { bits: zero(pneg, f) | infBits(f), flags: 0 };
  }
  if (z.kind === 'inf') return { bits: c, flags: 0 };
  const p: Value = x.kind === 'num' && y.kind === 'num'
    ? mulValues(valueOf(x), valueOf(y))
    : { neg: pneg, num: 0n, den: 1n };
  if (p.num === 0n && z.kind === 'zero') {
    return { bits: zero(pneg === z.neg ? pneg : rm === RDN, f), flags: 0 };
  }
  const s = addValues(p, z.kind === 'num' ? valueOf(z) : { neg: false, num: 0n, den: 1n });
  if (s.num === 0n) return { bits: zero(rm === RDN, f), flags: 0 };
  return roundValue(s, f, rm);
}

/** -1, 0, 1 for a < b, a == b, a > b; null if unordered. */
function oCompare(f: Fmt, a: bigint, b: bigint): number | null {
  const x = decode(a, f), y = decode(b, f);
  if (x.kind === 'nan' || y.kind === 'nan') return null;
  const key = (d: Decoded): Value | number => {
    if (d.kind === 'inf') return d.neg ? -Infinity : Infinity;
    if (d.kind === 'zero') return 0;
    return valueOf(d as Extract<Decoded, { kind: 'num' }>);
  };
  const kx = key(x), ky = key(y);
  if (typeof kx === 'number' && typeof ky === 'number') return Math.sign(kx - ky) || 0;
  if (typeof kx === 'number') return kx === 0 ? -sgn(ky as Value) : Math.sign(kx);
  if (typeof ky === 'number') return ky === 0 ? sgn(kx) : -Math.sign(ky);
  const diff = addValues(kx, { ...ky, neg: !ky.neg });
  return diff.num === 0n ? 0 : diff.neg ? -1 : 1;
}
const sgn = (v: Value): number => (v.num === 0n ? 0 : v.neg ? -1 : 1);

function oEq(f: Fmt, a: bigint, b: bigint): Result {
  const c = oCompare(f, a, b);
  if (c === null) {
    const sn = [a, b].some((v) => { const d = decode(v, f); return d.kind === 'nan' && d.signaling; });
    return { bits: 0n, flags: sn ? NV : 0 };
  }
  return { bits: c === 0 ? 1n : 0n, flags: 0 };
}
function oLt(f: Fmt, a: bigint, b: bigint): Result {
  const c = oCompare(f, a, b);
  return c === null ? { bits: 0n, flags: NV } : { bits: c < 0 ? 1n : 0n, flags: 0 };
}
function oLe(f: Fmt, a: bigint, b: bigint): Result {
  const c = oCompare(f, a, b);
  return c === null ? { bits: 0n, flags: NV } : { bits: c <= 0 ? 1n : 0n, flags: 0 };
}
function oMinMax(f: Fmt, a: bigint, b: bigint, max: boolean): Result {
  const x = decode(a, f), y = decode(b, f);
  const flags = (x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling) ? NV : 0;
  if (x.kind === 'nan' && y.kind === 'nan') return { bits: defaultNaN(f), flags };
  if (x.kind === 'nan') return { bits: b, flags };
  if (y.kind === 'nan') return { bits: a, flags };
  let c = oCompare(f, a, b)!;
  if (c === 0 && x.kind === 'zero' && y.kind === 'zero') c = x.neg === y.neg ? 0 : x.neg ? -1 : 1;
  return { bits: (max ? c >= 0 : c <= 0) ? a : b, flags };
}
function oClassify(f: Fmt, a: bigint): Result {
  const d = decode(a, f);
  const subnormal = d.kind === 'num' && ((a >> fracBits(f)) & expMask(f)) === 0n;
  const bit = d.kind === 'nan' ? (d.signaling ? 8 : 9)
    : d.kind === 'inf' ? (d.neg ? 0 : 7)
    : d.kind === 'zero' ? (d.neg ? 3 : 4)
    : subnormal ? (d.neg ? 2 : 5)
    : (d.neg ? 1 : 6);
  return { bits: 1n << BigInt(bit), flags: 0 };
}

interface IntFmt { bits: 32 | 64; signed: boolean }
const I32: IntFmt = { bits: 32, signed: true };
const U32: IntFmt = { bits: 32, signed: false };
const I64: IntFmt = { bits: 64, signed: true };
const U64: IntFmt = { bits: 64, signed: false };
const intMin = (t: IntFmt): bigint => (t.signed ? -(1n << BigInt(t.bits - 1)) : 0n);
const intMax = (t: IntFmt): bigint => (t.signed ? (1n << BigInt(t.bits - 1)) - 1n : (1n << BigInt(t.bits)) - 1n);
// fcvt.w[u] writes the 32-bit result sign-extended to 64 bits.
const intReg = (t: IntFmt, v: bigint): bigint =>
  BigInt.asUintN(64, t.bits === 32 ? BigInt.asIntN(32, v) : v);

function oToInt(f: Fmt, t: IntFmt, a: bigint, rm: number): Result {
  const d = decode(a, f);
  if (d.kind === 'nan') return { bits: intReg(t, intMax(t)), flags: NV };
  if (d.kind === 'inf') return { bits: intReg(t, d.neg ? intMin(t) : intMax(t)), flags: NV };
  if (d.kind === 'zero') return { bits: 0n, flags: 0 };
  const v = valueOf(d);
  const { q, rem } = new Ratio(v.num, v.den).quantize(0);
  const mag = q + (roundsUp(rm, v.neg, q, rem) ? 1n : 0n);
  const r = v.neg ? -mag : mag;
  if (r < intMin(t) || r > intMax(t)) return { bits: intReg(t, v.neg ? intMin(t) : intMax(t)), flags: NV };
  return { bits: intReg(t, r), flags: rem !== 0 ? NX : 0 };
}

function oFromInt(f: Fmt, t: IntFmt, a: bigint, rm: number): Result {
  const raw = BigInt.asUintN(t.bits, a);
  const v = t.signed ? BigInt.asIntN(t.bits, raw) : raw;
  if (v === 0n) return { bits: 0n, flags: 0 };
  return roundValue(fromSigned(v, 1n), f, rm);
}

function oConvertFloat(from: Fmt, to: Fmt, a: bigint, rm: number): Result {
  const d = decode(a, from);
  if (d.kind === 'nan') return nanResult(to, d.signaling);
  if (d.kind === 'inf') return { bits: zero(d.neg, to) | infBits(to), flags: 0 };
  if (d.kind === 'zero') return { bits: zero(d.neg, to), flags: 0 };
  return roundValue(valueOf(d), to, rm);
}

// ---- calling the wasm ------------------------------------------------------------------

type ArgKind = 'f64' | 'f32' | 'x'; // binary64, binary32, 64-bit integer register
type ResKind = 'f64' | 'f32' | 'x' | 'bool';

interface Op {
  name: string;
  args: ArgKind[];
  rounds: boolean; // takes rm
  result: ResKind;
  oracle(args: bigint[], rm: number): Result;
}

function toWasm(kind: ArgKind, v: bigint): unknown {
  return kind === 'f32' ? Number(v) | 0 : BigInt.asIntN(64, v);
}
function fromWasm(kind: ResKind, v: unknown): bigint {
  if (kind === 'f32') return BigInt((v as number) >>> 0);
  if (kind === 'bool') return BigInt(v as number);
  return BigInt.asUintN(64, v as bigint);
}

/** A value zero-padded to its kind's width. */
const hexOf = (v: bigint, kind: ArgKind | ResKind): string => hex(v, kind === 'f32' ? 8 : kind === 'bool' ? 1 : 16);

interface Failure { text: string }

/** Runs every case in every rounding mode, with fflags clear and with NX preset. */
function check(op: Op, cases: bigint[][]): { runs: number; failures: Failure[] } {
  const fn = wasm[op.name];
  assert.equal(typeof fn, 'function', `wasm export ${op.name} is missing`);
  const failures: Failure[] = [];
  let runs = 0;
  for (let args of cases) {
    args = args.map((v, i) => BigInt.asUintN(op.args[i] === 'f32' ? 32 : 64, v));
    const wargs = args.map((v, i) => toWasm(op.args[i], v));
    for (const rm of op.rounds ? MODES : [RNE]) {
      const want = op.oracle(args, rm);
      for (const preset of [0, NX]) {
        wasm.setFlags(preset);
        const got = fromWasm(op.result, op.rounds ? fn(...wargs, rm) : fn(...wargs));
        const flags = wasm.getFlags();
        runs++;
        if (got !== want.bits || flags !== (want.flags | preset)) {
          if (failures.length < 12) {
            failures.push({
              text: `${op.name}(${args.map((v, i) => hexOf(v, op.args[i])).join(', ')})` +
                `${op.rounds ? ' ' + MODE_NAMES[rm] : ''} preset=${preset}: got ${hexOf(got, op.result)} ` +
                `flags ${flags.toString(2)}, expected ${hexOf(want.bits, op.result)} flags ` +
                `${(want.flags | preset).toString(2)}`,
            });
          }
        }
      }
    }
  }
  return { runs, failures };
}

function assertOp(op: Op, cases: bigint[][]): void {
  const { runs, failures } = check(op, cases);
  assert.ok(runs > 0);
  assert.deepEqual(failures.map((f) => f.text), [], `${op.name}: ${failures.length} mismatches`);
}

// ---- operands --------------------------------------------------------------------------

/** Operands biased toward what stresses rounding, from the tests' seeded random source. */
class Gen extends SeededRandom {

  /** A fraction field, biased toward patterns that stress rounding. */
  frac(f: Fmt): bigint {
    const n = Number(fracBits(f));
    switch (this.below(8)) {
      case 0: return 0n;
      case 1: return (1n << BigInt(n)) - 1n;
      case 2: return 1n << BigInt(this.below(n));
      case 3: return this.bits(n) & this.bits(n) & this.bits(n); // sparse
      case 4: return ((1n << BigInt(n)) - 1n) ^ (1n << BigInt(this.below(n))); // dense
      default: return this.bits(n);
    }
  }
  /** A float bit pattern, biased toward special exponents. */
  float(f: Fmt): bigint {
    const max = Number(expMask(f));
    let field: number;
    switch (this.below(10)) {
      case 0: field = 0; break; // zero, subnormal
      case 1: field = this.pick([1, 2, max - 1, max - 2]); break; // edges of the normal range
      case 2: field = max; break; // inf, NaN
      case 3: field = this.pick([1, 1 + this.below(f.p + 2), max - 1 - this.below(f.p + 2)]); break;
      case 4: case 5: case 6: field = f.bias - 4 + this.below(9); break; // around 1.0
      default: field = 1 + this.below(max - 1);
    }
    const sign = BigInt(this.below(2)) << BigInt(f.width - 1);
    return sign | (BigInt(field) << fracBits(f)) | this.frac(f);
  }
  /** A finite float with this exponent field (clamped into the finite range). */
  withField(f: Fmt, field: number): bigint {
    const nf = Math.min(Number(expMask(f)) - 1, Math.max(0, field));
    const sign = BigInt(this.below(2)) << BigInt(f.width - 1);
    return sign | (BigInt(nf) << fracBits(f)) | this.frac(f);
  }
  /** A finite float whose exponent field is `delta` away from x's. */
  near(f: Fmt, x: bigint, delta: number): bigint {
    return this.withField(f, Number((x >> fracBits(f)) & expMask(f)) + delta);
  }
}

// Named values for the hand-picked cases.
function named(f: Fmt) {
  const fb = fracBits(f);
  const one = BigInt(f.bias) << fb;
  return {
    pz: 0n, nz: signBit(f), one, none: one | signBit(f), two: one + (1n << fb),
    half: one - (1n << fb), three: one + (1n << fb) + (1n << (fb - 1n)),
    oneUlp: one + 1n, // 1 + 2^-(p-1)
    minSub: 1n, maxSub: (1n << fb) - 1n, minNorm: 1n << fb, maxNorm: infBits(f) - 1n,
    inf: infBits(f), ninf: infBits(f) | signBit(f),
    qnan: defaultNaN(f), snan: infBits(f) | 1n, nqnan: defaultNaN(f) | signBit(f) | 5n,
    // 2^-p: adding it to 1 is an exact tie in every binary format
    halfUlp: BigInt(f.bias - f.p) << fb,
  };
}

function specials(f: Fmt): bigint[] {
  const n = named(f);
  const neg = (v: bigint) => v | signBit(f);
  const base = [n.pz, n.nz, n.one, n.none, n.two, n.half, n.three, n.oneUlp, n.minSub, n.maxSub,
    n.minNorm, n.maxNorm, n.inf, n.ninf, n.qnan, n.snan, n.nqnan, n.halfUlp,
    n.minNorm + 1n, n.minNorm - 1n, n.maxNorm - 1n, n.one - 1n, 3n, (n.minNorm >> 1n) + 1n];
  return [...new Set([...base, ...base.map(neg)])];
}

const pairs = (xs: bigint[]): bigint[][] => xs.flatMap((a) => xs.map((b) => [a, b]));

// ---- the operations --------------------------------------------------------------------

function arith(f: Fmt) {
  const k: ArgKind = f.name;
  return {
    add: { name: `${f.name}_add`, args: [k, k], rounds: true, result: k, oracle: ([a, b]: bigint[], rm: number) => oAdd(f, a, b, rm) },
    sub: { name: `${f.name}_sub`, args: [k, k], rounds: true, result: k, oracle: ([a, b]: bigint[], rm: number) => oAdd(f, a, b ^ signBit(f), rm) },
    mul: { name: `${f.name}_mul`, args: [k, k], rounds: true, result: k, oracle: ([a, b]: bigint[], rm: number) => oMul(f, a, b, rm) },
    div: { name: `${f.name}_div`, args: [k, k], rounds: true, result: k, oracle: ([a, b]: bigint[], rm: number) => oDiv(f, a, b, rm) },
    sqrt: { name: `${f.name}_sqrt`, args: [k], rounds: true, result: k, oracle: ([a]: bigint[], rm: number) => oSqrt(f, a, rm) },
    fma: { name: `${f.name}_fma`, args: [k, k, k], rounds: true, result: k, oracle: ([a, b, c]: bigint[], rm: number) => oFma(f, a, b, c, rm) },
  } satisfies Record<string, Op>;
}

const RANDOM = 2500; // random operand tuples per operation and format (x5 modes x2 presets)

for (const f of [F64, F32]) {
  const ops = arith(f);
  const n = named(f);
  const sp = specials(f);
  const fb = fracBits(f);

  describe(`${f.name} arithmetic matches the exact oracle`, () => {
    it('adds and subtracts special values, ties and cancellations exactly', () => {
      const hand = [
        ...pairs(sp),
        [n.one, n.halfUlp], [n.oneUlp, n.halfUlp], [n.none, n.halfUlp ^ signBit(f)], // ties
        [n.one, n.halfUlp + 1n], [n.one, n.halfUlp - 1n], // just above / below a tie
        [n.maxNorm, BigInt(f.emax - f.p) + BigInt(f.bias) << fb], // overflow on a tie
        [n.minNorm, n.maxSub ^ signBit(f)], [n.minNorm + 1n, n.minNorm ^ signBit(f)], // subnormal results
        [n.two, n.oneUlp ^ signBit(f)], // massive cancellation
      ];
      assertOp(ops.add, hand);
      assertOp(ops.sub, hand);
    });
    it('adds and subtracts random operands, including near-cancelling ones', () => {
      const g = new Gen(f.width * 1000 + 1);
      const cases: bigint[][] = [];
      for (let i = 0; i < RANDOM; i++) {
        const a = g.float(f);
        const r = g.below(4);
        const b = r === 0 ? g.near(f, a, g.below(5) - 2) // cancellation
          : r === 1 ? g.near(f, a, -(f.p - 3 + g.below(6))) // aligned around the rounding bits
          : r === 2 ? (a ^ signBit(f)) + BigInt(g.below(5)) - 2n
          : g.float(f);
        cases.push([a, b]);
      }
      assertOp(ops.add, cases);
      assertOp(ops.sub, cases.slice(0, RANDOM / 2));
    });
    it('multiplies special and random operands, over- and underflowing', () => {
      const g = new Gen(f.width * 1000 + 2);
      const cases = pairs(sp);
      cases.push([n.minNorm, n.half], [n.minNorm + 1n, n.half], [n.minNorm | 3n, n.half - 1n],
        [n.maxNorm, n.two], [n.maxNorm, n.oneUlp], [n.minSub, n.half]);
      for (let i = 0; i < RANDOM; i++) {
        const a = g.float(f);
        // Exponents that sum near the bottom or top of the range stress UF/OF.
        const fa = Number((a >> fb) & expMask(f));
        const b = g.below(3) === 0
          ? g.withField(f, (g.below(2) ? 3 * f.bias : f.bias + 1) - fa + g.below(5) - 2)
          : g.float(f);
        cases.push([a, b]);
        if (g.below(3) === 0) cases.push([a, (BigInt(g.below(f.p + 3)) << fb) | g.frac(f)]);
      }
      assertOp(ops.mul, cases);
    });
    it('divides special and random operands, including by zero', () => {
      const g = new Gen(f.width * 1000 + 3);
      const cases = pairs(sp);
      cases.push([n.one, n.three], [n.minNorm, n.two], [n.minNorm, n.three], [n.maxNorm, n.half]);
      for (let i = 0; i < RANDOM; i++) cases.push([g.float(f), g.float(f)]);
      assertOp(ops.div, cases);
    });
    it('takes square roots of special, exact-square and random operands', () => {
      const g = new Gen(f.width * 1000 + 4);
      const cases = sp.map((a) => [a]);
      for (let i = 0; i < RANDOM; i++) {
        const a = g.float(f);
        cases.push([a], [a & ~signBit(f)]);
      }
      // Squares of short significands have exact roots.
      for (let i = 0; i < 200; i++) {
        const m = BigInt(1 + g.below(1 << Math.min(20, (f.p >> 1) - 1)));
        const sq = oMul(f, fromInt(f, m), fromInt(f, m), RNE).bits;
        cases.push([sq], [sq + 1n], [sq - 1n]);
      }
      assertOp(ops.sqrt, cases);
    });
    it('fuses multiply-add with one rounding where mul-then-add rounds twice', () => {
      // (1 + u)^2 - (2u - u/4), u = 2^-(p-1): the exact sum is just above a tie that the
      // rounded product would turn into an exact tie (and round to even).
      // With u = 2^-(p-1): (1 + u)^2 - 1.5u = 1 + u/2 + u^2 rounds up to 1 + u, but the
      // product rounded first (1 + 2u) leaves 1 + u/2, an exact tie that rounds to 1.
      const c = signBit(f) | ((BigInt(f.bias) - fb) << fb) | (1n << (fb - 1n)); // -1.5u
      const few = sp.slice(0, 18);
      // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 is a binary32 midpoint; + 2^-60 lifts it just
      // above, but not by enough to survive rounding to binary64 first (the f32 fast path).
      const d = 1n << (fb - 12n);
      const tieUp = [n.one | d, n.one | d, BigInt(f.bias - 60) << fb];
      const hand = [[n.oneUlp, n.oneUlp, c], [n.oneUlp ^ signBit(f), n.oneUlp, c ^ signBit(f)], tieUp,
        [tieUp[0], tieUp[1] ^ signBit(f), tieUp[2] ^ signBit(f)],
        // Exact ties (the f64 fast path's tie branch) and a result rounding to a power of
        // two, whose rounding interval is lopsided: (1 + u)(1 - u/2) - u/2 = 1 - u^2/2.
        [n.one, n.one, n.halfUlp], [n.oneUlp, n.one, n.halfUlp], [n.oneUlp, n.one - 1n, n.halfUlp ^ signBit(f)],
        ...pairs(few).flatMap(([a, b]) => few.map((x) => [a, b, x]))];
      const fused = oFma(f, n.oneUlp, n.oneUlp, c, RNE).bits;
      const twice = oAdd(f, oMul(f, n.oneUlp, n.oneUlp, RNE).bits, c, RNE).bits;
      assert.notEqual(fused, twice, 'the hand-picked fma case must distinguish fused from unfused');
      assertOp(ops.fma, hand);
    });
    it('fuses multiply-add on random operands, including near-cancelling addends', () => {
      const g = new Gen(f.width * 1000 + 5);
      const cases: bigint[][] = [];
      for (let i = 0; i < RANDOM; i++) {
        let a = g.float(f), b = g.float(f);
        const r = g.below(4);
        if (r === 3) {
          // Short significands: the product has about p + 1 bits, often a midpoint, and the
          // addend sits far below it, so only an exact sum rounds it correctly.
          const keep = BigInt(f.p >> 1);
          a &= ~((1n << (fb - keep)) - 1n);
          b &= ~((1n << (fb - keep)) - 1n);
        }
        let c: bigint;
        if (r === 0) {
          const p = oMul(f, a, b, g.below(5)).bits; // -(a*b) rounded, nudged by a few ulps
          c = (p ^ signBit(f)) + BigInt(g.below(7)) - 3n;
          if (decode(c, f).kind === 'nan') c = g.float(f);
        } else if (r === 1) {
          c = g.near(f, oMul(f, a, b, RNE).bits, g.below(2 * f.p) - f.p);
        } else if (r === 3) {
          c = g.near(f, oMul(f, a, b, RNE).bits, -(f.p + 2 + g.below(2 * f.p)));
        } else {
          c = g.float(f);
        }
        cases.push([a, b, c]);
      }
      assertOp(ops.fma, cases);
    });
  });

  describe(`${f.name} compare, min/max and classify match the spec`, () => {
    const k: ArgKind = f.name;
    const g = new Gen(f.width * 1000 + 6);
    const cases = pairs(sp);
    for (let i = 0; i < RANDOM; i++) {
      const a = g.float(f);
      cases.push([a, g.below(2) ? g.float(f) : g.near(f, a, 0)]);
    }
    it('compares quietly (eq) and signalingly (lt, le)', () => {
      assertOp({ name: `${f.name}_eq`, args: [k, k], rounds: false, result: 'bool', oracle: ([a, b]) => oEq(f, a, b) }, cases);
      assertOp({ name: `${f.name}_lt`, args: [k, k], rounds: false, result: 'bool', oracle: ([a, b]) => oLt(f, a, b) }, cases);
      assertOp({ name: `${f.name}_le`, args: [k, k], rounds: false, result: 'bool', oracle: ([a, b]) => oLe(f, a, b) }, cases);
    });
    it('takes min and max with -0 < +0 and NaNs yielding the other operand', () => {
      assertOp({ name: `${f.name}_min`, args: [k, k], rounds: false, result: k, oracle: ([a, b]) => oMinMax(f, a, b, false) }, cases);
      assertOp({ name: `${f.name}_max`, args: [k, k], rounds: false, result: k, oracle: ([a, b]) => oMinMax(f, a, b, true) }, cases);
    });
    it('classifies into exactly one fclass bit', () => {
      assertOp({ name: `${f.name}_classify`, args: [k], rounds: false, result: 'x', oracle: ([a]) => oClassify(f, a) }, cases.map(([a]) => [a]));
    });
  });

  describe(`${f.name} integer conversions saturate and round as the spec's table says`, () => {
    const k: ArgKind = f.name;
    const g = new Gen(f.width * 1000 + 7);
    // Values at and around the integer range edges: +-2^31, 2^32, +-2^63, 2^64, and just off.
    const edges: bigint[] = [];
    for (const e of [31, 32, 63, 64]) {
      const pow = BigInt(e + f.bias) << fracBits(f);
      // 2^e - 1/2 and 2^e + 1/2 (ties for f64 at 31/32) and 2^e - 1 (exact in f64 only).
      const p2 = 1n << BigInt(e);
      const near = [fromRatio(f, 2n * p2 - 1n, 2n), fromRatio(f, 2n * p2 + 1n, 2n), fromRatio(f, p2 - 1n, 1n)];
      for (const v of [pow, pow - 1n, pow + 1n, ...near]) edges.push(v, v | signBit(f));
    }
    // -0.5 .. -1 and friends, for the unsigned conversions; n + 1/2 ties.
    for (const v of [n.half, n.half + 1n, n.half - 1n, n.one - 1n, n.one, n.three, n.half + (1n << (fb - 1n))]) {
      edges.push(v, v | signBit(f));
    }
    const cases = [...sp, ...edges].map((a) => [a]);
    for (let i = 0; i < RANDOM; i++) {
      // Exponents spread over the whole integer range, plus general values.
      const e = g.below(70) - 3;
      cases.push([g.below(4) === 0 ? g.float(f) : (BigInt(g.below(2)) << BigInt(f.width - 1)) | (BigInt(e + f.bias) << fb) | g.frac(f)]);
    }
    for (const [t, tn] of [[I32, 'i32'], [U32, 'u32'], [I64, 'i64'], [U64, 'u64']] as const) {
      it(`converts ${f.name} to ${tn}`, () => {
        assertOp({ name: `${f.name}_to_${tn}`, args: [k], rounds: true, result: 'x', oracle: ([a], rm) => oToInt(f, t, a, rm) }, cases);
      });
    }
    const ints: bigint[][] = [];
    for (const v of [0n, 1n, -1n, (1n << 24n) + 1n, (1n << 24n) + 3n, (1n << 53n) + 1n, (1n << 53n) + 3n,
      (1n << 31n) - 1n, -(1n << 31n), (1n << 32n) - 1n, (1n << 63n) - 1n, -(1n << 63n), (1n << 64n) - 1n,
      (1n << 64n) - 1024n, (1n << 64n) - 1025n]) ints.push([BigInt.asUintN(64, v)]);
    for (let i = 0; i < RANDOM; i++) {
      const len = 1 + g.below(64);
      const v = g.bits(64) >> BigInt(64 - len);
      ints.push([g.below(2) ? v : BigInt.asUintN(64, -v)]);
    }
    for (const [t, tn] of [[I32, 'i32'], [U32, 'u32'], [I64, 'i64'], [U64, 'u64']] as const) {
      it(`converts ${tn} to ${f.name}`, () => {
        assertOp({ name: `${tn}_to_${f.name}`, args: ['x'], rounds: true, result: k, oracle: ([a], rm) => oFromInt(f, t, a, rm) }, ints);
      });
    }
  });
}

describe('conversions between f64 and f32 match the exact oracle', () => {
  const g = new Gen(77);
  it('narrows f64 to f32 with rounding, overflow and underflow', () => {
    const cases = specials(F64).map((a) => [a]);
    for (let i = 0; i < RANDOM * 2; i++) {
      // Exponents around binary32's range and its subnormals.
      const e = g.below(340) - 170;
      cases.push([g.below(4) === 0 ? g.float(F64) : (BigInt(g.below(2)) << 63n) | (BigInt(e + 1023) << 52n) | g.frac(F64)]);
    }
    assertOp({ name: 'f64_to_f32', args: ['f64'], rounds: true, result: 'f32', oracle: ([a], rm) => oConvertFloat(F64, F32, a, rm) }, cases);
  });
  it('widens f32 to f64 exactly', () => {
    const cases = specials(F32).map((a) => [a]);
    for (let i = 0; i < RANDOM; i++) cases.push([g.float(F32)]);
    assertOp({ name: 'f32_to_f64', args: ['f32'], rounds: false, result: 'f64', oracle: ([a]) => oConvertFloat(F32, F64, a, RNE) }, cases);
  });
});

describe('fflags accrue', () => {
  it('keeps flags raised before an operation that raises none', () => {
    wasm.setFlags(NV | DZ | OF | UF | NX);
    (wasm.f64_add as (a: bigint, b: bigint, rm: number) => bigint)(named(F64).one, named(F64).one, RNE);
    assert.equal(wasm.getFlags(), NV | DZ | OF | UF | NX);
  });
});

/** num/den rounded to nearest even in format f. */
function fromRatio(f: Fmt, num: bigint, den: bigint): bigint {
  return roundValue({ neg: false, num, den }, f, RNE).bits;
}

/** The float nearest to integer m (exact for the small m used here). */
function fromInt(f: Fmt, m: bigint): bigint {
  return oFromInt(f, I64, m, RNE).bits;
}
