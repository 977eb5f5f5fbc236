// RV64GC disassembler for the inspector. Output follows GNU objdump's conventions so that
// what the playground shows matches what a student sees in a toolchain listing:
// `-M no-aliases` spelling by default (c.* mnemonics, every operand written out), objdump's
// default pseudo-instructions with `aliases: true`. Two differences, both deliberate:
// branch and jump targets are absolute `0x...` addresses (objdump adds `<symbol>`), and
// encodings objdump 2.40 rejects but the spec allows (see decodeBase's exactCvt) decode.
import { applyAliases } from './applyAliases.ts';
import { csrName } from './csrName.ts';
import { decodeBase } from './decodeBase.ts';
import { decodeCompressed } from './decodeCompressed.ts';
import { fRegName, xRegName } from './registerNames.ts';
import type { DecodedInsn, DisassembleOptions, Disassembly, Operand } from './Types.ts';

/** Rounding-mode names as the assembler spells them; 101 and 110 are reserved. */
const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'unknown', 'unknown', 'dyn'];

/**
 * Disassembles the instruction whose low bits are `insn` (pass at least 32 bits of
 * instruction stream; only the low 16 are used for a compressed instruction) at address
 * `pc`, which places branch and jump targets.
 *
 * Bits 1:0 != 11 mean a 16-bit instruction; bits 4:2 == 111 as well mean an instruction
 * longer than 32 bits (none exist in RV64GC), shown as one 16-bit parcel of data.
 */
export function disassemble(insn: number, pc: bigint, opts: DisassembleOptions = {}): Disassembly {
  const word = insn >>> 0;
  if ((word & 3) !== 3) {
    const h = word & 0xffff;
    const c = decodeCompressed(h, pc);
    if (c === undefined) return data(h, 2);
    if (!opts.aliases) return format(c.insn, 2);
    return format(c.hint ? applyAliases(c.insn) : applyAliases(c.expanded, true), 2);
  }
  if ((word & 0x1c) === 0x1c) return data(word & 0xffff, 2);
  const d = decodeBase(word, pc);
  if (d === undefined) return data(word, 4);
  return format(opts.aliases ? applyAliases(d) : d, 4);
}

/** Raw data: how objdump prints an encoding it cannot decode. */
function data(value: number, length: 2 | 4): Disassembly {
  const mnemonic = length === 2 ? '.2byte' : '.4byte';
  const operands = [`0x${value.toString(16)}`];
  return { text: `${mnemonic} ${operands[0]}`, length, mnemonic, operands };
}

function format(d: DecodedInsn, length: 2 | 4): Disassembly {
  const operands = d.operands.map(formatOperand);
  const text = operands.length === 0 ? d.mnemonic : `${d.mnemonic} ${operands.join(',')}`;
  return { text, length, mnemonic: d.mnemonic, operands };
}

/** One operand as the assembler accepts it back. */
export function formatOperand(op: Operand): string {
  switch (op.kind) {
    case 'x': return xRegName(op.reg);
    case 'f': return fRegName(op.reg);
    case 'imm': return op.hex ? `0x${(op.value >>> 0).toString(16)}` : String(op.value);
    case 'mem': return `${op.offset === undefined ? '' : op.offset}(${xRegName(op.base)})`;
    case 'target': return `0x${op.address.toString(16)}`;
    case 'csr': return csrName(op.csr) ?? `0x${op.csr.toString(16)}`;
    case 'rm': return RM_NAMES[op.rm & 7];
    case 'fence': return fenceSet(op.set);
  }
}

/** FENCE predecessor/successor set, `iorw` order; an empty set has no assembler spelling. */
function fenceSet(set: number): string {
  if (set === 0) return 'unknown';
  return ['i', 'o', 'r', 'w'].filter((_, k) => set & (8 >> k)).join('');
}
