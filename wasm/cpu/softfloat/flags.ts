// Accrued exception flags and rounding-mode encodings, in the RISC-V layout (unprivileged
// spec, F extension, "Floating-Point Control and Status Register"): fflags is fcsr[4:0], so
// the CSR code can read and write this global as it is.

/** Accrued exception flags; every softfloat operation ORs into it and never clears it. */
export let fflags: u32 = 0;

export const FLAG_NX: u32 = 0x01; // inexact
export const FLAG_UF: u32 = 0x02; // underflow (tiny after rounding and inexact)
export const FLAG_OF: u32 = 0x04; // overflow
export const FLAG_DZ: u32 = 0x08; // divide by zero
export const FLAG_NV: u32 = 0x10; // invalid operation

// Rounding modes as the instruction's rm field and frm encode them. DYN (7) is resolved by
// the caller; the reserved values 5 and 6 never reach this code, and would round like RNE.
export const RM_RNE: u32 = 0; // to nearest, ties to even
export const RM_RTZ: u32 = 1; // towards zero
export const RM_RDN: u32 = 2; // towards -infinity
export const RM_RUP: u32 = 3; // towards +infinity
export const RM_RMM: u32 = 4; // to nearest, ties away from zero (max magnitude)
