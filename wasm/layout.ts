// The core's linear-memory layout, declared once. The host reads these numbers from the
// module's exports (see src/machine/Core.ts), never from a copy. tests/unit/machineMap.test.ts
// fails when two regions overlap (raising TLB_ENTRIES to 1024 would run the store TLB into
// the UART ring). Only typed constants here: the test imports this file as TypeScript.
//
//   0x00000  unused (a null page)
//   0x01000  integer registers x0..x31, u64 each
//   0x01100  floating-point registers f0..f31, raw 64-bit patterns (singles NaN-boxed)
//   0x01800  PLIC source priorities
//   0x01900  pmpaddr0..15
//   0x01980  trigger CSRs: tdata1, tdata2 of each guest trigger
//   0x01a00  boot stages, trap counters by cause
//   0x01c00  triggers decoded for matching (guest, then host)
//   0x01d00  PLIC per context: enable bits, thresholds; per hart: its interrupt lines
//   0x01e00  CLINT per hart: mtimecmp, msip
//   0x02000  TLBs: fetch, load, store; TLB_ENTRIES entries of { tag: u64, addend: u64 }
//   0x08000  UART receive ring (host -> guest), UART_RX_SIZE bytes
//   0x09000  log of filled TLB entries
//   0x0a000  save areas of the harts that are not running, HART_SAVE_SIZE each
//   0x10000  UART transmit ring (guest -> host), UART_TX_SIZE bytes
//   0x20000  boot ROM image, indexed by physical address (0x1000..0x10000 is mapped)
//   0x30000  trap log ring
//   0x40000  compressed-instruction expansion table: 65536 x u32
//   0x80000  AssemblyScript static data (--memoryBase)
//   0x100000 guest RAM (physical 0x8000_0000), then one guard page (RAM_GUARD)
//   then     the JIT's page records, JIT_PAGE_RECORD bytes per 4 KiB page of RAM (cpu/jit.ts)

export const REGS_OFFSET: u32 = 0x1000;
/** Right after the integer registers: a hart switch copies both files in one go. */
export const FREGS_OFFSET: u32 = 0x1100;

/** PLIC source priorities, u32 each (64 sources). */
export const PLIC_PRIORITY_OFFSET: u32 = 0x1800;

/** pmpaddr0..15, u64 each. */
export const PMP_ADDR_OFFSET: u32 = 0x1900;

/** The guest triggers' tdata1 (u64 each), then their tdata2, then tcontrol (wasm/cpu/triggers.ts):
 *  per-hart state that a hart switch and a machine state copy in one piece. */
export const TRIGGER_CSR_OFFSET: u32 = 0x1980;
export const TRIGGER_CSR_SIZE: u32 = 0x48;
/** Every trigger, guest and host, decoded into a byte range to match (wasm/cpu/triggers.ts). */
export const TRIGGER_DECODED_OFFSET: u32 = 0x1c00;
export const TRIGGER_DECODED_SIZE: u32 = 0xc0;

/** PLIC state per context (16 = 8 harts x M, S): enable bits (u64), then thresholds (u32). */
export const PLIC_CONTEXT_STATE_OFFSET: u32 = 0x1d00;
export const PLIC_CONTEXT_STATE_SIZE: u32 = 0xc0;
/** Each hart's external-interrupt lines (MEIP, SEIP as mip bits, u64 per hart). */
export const PLIC_HART_MIP_OFFSET: u32 = 0x1dc0;
export const PLIC_HART_MIP_SIZE: u32 = 0x40;
/** CLINT per hart: mtimecmp (u64 each, 8 harts), then msip (u32 each). */
export const CLINT_STATE_OFFSET: u32 = 0x1e00;
export const CLINT_STATE_SIZE: u32 = 0x60;

/** Boot stages: the instruction count at which each was first reached (u64, -1 = not yet). */
export const STAGE_OFFSET: u32 = 0x1a00;
export const STAGE_COUNT: u32 = 8;
/** Traps taken, by cause: 16 exception counters then 16 interrupt counters (u64). */
export const TRAP_COUNT_OFFSET: u32 = 0x1a40;

export const TLB_OFFSET: u32 = 0x2000;
export const TLB_ENTRIES: u32 = 512;
export const TLB_ENTRY_SIZE: u32 = 16;
export const TLB_SIZE: u32 = TLB_ENTRIES * TLB_ENTRY_SIZE;
export const TLB_FETCH: u32 = TLB_OFFSET;
export const TLB_LOAD: u32 = TLB_OFFSET + TLB_SIZE;
export const TLB_STORE: u32 = TLB_OFFSET + 2 * TLB_SIZE;

export const UART_RX_OFFSET: u32 = 0x8000;
export const UART_RX_SIZE: u32 = 0x1000;
/** Addresses of the TLB entries filled since the last flush (u32 each), so a flush touches
 *  only those: Linux changes privilege or sstatus.SUM several times per system call. */
export const TLB_FILL_LOG_OFFSET: u32 = 0x9000;
export const TLB_FILL_LOG_ENTRIES: u32 = 1024;

/** A hart's registers, CSRs and pmpaddr while another hart runs (wasm/cpu/harts.ts). */
export const HART_SAVE_OFFSET: u32 = 0xa000;
export const HART_SAVE_SIZE: u32 = 0x800;
export const HART_SAVE_COUNT: u32 = 8;

export const UART_TX_OFFSET: u32 = 0x10000;
export const UART_TX_SIZE: u32 = 0x10000;

/** The reset ROM, indexed by physical address: ROM_OFFSET + pa for ROM_BASE <= pa < ROM_END. */
export const ROM_OFFSET: u32 = 0x20000;

/** The last TRAP_LOG_ENTRIES traps, a ring of TRAP_RECORD_SIZE records (machineMap.ts). */
export const TRAP_LOG_OFFSET: u32 = 0x30000;
export const TRAP_LOG_ENTRIES: u32 = 512;

export const CEXP_OFFSET: u32 = 0x40000;
export const CEXP_SIZE: u32 = 0x10000 * 4;

/** AssemblyScript's static data (lookup tables) starts here: wasm/build.mjs passes this
 *  number as --memoryBase, and tests/unit/machineMap.test.ts checks it ends below RAM. */
export const STATIC_OFFSET: u32 = 0x80000;

/** Guest RAM: RAM_OFFSET + (pa - RAM_BASE). */
export const RAM_OFFSET: u32 = 0x100000;
/** Bytes past the end of RAM that are mapped but never used, so a 4-byte fetch of a
 *  2-byte instruction in RAM's last bytes stays inside the wasm memory. */
export const RAM_GUARD: u32 = 0x10000;

/** Bytes per RAM page of the JIT's page records, after RAM and its guard (cpu/jit.ts). */
export const JIT_PAGE_RECORD: u32 = 8;
