// A debug export, never called by the run loop: the fields the interpreter's decoder reads
// from one instruction, through the same accessors (fields.ts) and the same compressed
// expansion (rvc.ts). tests/inspect/coreDecoder.test.ts compares them with what the
// disassembler (src/inspect/) decodes from the same bits.
import {
  csr, funct3, ILLEGAL, immB, immI, immJ, immS, immU, opcode, rd, rs1, rs2, rs3, shamt, shamtW,
} from './fields';
import { expanded } from './rvc';

export let decodedRd: u32 = 0;
export let decodedRs1: u32 = 0;
export let decodedRs2: u32 = 0;
export let decodedRs3: u32 = 0;
/** The immediate the interpreter uses for this opcode: immI/S/B/U/J, a shift amount, or the
 *  CSR number (a Zicsr immediate form's uimm is decodedRs1); 0 for formats without one. */
export let decodedImm: i64 = 0;

/**
 * Decodes `parcel` (a compressed instruction in the low 16 bits, or a 32-bit one) into the
 * decoded* globals and returns the 32-bit instruction decoded: a compressed one's expansion,
 * or ILLEGAL (0) for a reserved compressed encoding.
 */
export function decodeFieldsForTest(parcel: u32): u32 {
  const insn = (parcel & 3) != 3 ? expanded(parcel) : parcel;
  decodedRd = rd(insn);
  decodedRs1 = rs1(insn);
  decodedRs2 = rs2(insn);
  decodedRs3 = rs3(insn);
  decodedImm = insn == ILLEGAL ? 0 : immediate(insn);
  return insn;
}

function immediate(insn: u32): i64 {
  const f3 = funct3(insn);
  switch (opcode(insn)) {
    case 0x37: case 0x17: return immU(insn); // LUI, AUIPC
    case 0x6f: return immJ(insn); // JAL
    case 0x63: return immB(insn); // BRANCH
    case 0x23: case 0x27: return immS(insn); // STORE, STORE-FP
    case 0x67: case 0x03: case 0x07: return immI(insn); // JALR, LOAD, LOAD-FP
    case 0x13: return f3 == 1 || f3 == 5 ? <i64>shamt(insn) : immI(insn); // OP-IMM
    case 0x1b: return f3 == 0 ? immI(insn) : <i64>shamtW(insn); // OP-IMM-32
    case 0x73: return <i64>csr(insn); // SYSTEM: Zicsr
  }
  return 0;
}
