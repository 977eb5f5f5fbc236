// The machine, declared once: where each device sits in the physical address space, how
// big it is, which PLIC source it raises, and the protocol between run() and the host
// (stop reasons, boot stages, record sizes). The wasm bus and devices decode these ranges;
// the host's device tree (src/machine/virtDeviceTree.ts) and region names
// (src/machine/physicalMap.ts) are built from them. Nothing else may write a base or size.
//
// This file compiles as AssemblyScript and as TypeScript (the host imports it directly;
// src/machine/asTypes.d.ts gives TypeScript the u32/u64 names as `number`), so it holds only
// typed constants and numeric enums: no `as const`, no objects, no BigInt literals.
//
// The map is QEMU's `virt` machine (hw/riscv/virt.c), so OpenSBI and an unmodified Linux
// find their devices where they would under qemu-system-riscv64 -M virt:
//   0x0000_1000 reset ROM       0x0010_0000 sifive test    0x0010_1000 goldfish RTC
//   0x0200_0000 CLINT
//   0x0C00_0000 PLIC            0x1000_0000 UART           0x1000_1000 virtio-mmio slots
//   0x8000_0000 RAM

/** The most harts a machine may have (--smp 1..8); the CLINT and PLIC windows are laid out for MAX_HARTS. */
export const SMP_MAX_HARTS: u32 = 8;
/** QEMU virt's VIRT_CPUS_MAX: the CLINT and PLIC windows are sized for this many harts. */
export const MAX_HARTS: u32 = 512;

/** Reset ROM: the first instructions after power-on, and firmware tables. */
export const ROM_BASE: u64 = 0x1000;
export const ROM_END: u64 = 0x10000;
export const ROM_SIZE: u64 = ROM_END - ROM_BASE;

/** The "sifive,test" finisher: poweroff, reboot, fail with a code. */
export const TEST_BASE: u64 = 0x10_0000;
export const TEST_SIZE: u64 = 0x1000;

/** goldfish RTC: the wall clock Linux reads at boot (wasm/dev/goldfishRtc.ts). */
export const RTC_BASE: u64 = 0x10_1000;
export const RTC_SIZE: u64 = 0x1000;
export const RTC_IRQ: u32 = 11;

/** CLINT (SiFive core-local interruptor): per hart an msip word and an mtimecmp; one mtime. */
export const CLINT_BASE: u64 = 0x200_0000;
export const CLINT_SIZE: u64 = 0x1_0000;
export const CLINT_MSIP: u32 = 0x0; // + 4 * hart
export const CLINT_MSIP_STRIDE: u32 = 4;
export const CLINT_MTIMECMP: u32 = 0x4000; // + 8 * hart
export const CLINT_MTIMECMP_STRIDE: u32 = 8;
export const CLINT_MTIME: u32 = 0xbff8;

/** PLIC: source priorities, pending bits, then per context an enable block and a
 *  threshold/claim page. Each hart has two contexts: 2 * hart = M-mode, 2 * hart + 1 = S-mode. */
export const PLIC_BASE: u64 = 0xc00_0000;
export const PLIC_SOURCES: u32 = 64; // source 0 does not exist; Linux's riscv,ndev = 63
export const PLIC_PRIORITY: u32 = 0x0;
export const PLIC_PENDING: u32 = 0x1000;
export const PLIC_ENABLE: u32 = 0x2000;
export const PLIC_ENABLE_STRIDE: u32 = 0x80;
export const PLIC_CONTEXT: u32 = 0x20_0000;
export const PLIC_CONTEXT_STRIDE: u32 = 0x1000;
export const PLIC_CONTEXTS_PER_HART: u32 = 2;
/** QEMU's VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2) = 0x600000: what Linux sees in the device tree. */
export const PLIC_SIZE: u64 = <u64>PLIC_CONTEXT + <u64>(MAX_HARTS * PLIC_CONTEXTS_PER_HART * PLIC_CONTEXT_STRIDE);

/** NS16550A console UART, byte-wide registers. */
export const UART_BASE: u64 = 0x1000_0000;
export const UART_SIZE: u64 = 0x100;
export const UART_IRQ: u32 = 10;
export const UART_CLOCK_HZ: u32 = 3686400;

/** virtio-mmio slots, implemented by the host; slot n raises PLIC source VIRTIO_IRQ + n.
 *  QEMU virt has eight; more slots (network, 9p) extend the window, not the code. */
export const VIRTIO_BASE: u64 = 0x1000_1000;
export const VIRTIO_STRIDE: u64 = 0x1000;
export const VIRTIO_SLOTS: u32 = 8;
export const VIRTIO_SIZE: u64 = VIRTIO_STRIDE * <u64>VIRTIO_SLOTS;
export const VIRTIO_IRQ: u32 = 1;

/** Guest RAM starts here; its size is the VM's. */
export const RAM_BASE: u64 = 0x8000_0000;

/** mtime's frequency: 10 MHz, as QEMU virt. In deterministic time mtime advances one tick
 *  per INSNS_PER_TICK instructions (a nominal 100 MIPS), so time is a function of the
 *  instruction count; realtime machines keep it level with the host's clock (dev/clint.ts). */
export const TIMEBASE_HZ: u64 = 10_000_000;
export const INSNS_PER_TICK: u64 = 10;

