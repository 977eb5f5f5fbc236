// Decoder for the 32-bit RV64G encodings (I, M, A, F, D, Zicsr, Zifencei and the
// privileged instructions) into mnemonic + structured operands. Field positions and the
// opcode map are from the unprivileged spec's "RV32/64G Instruction Set Listings" and the
// privileged spec's instruction table. Any bit pattern the listings do not define returns
// undefined; the caller prints it as raw data.
import type { DecodedInsn, Operand } from './Types.ts';

const MASK64 = (1n << 64n) - 1n;

const rd = (i: number): number => (i >>> 7) & 31;
const rs1 = (i: number): number => (i >>> 15) & 31;
const rs2 = (i: number): number => (i >>> 20) & 31;
const rs3 = (i: number): number => i >>> 27;
const funct3 = (i: number): number => (i >>> 12) & 7;
const funct7 = (i: number): number => i >>> 25;
const iImm = (i: number): number => i >> 20;
const sImm = (i: number): number => ((i >> 25) << 5) | ((i >>> 7) & 31);
const bImm = (i: number): number =>
  ((i >> 31) << 12) | (((i >>> 7) & 1) << 11) | (((i >>> 25) & 0x3f) << 5) | (((i >>> 8) & 15) << 1);
const jImm = (i: number): number =>
  ((i >> 31) << 20) | (((i >>> 12) & 0xff) << 12) | (((i >>> 20) & 1) << 11) | (((i >>> 21) & 0x3ff) << 1);

const x = (reg: number): Operand => ({ kind: 'x', reg });
const f = (reg: number): Operand => ({ kind: 'f', reg });
const imm = (value: number, hex = false): Operand => ({ kind: 'imm', value, hex });
const mem = (base: number, offset?: number): Operand => ({ kind: 'mem', base, offset });

/** pc + offset wrapped to XLEN = 64 bits. */
export function branchTarget(pc: bigint, offset: number): Operand {
  return { kind: 'target', address: (pc + BigInt(offset)) & MASK64 };
}

const insn = (mnemonic: string, ...operands: Operand[]): DecodedInsn => ({ mnemonic, operands });

const BRANCH = ['beq', 'bne', undefined, undefined, 'blt', 'bge', 'bltu', 'bgeu'];
const LOAD = ['lb', 'lh', 'lw', 'ld', 'lbu', 'lhu', 'lwu', undefined];
const STORE = ['sb', 'sh', 'sw', 'sd'];
const OP_IMM = ['addi', undefined, 'slti', 'sltiu', 'xori', undefined, 'ori', 'andi'];
const OP = ['add', 'sll', 'slt', 'sltu', 'xor', 'srl', 'or', 'and'];
const OP_M = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
const OP_32M = ['mulw', undefined, undefined, undefined, 'divw', 'divuw', 'remw', 'remuw'];
const CSR = [undefined, 'csrrw', 'csrrs', 'csrrc', undefined, 'csrrwi', 'csrrsi', 'csrrci'];
/** AMO funct5 (bits 31:27) to operation name. */
const AMO = new Map<number, string>([
  [0b00000, 'amoadd'], [0b00001, 'amoswap'], [0b00010, 'lr'], [0b00011, 'sc'],
  [0b00100, 'amoxor'], [0b01000, 'amoor'], [0b01100, 'amoand'], [0b10000, 'amomin'],
  [0b10100, 'amomax'], [0b11000, 'amominu'], [0b11100, 'amomaxu'],
]);
const FMA = new Map<number, string>([[0x43, 'fmadd'], [0x47, 'fmsub'], [0x4b, 'fnmsub'], [0x4f, 'fnmadd']]);
/** fmt field (bits 26:25) to the precision suffix; only S and D are in RV64GC. */
const FMT = ['s', 'd'];

/** rm operand when it is not the default: `dflt` is 7 (dyn) for rounding operations, 0 for
 * conversions that are always exact (the assembler encodes rne there; see exactCvt). */
function rmOperand(rm: number, dflt: number): Operand[] {
  return rm === dflt ? [] : [{ kind: 'rm', rm }];
}

