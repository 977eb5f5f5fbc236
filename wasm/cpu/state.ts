// Architectural state of the one hart that is not in linear memory: the pc lives in a
// local of run() while it executes, the rest in globals that wasm reads in one instruction.
// Register files are in linear memory at REGS_OFFSET / FREGS_OFFSET (see layout.ts).

export const PRV_U: u32 = 0;
export const PRV_S: u32 = 1;
export const PRV_M: u32 = 3;

// mstatus fields (privileged spec 3.1.6)
export const MSTATUS_SIE: u64 = 1 << 1;
export const MSTATUS_MIE: u64 = 1 << 3;
export const MSTATUS_SPIE: u64 = 1 << 5;
export const MSTATUS_MPIE: u64 = 1 << 7;
export const MSTATUS_SPP: u64 = 1 << 8;
export const MSTATUS_MPP_SHIFT: u64 = 11;
export const MSTATUS_MPP: u64 = 3 << 11;
export const MSTATUS_FS_SHIFT: u64 = 13;
export const MSTATUS_FS: u64 = 3 << 13;
export const MSTATUS_MPRV: u64 = 1 << 17;
export const MSTATUS_SUM: u64 = 1 << 18;
export const MSTATUS_MXR: u64 = 1 << 19;
export const MSTATUS_TVM: u64 = 1 << 20;
export const MSTATUS_TW: u64 = 1 << 21;
export const MSTATUS_TSR: u64 = 1 << 22;
export const MSTATUS_UXL: u64 = <u64>3 << 32;
export const MSTATUS_SXL: u64 = <u64>3 << 34;
export const MSTATUS_SD: u64 = <u64>1 << 63;
/** UXL = SXL = 2: U and S are 64-bit and cannot be changed. */
export const MSTATUS_XLEN64: u64 = (<u64>2 << 32) | (<u64>2 << 34);
export const MSTATUS_WRITABLE: u64 =
  MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
export const SSTATUS_VISIBLE: u64 =
  MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR |
  MSTATUS_UXL | MSTATUS_SD;

/** menvcfg.STCE (Sstc): stimecmp exists below M and drives mip.STIP. */
export const MENVCFG_STCE: u64 = <u64>1 << 63;
/** menvcfg.FIOM, the one field senvcfg has too. */
export const ENVCFG_FIOM: u64 = 1;

// Interrupt bits of mip / mie, also the interrupt cause numbers.
export const IRQ_S_SOFT: u32 = 1;
export const IRQ_M_SOFT: u32 = 3;
export const IRQ_S_TIMER: u32 = 5;
export const IRQ_M_TIMER: u32 = 7;
export const IRQ_S_EXT: u32 = 9;
export const IRQ_M_EXT: u32 = 11;
export const MIP_SSIP: u64 = 1 << 1;
export const MIP_MSIP: u64 = 1 << 3;
export const MIP_STIP: u64 = 1 << 5;
export const MIP_MTIP: u64 = 1 << 7;
export const MIP_SEIP: u64 = 1 << 9;
export const MIP_MEIP: u64 = 1 << 11;
export const MIP_S_MASK: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
export const MIP_ALL: u64 = MIP_S_MASK | MIP_MSIP | MIP_MTIP | MIP_MEIP;

// Exception causes (privileged spec table 3.6)
export const CAUSE_MISALIGNED_FETCH: u32 = 0;
export const CAUSE_FETCH_ACCESS: u32 = 1;
export const CAUSE_ILLEGAL_INSTRUCTION: u32 = 2;
export const CAUSE_BREAKPOINT: u32 = 3;
export const CAUSE_MISALIGNED_LOAD: u32 = 4;
export const CAUSE_LOAD_ACCESS: u32 = 5;
export const CAUSE_MISALIGNED_STORE: u32 = 6;
export const CAUSE_STORE_ACCESS: u32 = 7;
export const CAUSE_USER_ECALL: u32 = 8;
export const CAUSE_SUPERVISOR_ECALL: u32 = 9;
export const CAUSE_MACHINE_ECALL: u32 = 11;
export const CAUSE_FETCH_PAGE_FAULT: u32 = 12;
export const CAUSE_LOAD_PAGE_FAULT: u32 = 13;
export const CAUSE_STORE_PAGE_FAULT: u32 = 15;
export const CAUSE_INTERRUPT: u64 = <u64>1 << 63;
/** Not an exception: a host trigger matched an access, which must not happen; takeTrap
 *  leaves the hart where it is (run() stops with STOP_WATCHPOINT). */
export const CAUSE_HOST_STOP: u32 = 0xffff;
/** Exceptions that medeleg can hand to S-mode: all but ecall-from-M and the reserved ones. */
export const MEDELEG_WRITABLE: u64 = 0xb3ff;

/** misa: RV64 (MXL=2) with A, C, D, F, I, M, S, U. */
export const MISA_VALUE: u64 = (<u64>2 << 62) | 0x14112d;

// --- the hart ---------------------------------------------------------------------------

/** Harts this machine has (1..SMP_MAX_HARTS) and the one whose state is live (mhartid);
 *  cpu/harts.ts switches them. Here, below every device, so the CLINT and PLIC can index by hart. */
export let hartCount: u32 = 1;
export let currentHart: u32 = 0;

export let pc: u64 = 0;
export let priv: u32 = PRV_M;

export let mstatus: u64 = MSTATUS_XLEN64;
export let mtvec: u64 = 0;
export let mepc: u64 = 0;
export let mcause: u64 = 0;
export let mtval: u64 = 0;
export let mscratch: u64 = 0;
export let medeleg: u64 = 0;
export let mideleg: u64 = 0;
export let mie: u64 = 0;
/** Software-written mip bits (SSIP, STIP, SEIP as written); device lines are ORed in. */
export let mip: u64 = 0;
export let mcounteren: u32 = 0;
export let scounteren: u32 = 0;
export let menvcfg: u64 = 0;
/** Sstc: the supervisor timer compare; with menvcfg.STCE, mip.STIP is time >= stimecmp. */
export let stimecmp: u64 = <u64>-1;
export let senvcfg: u64 = 0;
export let mcountinhibit: u32 = 0;

export let stvec: u64 = 0;
export let sepc: u64 = 0;
export let scause: u64 = 0;
export let stval: u64 = 0;
export let sscratch: u64 = 0;
export let satp: u64 = 0;

/** Instructions executed since reset (also mcycle/minstret; see csr.ts). */
export let icount: u64 = 0;
/** Offsets that make mcycle/minstret writable without disturbing icount. */
export let cycleDelta: u64 = 0;
export let instretDelta: u64 = 0;

/** frm lives here; fflags lives in softfloat.ts, where every operation accrues it. */
export let frm: u32 = 0;

/** LR/SC reservation: address and the value LR read (as QEMU compares both), or -1. */
export let reservation: u64 = <u64>-1;
export let reservationValue: u64 = 0;

export let pmpcfg0: u64 = 0;
export let pmpcfg2: u64 = 0;

/** The trap being raised: set by any faulting path, consumed by trap.ts. */
export let pendingCause: u64 = 0;
export let pendingTval: u64 = 0;

/** Last trap taken, for crash reports and the teaching views. */
export let lastTrapCause: u64 = 0;
export let lastTrapPc: u64 = 0;
export let lastTrapTval: u64 = 0;
export let trapCount: u64 = 0;
