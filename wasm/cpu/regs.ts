// The register files, in linear memory at REGS_OFFSET and FREGS_OFFSET (layout.ts) so the
// host reads them as arrays. Every access from the core goes through these.
import { FREGS_OFFSET, REGS_OFFSET } from '../layout';

@inline export function getX(r: u32): u64 {
  return load<u64>(REGS_OFFSET + (r << 3));
}
/** Writes x[r]; a write to x0 is dropped. */
@inline export function setX(r: u32, v: u64): void {
  if (r != 0) store<u64>(REGS_OFFSET + (r << 3), v);
}
/**
 * Writes x[r] even when r is 0. Only for the hot loop (run.ts), which zeroes x0 before
 * every instruction: cheaper than testing rd on every write.
 */
@inline export function setXAny(r: u32, v: u64): void {
  store<u64>(REGS_OFFSET + (r << 3), v);
}
/** Zeroes x0 again after a setXAny may have written it. */
@inline export function clearX0(): void {
  store<u64>(REGS_OFFSET, 0);
}

/** f[r]'s 64 bits (a single is NaN-boxed: see fpu.ts). */
@inline export function getF(r: u32): u64 {
  return load<u64>(FREGS_OFFSET + (r << 3));
}
@inline export function setF(r: u32, v: u64): void {
  store<u64>(FREGS_OFFSET + (r << 3), v);
}