/** Decodes one 32-bit instruction (bits 1:0 == 0b11). */
export function decodeBase(i: number, pc: bigint): DecodedInsn | undefined {
  const op = i & 0x7f;
  const f3 = funct3(i);
  const f7 = funct7(i);
  switch (op) {
    case 0x37: // LUI: the 20-bit immediate as written in assembly, hex
      return insn('lui', x(rd(i)), imm(i >>> 12, true));
    case 0x17: // AUIPC
      return insn('auipc', x(rd(i)), imm(i >>> 12, true));
    case 0x6f: // JAL
      return insn('jal', x(rd(i)), branchTarget(pc, jImm(i)));
    case 0x67: // JALR
      return f3 === 0 ? insn('jalr', x(rd(i)), mem(rs1(i), iImm(i))) : undefined;
    case 0x63: { // BRANCH
      const m = BRANCH[f3];
      return m === undefined ? undefined : insn(m, x(rs1(i)), x(rs2(i)), branchTarget(pc, bImm(i)));
    }
    case 0x03: { // LOAD
      const m = LOAD[f3];
      return m === undefined ? undefined : insn(m, x(rd(i)), mem(rs1(i), iImm(i)));
    }
    case 0x23: { // STORE
      const m = STORE[f3];
      return m === undefined ? undefined : insn(m, x(rs2(i)), mem(rs1(i), sImm(i)));
    }
    case 0x13: // OP-IMM; RV64 shifts take a 6-bit shamt, so imm[11:6] selects the kind
      if (f3 === 1) return f7 >>> 1 === 0 ? insn('slli', x(rd(i)), x(rs1(i)), imm((i >>> 20) & 63, true)) : undefined;
      if (f3 === 5) {
        const m = f7 >>> 1 === 0 ? 'srli' : f7 >>> 1 === 0x10 ? 'srai' : undefined;
        return m === undefined ? undefined : insn(m, x(rd(i)), x(rs1(i)), imm((i >>> 20) & 63, true));
      }
      return insn(OP_IMM[f3]!, x(rd(i)), x(rs1(i)), imm(iImm(i)));
    case 0x1b: // OP-IMM-32: 5-bit shamt
      if (f3 === 0) return insn('addiw', x(rd(i)), x(rs1(i)), imm(iImm(i)));
      if (f3 === 1 && f7 === 0) return insn('slliw', x(rd(i)), x(rs1(i)), imm(rs2(i), true));
      if (f3 === 5 && (f7 === 0 || f7 === 0x20)) {
        return insn(f7 ? 'sraiw' : 'srliw', x(rd(i)), x(rs1(i)), imm(rs2(i), true));
      }
      return undefined;
    case 0x33: { // OP
      let m: string | undefined;
      if (f7 === 0) m = OP[f3];
      else if (f7 === 1) m = OP_M[f3];
      else if (f7 === 0x20) m = f3 === 0 ? 'sub' : f3 === 5 ? 'sra' : undefined;
      return m === undefined ? undefined : insn(m, x(rd(i)), x(rs1(i)), x(rs2(i)));
    }
    case 0x3b: { // OP-32
      let m: string | undefined;
      if (f7 === 0) m = f3 === 0 ? 'addw' : f3 === 1 ? 'sllw' : f3 === 5 ? 'srlw' : undefined;
      else if (f7 === 1) m = OP_32M[f3];
      else if (f7 === 0x20) m = f3 === 0 ? 'subw' : f3 === 5 ? 'sraw' : undefined;
      return m === undefined ? undefined : insn(m, x(rd(i)), x(rs1(i)), x(rs2(i)));
    }
    case 0x0f: // MISC-MEM
      return decodeMiscMem(i);
    case 0x73: // SYSTEM
      return decodeSystem(i);
    case 0x2f: { // AMO: funct5, aq (bit 26), rl (bit 25)
      if (f3 !== 2 && f3 !== 3) return undefined;
      const name = AMO.get(i >>> 27);
      if (name === undefined || (name === 'lr' && rs2(i) !== 0)) return undefined;
      const order = ['', '.rl', '.aq', '.aqrl'][(i >>> 25) & 3];
      const m = `${name}.${f3 === 2 ? 'w' : 'd'}${order}`;
      if (name === 'lr') return insn(m, x(rd(i)), mem(rs1(i)));
      return insn(m, x(rd(i)), x(rs2(i)), mem(rs1(i)));
    }
    case 0x07: // LOAD-FP
      if (f3 !== 2 && f3 !== 3) return undefined;
      return insn(f3 === 2 ? 'flw' : 'fld', f(rd(i)), mem(rs1(i), iImm(i)));
    case 0x27: // STORE-FP
      if (f3 !== 2 && f3 !== 3) return undefined;
      return insn(f3 === 2 ? 'fsw' : 'fsd', f(rs2(i)), mem(rs1(i), sImm(i)));
    case 0x43: case 0x47: case 0x4b: case 0x4f: { // FMADD, FMSUB, FNMSUB, FNMADD (R4)
      const fmt = FMT[(i >>> 25) & 3];
      if (fmt === undefined) return undefined;
      return insn(`${FMA.get(op)}.${fmt}`, f(rd(i)), f(rs1(i)), f(rs2(i)), f(rs3(i)), ...rmOperand(f3, 7));
    }
    case 0x53: // OP-FP
      return decodeOpFp(i);
    default:
      return undefined;
  }
}

function decodeMiscMem(i: number): DecodedInsn | undefined {
  const f3 = funct3(i);
  // FENCE.I's imm, rs1 and rd are reserved and must be zero for the standard encoding.
  if (f3 === 1) return i === 0x0000100f ? insn('fence.i') : undefined;
  if (f3 !== 0 || rd(i) !== 0 || rs1(i) !== 0) return undefined;
  const fm = i >>> 28;
  const pred = (i >>> 24) & 15;
  const succ = (i >>> 20) & 15;
  // fm = 1000 with pred = succ = RW is FENCE.TSO; other fm values are reserved.
  if (fm === 0b1000 && pred === 0b0011 && succ === 0b0011) return insn('fence.tso');
  if (fm !== 0) return undefined;
  return insn('fence', { kind: 'fence', set: pred }, { kind: 'fence', set: succ });
}

