// Interfaces shared by the inspector modules: what a decoded instruction looks like before
// and after formatting.

/** One operand of a decoded instruction, kept structured so that aliases can be chosen
 * from register numbers and values rather than from text. */
export type Operand =
  | { kind: 'x'; reg: number }
  | { kind: 'f'; reg: number }
  /** `hex` for fields the assembler writes in hex: shift amounts and U-type immediates. */
  | { kind: 'imm'; value: number; hex?: boolean }
  /** `offset(base)` of loads, stores and jalr; `offset` is omitted for AMOs (`(a0)`). */
  | { kind: 'mem'; base: number; offset?: number }
  /** An absolute branch or jump target (pc + offset, wrapped to 64 bits). */
  | { kind: 'target'; address: bigint }
  | { kind: 'csr'; csr: number }
  /** The floating-point rm field (0 rne .. 4 rmm, 5 and 6 reserved, 7 dyn). */
  | { kind: 'rm'; rm: number }
  /** A FENCE predecessor or successor set: bit 3 I, 2 O, 1 R, 0 W. */
  | { kind: 'fence'; set: number };

/** A decoded instruction before formatting. */
export interface DecodedInsn {
  mnemonic: string;
  operands: Operand[];
}

export interface DisassembleOptions {
  /** Print the pseudo-instructions objdump prints by default (li, mv, ret, j, csrr, ...),
   * and compressed instructions as what they expand to. Default false, which matches
   * `objdump -M no-aliases`. */
  aliases?: boolean;
}

export interface Disassembly {
  /** `mnemonic operand,operand`, operands separated by commas as objdump prints them. */
  text: string;
  /** Bytes the instruction occupies: 2 for RVC (and for any parcel that does not start a
   * 32-bit instruction), 4 otherwise. */
  length: 2 | 4;
  mnemonic: string;
  /** Each operand as printed; branch and jump targets are absolute hex addresses. */
  operands: string[];
}

/** The access a translation is for; it picks the permission bit and the fault cause. */
export type AccessType = 'fetch' | 'load' | 'store';
export type Privilege = 'U' | 'S' | 'M';
/** satp.MODE values the explainer walks (privileged spec, satp). */
export type TranslationMode = 'Bare' | 'Sv39' | 'Sv48' | 'Sv57';

/** The hart state a translation depends on. */
export interface TranslationState {
  satp: bigint;
  priv: Privilege;
  /** Only MPRV, MPP, SUM and MXR are used. */
  mstatus: bigint;
}

/** The PTE permission and status bits, each as a boolean. */
export interface PteFlags {
  V: boolean;
  R: boolean;
  W: boolean;
  X: boolean;
  U: boolean;
  G: boolean;
  A: boolean;
  D: boolean;
}

/** One PTE read of the walk. */
export interface WalkLevel {
  /** i in the spec's algorithm: LEVELS-1 for the root table down to 0. */
  level: number;
  /** va.vpn[i], the index into this level's table. */
  vpn: number;
  /** a + va.vpn[i] * PTESIZE. */
  pteAddress: bigint;
  /** The raw PTE; undefined when the read itself failed (access fault). */
  pte?: bigint;
  flags?: PteFlags;
  /** pte.ppn (bits 53:10). */
  ppn?: bigint;
  /** 'pointer' to the next table, a 'leaf', or 'fault' when the walk stopped here. */
  kind: 'pointer' | 'leaf' | 'fault';
}

export type TranslationFaultReason =
  | 'non-canonical' // va bits above the mode's width do not all equal its top bit
  | 'pte-access-fault' // the PTE address is not readable memory (step 2)
  | 'invalid' // pte.V = 0 (step 3)
  | 'reserved-w-without-r' // W = 1 with R = 0 (step 3)
  | 'reserved-bits' // bits 63:54 set: reserved, and PBMT/N are not implemented (step 3)
  | 'no-leaf' // a pointer PTE at level 0 (step 4)
  | 'permission' // R/W/X/U with SUM and MXR forbid the access (step 5)
  | 'misaligned-superpage'; // superpage PPN not aligned to its size (step 6)

export interface TranslationFault {
  /** The mcause/scause value: 12/13/15 page faults, 1/5/7 access faults. */
  cause: 1 | 5 | 7 | 12 | 13 | 15;
  causeName: string;
  reason: TranslationFaultReason;
  /** The level the walk stopped at; undefined for a non-canonical address. */
  level?: number;
  /** The spec step that raises it (privileged spec, "Virtual Address Translation Process"). */
  step: number;
  /** One sentence on why, naming the bits involved. */
  detail: string;
  /** What the trap handler sees in stval/mtval: the faulting virtual address. */
  tval: bigint;
}

export interface Translation {
  va: bigint;
  access: AccessType;
  mode: TranslationMode;
  /** The privilege the access is checked at: MPP for M-mode loads/stores with MPRV = 1. */
  effectivePriv: Privilege;
  /** Why no walk happens when mode is Bare or the effective privilege is M. */
  bareReason?: string;
  levels: WalkLevel[];
  /** The physical address on success. */
  pa?: bigint;
  /** Size of the page the leaf maps: 4 KiB, 2 MiB (megapage), 1 GiB (gigapage), ... */
  pageSize?: bigint;
  /** On success: whether the hardware would now set pte.A / pte.D (step 7; romvisor sets
   * them like QEMU does, the explainer only reports it). */
  setsA?: boolean;
  setsD?: boolean;
  fault?: TranslationFault;
}

// --- trap causes ---

/** A coarse grouping of causes, for colour and for a student's first question ("what is this?"). */
export type TrapKind =
  | 'syscall' // ecall: a request to a more privileged layer (U→kernel, S→SBI firmware)
  | 'page-fault'
  | 'access-fault'
  | 'illegal'
  | 'misaligned'
  | 'breakpoint'
  | 'timer'
  | 'external'
  | 'software'
  | 'other';

/** What one cause is called, at two lengths. */
export interface CauseName {
  /** mcause/scause as the hart writes it: bit 63 set for interrupts. */
  cause: bigint;
  interrupt: boolean;
  /** Exception or interrupt code (the low bits of the cause). */
  code: number;
  /** The privileged spec's name: "Environment call from U-mode". */
  name: string;
  /** A short label for a narrow table: "ecall from U". */
  short: string;
  kind: TrapKind;
}
