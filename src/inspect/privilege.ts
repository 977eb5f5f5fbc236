// The hart's privilege levels as numbers (mstatus.MPP, the core's current privilege) and as
// the letters every view prints. The one place that maps one to the other.
import type { Privilege } from './Types.ts';

/** Indexed by the 2-bit level: 0 U, 1 S, 3 M; 2 is reserved (the H extension's VS is not modelled). */
const BY_LEVEL: readonly (Privilege | undefined)[] = ['U', 'S', undefined, 'M'];

/** The letter of privilege level `level` (0, 1 or 3); undefined for the reserved 2 and out-of-range values. */
export function privilegeOf(level: number | bigint): Privilege | undefined {
  return BY_LEVEL[Number(level)];
}
