// The fields of a 32-bit RV64G instruction (unprivileged spec 2.2-2.3, "Base Instruction
// Formats" and "Immediate Encoding Variants"), one accessor each, named as Spike's insn_t
// names them. The interpreter (run.ts and its out-of-line helpers) extracts every field
// through these, and the JIT will translate with the same ones. All are @inline: each
// compiles to the shift-and-mask it replaces.
//
// Compressed instructions are expanded to 32 bits first (rvc.ts), so these serve both.
// The disassembler (src/inspect/) has its own decoder, for text; tests/inspect/
// coreDecoder.test.ts holds the two to the same fields on every encoding class.

/**
 * "No instruction": what a reserved compressed encoding expands to, what fetchSlow returns
 * on a fault, and what the decoder sets to send a reserved funct3 to the illegal-
 * instruction exit. It must be 0: its low bits 00 mark it as compressed, and the
 * expansion of the 16-bit parcel 0 (the defined illegal instruction) is ILLEGAL again,
 * whose major opcode 0 matches no case of the decoder.
 */
export const ILLEGAL: u32 = 0;

@inline export function opcode(insn: u32): u32 {
  return insn & 0x7f;
}
@inline export function rd(insn: u32): u32 {
  return (insn >> 7) & 31;
}
@inline export function rs1(insn: u32): u32 {
  return (insn >> 15) & 31;
}
@inline export function rs2(insn: u32): u32 {
  return (insn >> 20) & 31;
}
/** The third source register of the R4 format (fused multiply-add). */
@inline export function rs3(insn: u32): u32 {
  return insn >> 27;
}
@inline export function funct3(insn: u32): u32 {
  return (insn >> 12) & 7;
}
@inline export function funct7(insn: u32): u32 {
  return insn >> 25;
}
/** RV64 shifts-by-immediate: imm[11:6] tells SRLI (0) from SRAI (0x10). */
@inline export function funct6(insn: u32): u32 {
  return insn >> 26;
}
/** AMO operation (bits 31:27, beside aq/rl); the same bits as rs3. */
@inline export function funct5(insn: u32): u32 {
  return insn >> 27;
}
/** Floating-point rounding mode; the same bits as funct3. */
@inline export function rm(insn: u32): u32 {
  return (insn >> 12) & 7;
}
/** Floating-point format (bits 26:25): 0 single, 1 double. */
@inline export function fmt(insn: u32): u32 {
  return (insn >> 25) & 3;
}
/** Zicsr: the CSR number (bits 31:20). The immediate forms' 5-bit uimm is the rs1 field. */
@inline export function csr(insn: u32): u32 {
  return insn >> 20;
}
/** Shift amount of SLLI/SRLI/SRAI (6 bits in RV64). */
@inline export function shamt(insn: u32): u32 {
  return (insn >> 20) & 63;
}
/** Shift amount of SLLIW/SRLIW/SRAIW (5 bits); the same bits as rs2. */
@inline export function shamtW(insn: u32): u32 {
  return (insn >> 20) & 31;
}

// Immediates, sign-extended to 64 bits as the spec defines them.

/** I-type: loads, JALR, OP-IMM. */
@inline export function immI(insn: u32): i64 {
  return <i64>(<i32>insn >> 20);
}
/** S-type: stores. */
@inline export function immS(insn: u32): i64 {
  return <i64>((<i32>(insn & 0xfe000000) >> 20) | <i32>((insn >> 7) & 31));
}
/** B-type: branch offsets (even). */
@inline export function immB(insn: u32): i64 {
  return <i64>((<i32>(insn & 0x80000000) >> 19) | <i32>((insn << 4) & 0x800) |
    <i32>((insn >> 20) & 0x7e0) | <i32>((insn >> 7) & 0x1e));
}
/** U-type: LUI/AUIPC, the upper 20 bits in place. */
@inline export function immU(insn: u32): i64 {
  return <i64><i32>(insn & 0xfffff000);
}
/** J-type: JAL offsets (even). */
@inline export function immJ(insn: u32): i64 {
  return <i64>((<i32>(insn & 0x80000000) >> 11) | <i32>(insn & 0xff000) |
    <i32>((insn >> 9) & 0x800) | <i32>((insn >> 20) & 0x7fe));
}
