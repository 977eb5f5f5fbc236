// Test-only wasm entry for tests/unit/softfloat.test.ts: the softfloat API as exports, plus
// accessors for fflags (the CPU core reads and writes the global directly; JS cannot).
import { fflags } from '../../wasm/cpu/softfloat';
export * from '../../wasm/cpu/softfloat';

export function getFlags(): u32 {
  return fflags;
}
export function setFlags(value: u32): void {
  fflags = value;
}