function decodeSystem(i: number): DecodedInsn | undefined {
  const f3 = funct3(i);
  if (f3 !== 0) {
    const m = CSR[f3];
    if (m === undefined) return undefined;
    const csr: Operand = { kind: 'csr', csr: i >>> 20 };
    // The *i forms carry a 5-bit zero-extended immediate in the rs1 field.
    return insn(m, x(rd(i)), csr, f3 >= 5 ? imm(rs1(i)) : x(rs1(i)));
  }
  switch (i) {
    case 0x00000073: return insn('ecall');
    case 0x00100073: return insn('ebreak');
    case 0x10200073: return insn('sret');
    case 0x30200073: return insn('mret');
    case 0x10500073: return insn('wfi');
  }
  // SFENCE.VMA rs1, rs2: funct7 0001001, rd 0.
  if (funct7(i) === 0b0001001 && rd(i) === 0) return insn('sfence.vma', x(rs1(i)), x(rs2(i)));
  return undefined;
}

function decodeOpFp(i: number): DecodedInsn | undefined {
  const f7 = funct7(i);
  const fmt = FMT[f7 & 3];
  if (fmt === undefined) return undefined;
  const rm = funct3(i);
  const d = rd(i);
  const a = rs1(i);
  const b = rs2(i);
  switch (f7 >>> 2) {
    case 0b00000: return insn(`fadd.${fmt}`, f(d), f(a), f(b), ...rmOperand(rm, 7));
    case 0b00001: return insn(`fsub.${fmt}`, f(d), f(a), f(b), ...rmOperand(rm, 7));
    case 0b00010: return insn(`fmul.${fmt}`, f(d), f(a), f(b), ...rmOperand(rm, 7));
    case 0b00011: return insn(`fdiv.${fmt}`, f(d), f(a), f(b), ...rmOperand(rm, 7));
    case 0b01011: return b === 0 ? insn(`fsqrt.${fmt}`, f(d), f(a), ...rmOperand(rm, 7)) : undefined;
    case 0b00100: {
      const m = ['fsgnj', 'fsgnjn', 'fsgnjx'][rm];
      return m === undefined ? undefined : insn(`${m}.${fmt}`, f(d), f(a), f(b));
    }
    case 0b00101: {
      const m = ['fmin', 'fmax'][rm];
      return m === undefined ? undefined : insn(`${m}.${fmt}`, f(d), f(a), f(b));
    }
    case 0b01000: // FCVT.S.D (fmt S, rs2 = D) rounds; FCVT.D.S (fmt D, rs2 = S) is exact
      if (fmt === 's' && b === 1) return insn('fcvt.s.d', f(d), f(a), ...rmOperand(rm, 7));
      if (fmt === 'd' && b === 0) return exactCvt('fcvt.d.s', f(d), f(a), rm);
      return undefined;
    case 0b10100: {
      const m = ['fle', 'flt', 'feq'][rm];
      return m === undefined ? undefined : insn(`${m}.${fmt}`, x(d), f(a), f(b));
    }
    case 0b11000: { // FCVT.int.fmt: rs2 selects w, wu, l, lu
      const t = ['w', 'wu', 'l', 'lu'][b];
      return t === undefined ? undefined : insn(`fcvt.${t}.${fmt}`, x(d), f(a), ...rmOperand(rm, 7));
    }
    case 0b11010: { // FCVT.fmt.int
      const t = ['w', 'wu', 'l', 'lu'][b];
      if (t === undefined) return undefined;
      const m = `fcvt.${fmt}.${t}`;
      // Every 32-bit integer fits a double exactly, so fcvt.d.w[u] never rounds.
      if (fmt === 'd' && b < 2) return exactCvt(m, f(d), x(a), rm);
      return insn(m, f(d), x(a), ...rmOperand(rm, 7));
    }
    case 0b11100: // FMV.X.W / FMV.X.D (rm 000) and FCLASS (rm 001), rs2 = 0
      if (b !== 0) return undefined;
      if (rm === 0) return insn(fmt === 's' ? 'fmv.x.w' : 'fmv.x.d', x(d), f(a));
      if (rm === 1) return insn(`fclass.${fmt}`, x(d), f(a));
      return undefined;
    case 0b11110: // FMV.W.X / FMV.D.X
      if (b !== 0 || rm !== 0) return undefined;
      return insn(fmt === 's' ? 'fmv.w.x' : 'fmv.d.x', f(d), x(a));
    default:
      return undefined;
  }
}

/**
 * A conversion that cannot round (fcvt.d.s, fcvt.d.w, fcvt.d.wu). The assembler encodes
 * rm = 000 and prints no rounding mode; any other rm is still a valid encoding (the spec
 * does not reserve it), so it is shown, `dyn` included.
 * XXX: objdump 2.40 prints these as `.4byte` when rm != 000; newer binutils accept them.
 */
function exactCvt(mnemonic: string, d: Operand, a: Operand, rm: number): DecodedInsn {
  return insn(mnemonic, d, a, ...rmOperand(rm, 0));
}
