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