/** Triggers (Sdtrig): the guest's, through tselect, and the host debugger's slots. */
export const GUEST_TRIGGERS: u32 = 4;
export const HOST_TRIGGERS: u32 = 4;
/** A host trigger's kinds (wasm setHostTrigger): bits as in mcontrol. */
export enum TriggerKind {
  Load = 1,
  Store = 2,
  Execute = 4,
}

/** Why run() returned. */
export enum StopReason {
  /** The instruction budget is spent. */
  Budget = 0,
  /** The hart waits for an interrupt and none is pending. */
  Wfi = 1,
  /** sifive test device: pass / poweroff. */
  Poweroff = 2,
  /** sifive test device: reset. */
  Reboot = 3,
  /** sifive test device: fail with a code (stopValue). */
  Fail = 4,
  /** The program wrote its tohost word (stopValue). */
  Htif = 5,
  /** The UART transmit ring needs draining. */
  Console = 6,
  /** pc reached the breakpoint. */
  Breakpoint = 7,
  /** A trap was taken while trap-stepping. */
  Trap = 8,
  /** The privilege mode changed while priv-stepping. */
  Priv = 9,
  /** A host device asked for service (e.g. a virtqueue kick). */
  Device = 10,
  /** A host data trigger (watchpoint) matched, before the access (stopValue = its address). */
  Watchpoint = 11,
}

/** Boot stages, each recorded once at the instruction count where it is first reached
 *  (wasm/cpu/bootStages.ts says which event marks each). The host's names for them are
 *  BOOT_STAGES in src/machine/Core.ts, checked against this enum by the compiler. */
export enum BootStageId {
  PowerOn = 0,
  Firmware = 1,
  Kernel = 2,
  Paging = 3,
  User = 4,
  /** The first WFI after user mode started: the shell waits for input. */
  IdleUser = 5,
}

/** A trap-log record's u64 words (wasm/cpu/trapLog.ts writes them). */
export enum TrapRecordWord {
  /** A trap: where it was taken (mepc/sepc). A return: the xRET's own pc. */
  Pc = 0,
  /** With bit 63 for interrupts; 0 in a return. */
  Cause = 1,
  /** A trap: mtval/stval. A return: a0 as the return leaves it (a system call's result). */
  Tval = 2,
  /** A trap: the handler the hart jumped to. A return: where it resumes (sepc/mepc). */
  Handler = 3,
  /** The trap's number since reset (a return has its latest trap's). */
  Seq = 4,
  /** Privileges and flags: TRAP_INFO_*. */
  Info = 5,
  /** a7 when the record was written: a system call's number at an ecall. */
  A7 = 6,
  /** A page fault's walk snapshot: satp, then the PTEs read (top level first) and their addresses. */
  Satp = 7,
  Pte0 = 8,
  PteAddr0 = 11,
}
/** Info: the privilege the hart came from (bits 0-1), went to (8-9), a return (bit 16), PTEs in the walk snapshot (24-25). */
export const TRAP_INFO_FROM_SHIFT: u64 = 0;
export const TRAP_INFO_TO_SHIFT: u64 = 8;
export const TRAP_INFO_RETURN: u64 = 1 << 16;
export const TRAP_INFO_WALK_SHIFT: u64 = 24;
/** The hart that took the trap (or made the return), 8 bits. */
export const TRAP_INFO_HART_SHIFT: u64 = 32;
export const TRAP_RECORD_WORDS: u32 = 16;
export const TRAP_RECORD_SIZE: u32 = TRAP_RECORD_WORDS * 8;

/**
 * The core's scalar state in a machine state file (src/state/): what lives in wasm globals
 * rather than linear memory, one u64 each, in this order (wasm/machineState.ts reads and
 * writes them). The live hart's registers and CSRs; the devices' registers (CLINT, PLIC,
 * UART); the harts' scheduler; the counters the host and teaching views read. Appending a
 * member changes the count, which a state file records: a file with another count is for
 * another core and is refused. Host-side settings (debugger stops, host triggers, trap-log
 * masks, the JIT's mode) are not machine state and are not here.
 */
export enum CoreScalar {
  HartCount = 0, CurrentHart, Pc, Priv,
  Mstatus, Mtvec, Mepc, Mcause, Mtval, Mscratch, Medeleg, Mideleg, Mie, Mip, Mcounteren, Scounteren,
  Menvcfg, Stimecmp, Senvcfg, Mcountinhibit, Stvec, Sepc, Scause, Stval, Sscratch, Satp,
  Icount, CycleDelta, InstretDelta, Frm, Fflags, Reservation, ReservationValue, Pmpcfg0, Pmpcfg2,
  PendingCause, PendingTval, LastTrapCause, LastTrapPc, LastTrapTval, TrapCount, Tselect,
  MtimeBias, Mtimecmp,
  PlicLevels, PlicPending, PlicClaimed, PlicMip,
  UartIer, UartLcr, UartMcr, UartScr, UartFcr, UartDll, UartDlm, UartThrePending, UartRxHead, UartRxTail, UartTxHead, UartTxTail,
  Sleeping, QuantumLeft, HartSwitches, HartIdled, StagesPending, TrapLogHead, Tohost,
  RtcBaseNs, RtcTimeHigh, RtcAlarm, RtcAlarmHigh, RtcFlags,
  Count,
}
