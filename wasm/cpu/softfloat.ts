// IEEE-754 soft floating point for the RV64 F and D extensions: the CPU core's FPU calls
// these for every arithmetic, compare, classify and convert instruction.
//
// Contract: operands and results are raw bit patterns (u64 binary64, u32 binary32, already
// un-NaN-boxed by the caller); `rm` is a resolved rounding mode (RM_RNE..RM_RMM, never DYN);
// exception flags accrue into `fflags` in the fcsr layout. Results follow the unprivileged
// spec exactly: canonical NaNs, tininess detected after rounding, saturating conversions,
// FMIN/FMAX as in F 2.2. No allocation, no strings, no throw: safe under --runtime stub.
//
// Speed: add/sub/mul/div/sqrt/fma (both formats) and fcvt.s.d first try the host's own
// arithmetic when rm is RNE and NX is already set, and keep its result only when it is
// provably the correctly rounded one, normal and clear of the underflow boundary (binary64
// fma, which WebAssembly lacks, is rebuilt from error-free transformations; see fma.ts).
// Everything else takes the exact integer path.
export {
  fflags, FLAG_DZ, FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP,
} from './softfloat/flags';
export { f32_add, f32_sub, f64_add, f64_sub } from './softfloat/add';
export { f32_mul, f64_mul } from './softfloat/mul';
export { f32_div, f64_div } from './softfloat/div';
export { f32_sqrt, f64_sqrt } from './softfloat/sqrt';
export { f32_fma, f64_fma } from './softfloat/fma';
export {
  f32_classify, f32_eq, f32_le, f32_lt, f32_max, f32_min,
  f64_classify, f64_eq, f64_le, f64_lt, f64_max, f64_min,
} from './softfloat/compare';
export {
  f32_to_f64, f32_to_i32, f32_to_i64, f32_to_u32, f32_to_u64,
  f64_to_f32, f64_to_i32, f64_to_i64, f64_to_u32, f64_to_u64,
  i32_to_f32, i32_to_f64, i64_to_f32, i64_to_f64,
  u32_to_f32, u32_to_f64, u64_to_f32, u64_to_f64,
} from './softfloat/convert';
