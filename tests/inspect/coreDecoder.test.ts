// The core's decoder (wasm/cpu/fields.ts, the accessors the interpreter and the JIT use,
// and the compressed expansion table of rvc.ts) against the disassembler's own decoder
// (src/inspect/): the same bits must give the same rd, rs1, rs2, rs3 and immediate in every
// encoding class (R, I, S, B, U, J, R4, CSR, shifts), and every 16-bit encoding must expand
// to the instruction the disassembler says it stands for. The core reports its fields
// through the debug export decodeFieldsForTest.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeBase } from '../../src/inspect/decodeBase.ts';
import { decodeCompressed } from '../../src/inspect/decodeCompressed.ts';
import { formatOperand } from '../../src/inspect/disassemble.ts';
import type { DecodedInsn, Operand } from '../../src/inspect/Types.ts';
import type { CoreExports } from '../../src/machine/Core.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { SeededRandom } from '../SeededRandom.ts';

/** An address well away from 0, so that targets do not wrap and pc-relative mistakes show. */
const PC = 0x8020_0000n;
/** What the core's expansion of a reserved compressed encoding is (ILLEGAL in fields.ts). */
const ILLEGAL = 0;

interface Fields {
  rd?: number;
  rs1?: number;
  rs2?: number;
  rs3?: number;
  imm?: bigint;
}
type Field = keyof Fields;

/**
 * Where each of the disassembler's operands comes from, by major opcode (and mnemonic where
 * one opcode has several layouts). The operand's kind says how to read it: a register is
 * its number; `mem` is rs1 plus the immediate; a branch target is pc plus the immediate; a
 * CSR operand is the csr number, which the core reports as its immediate; `rm` and `fence`
 * operands are not fields the comparison covers.
 */
function layout(op: number, mnemonic: string): Field[] | undefined {
  switch (op) {
    case 0x37: case 0x17: return ['rd', 'imm']; // U
    case 0x6f: return ['rd', 'imm']; // J
    case 0x67: case 0x03: case 0x07: return ['rd', 'imm']; // I: jalr, loads
    case 0x23: case 0x27: return ['rs2', 'imm']; // S
    case 0x63: return ['rs1', 'rs2', 'imm']; // B
    case 0x13: case 0x1b: return ['rd', 'rs1', 'imm']; // I, and shifts by immediate
    case 0x33: case 0x3b: case 0x53: return ['rd', 'rs1', 'rs2']; // R (OP-FP: as many as shown)
    case 0x43: case 0x47: case 0x4b: case 0x4f: return ['rd', 'rs1', 'rs2', 'rs3']; // R4
    case 0x2f: return mnemonic.startsWith('lr.') ? ['rd', 'rs1'] : ['rd', 'rs2', 'rs1']; // AMO
    case 0x73: // CSR: rd, csr, rs1 or uimm; sfence.vma rs1, rs2; the rest have none
      return mnemonic.startsWith('csr') ? ['rd', 'imm', 'rs1'] : ['rs1', 'rs2'];
    case 0x0f: return []; // fence's pred/succ sets are no field the core decodes
  }
  return undefined;
}

/** The fields the disassembler's operands name, for an instruction with major opcode op. */
function disassemblerFields(op: number, d: DecodedInsn, pc: bigint): Fields {
  const names = layout(op, d.mnemonic);
  assert.ok(names, `no layout for opcode 0x${op.toString(16)} (${d.mnemonic})`);
  const operands = d.operands.filter((o) => o.kind !== 'rm' && o.kind !== 'fence');
  assert.ok(operands.length <= names.length, `${d.mnemonic}: more operands than the layout names`);
  const out: Fields = {};
  operands.forEach((o: Operand, k) => {
    const name = names[k]!;
    switch (o.kind) {
      case 'x': case 'f':
        out[name as Exclude<Field, 'imm'>] = o.reg;
        break;
      case 'imm':
        if (name === 'imm') {
          // lui/auipc print the 20-bit field; the core's immU is it in place, sign-extended.
          out.imm = op === 0x37 || op === 0x17 ? BigInt.asIntN(32, BigInt(o.value) << 12n) : BigInt(o.value);
        } else {
          out[name as Exclude<Field, 'imm'>] = o.value; // a Zicsr uimm, in the rs1 field
        }
        break;
      case 'mem':
        out.rs1 = o.base;
        if (o.offset !== undefined) out.imm = BigInt(o.offset);
        break;
      case 'target':
        out.imm = BigInt.asIntN(64, o.address - pc);
        break;
      case 'csr':
        out.imm = BigInt(o.csr);
        break;
    }
  });
  return out;
}

let core: CoreExports;

/** The core's fields for `parcel`, only those `want` names, and the instruction it decoded. */
function coreFields(parcel: number, want: Fields): { insn: number; fields: Fields } {
  const insn = core.decodeFieldsForTest(parcel) >>> 0;
  const all: Required<Fields> = {
    rd: core.decodedRd.value as number,
    rs1: core.decodedRs1.value as number,
    rs2: core.decodedRs2.value as number,
    rs3: core.decodedRs3.value as number,
    imm: core.decodedImm.value as bigint,
  };
  const fields: Fields = {};
  for (const k of Object.keys(want) as Field[]) (fields as Record<Field, unknown>)[k] = all[k];
  return { insn, fields };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** An encoding class for the coverage count, from the major opcode and mnemonic. */
function encodingClass(op: number, mnemonic: string): string {
  if ((op === 0x13 || op === 0x1b) && /^s(ll|rl|ra)i/.test(mnemonic)) return 'shift';
  if (op === 0x73) return mnemonic.startsWith('csr') ? 'CSR' : 'SYSTEM';
  const byOp: Record<number, string> = {
    0x37: 'U', 0x17: 'U', 0x6f: 'J', 0x67: 'I', 0x03: 'I', 0x07: 'I', 0x13: 'I', 0x1b: 'I',
    0x23: 'S', 0x27: 'S', 0x63: 'B', 0x33: 'R', 0x3b: 'R', 0x53: 'R', 0x2f: 'R',
    0x43: 'R4', 0x47: 'R4', 0x4b: 'R4', 0x4f: 'R4', 0x0f: 'fence',
  };
  return byOp[op] ?? 'other';
}

/** Every major opcode of RV64G. */
const OPCODES = [
  0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b, 0x43, 0x47, 0x4b, 0x4f,
  0x53, 0x63, 0x67, 0x6f, 0x73,
];
/** Words with every immediate bit set or clear, and single bits, on top of random ones. */
const EDGE_BITS = [0x0000_0000, 0xffff_ff80, 0x8000_0000, 0x7fff_ff80, 0x0000_0f80, 0x000f_f000, 0x0010_0000, 0x7e00_0000, 0x0000_0080];

/** Shifts by immediate, which random words rarely hit: SLLI/SRLI/SRAI (6-bit shamt, the
 *  kind in imm[11:6]) or their W forms (5-bit shamt, the kind in funct7). */
function shiftWords(random: SeededRandom, op: number): number[] {
  const kinds = op === 0x13 ? [0, 0x10 << 26] : [0, 0x20 << 25];
  const shamtBits = op === 0x13 ? 0x3f : 0x1f;
  return Array.from({ length: 400 }, () => {
    const low = random.u32() & 0x000f8f80; // rs1, rd
    const f3 = random.pick([1, 5]);
    const kind = f3 === 1 ? 0 : random.pick(kinds);
    return (kind | ((random.int(0, shamtBits)) << 20) | low | (f3 << 12)) >>> 0;
  });
}

describe('the core decoder agrees with the disassembler', () => {
  before(async () => {
    const module = await loadCoreModule();
    const memory = new WebAssembly.Memory({ initial: 16 });
    // The core alone: no devices, and a JIT that never compiles (its table stays empty).
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
    const instance = await WebAssembly.instantiate(module, {
      env: {
        memory, table, jitCompile: () => {}, jitNote: () => {}, mmioRead: () => 0n, mmioWrite: () => {},
        abort: () => { throw new Error('core abort'); },
      },
    });
    core = instance.exports as unknown as CoreExports;
    const ram = 1 << 20;
    const needed = core.RAM_OFFSET.value + ram + core.RAM_GUARD.value + core.jitRecordBytes(BigInt(ram));
    memory.grow(Math.ceil(needed / 65536) - memory.buffer.byteLength / 65536);
    core.init(BigInt(ram), 1); // builds the compressed expansion table
  });

  it('on 32-bit encodings of every major opcode and encoding class', () => {
    const random = new SeededRandom(0x5eed_dec0);
    const perClass = new Map<string, number>();
    for (const op of OPCODES) {
      const words = [...EDGE_BITS, ...Array.from({ length: 3000 }, () => random.u32())];
      if (op === 0x13 || op === 0x1b) words.push(...shiftWords(random, op));
      for (const bits of words) {
        const word = ((bits & ~0x7f) | op) >>> 0;
        const d = decodeBase(word, PC);
        if (d === undefined) continue;
        const want = disassemblerFields(op, d, PC);
        const got = coreFields(word, want);
        assert.equal(got.insn, word, `${hex(word)}: a 32-bit instruction decodes as itself`);
        assert.deepEqual(got.fields, want, `${hex(word)} (${d.mnemonic}): core fields vs disassembler`);
        const c = encodingClass(op, d.mnemonic);
        perClass.set(c, (perClass.get(c) ?? 0) + 1);
      }
    }
    for (const c of ['R', 'I', 'S', 'B', 'U', 'J', 'R4', 'CSR', 'shift']) {
      assert.ok((perClass.get(c) ?? 0) >= 100, `class ${c}: only ${perClass.get(c) ?? 0} encodings checked`);
    }
  });

  it('on every 16-bit encoding, after expansion', () => {
    let checked = 0;
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 3) === 3) continue;
      const c = decodeCompressed(h, PC);
      const want = c === undefined || h === 0 ? undefined : c.expanded;
      if (want === undefined) {
        // Reserved, or the all-zero parcel (the defined illegal instruction, `c.unimp`).
        assert.equal(core.decodeFieldsForTest(h) >>> 0, ILLEGAL, `${hex(h)} is reserved; the core expands it to ILLEGAL`);
        continue;
      }
      const insn = core.decodeFieldsForTest(h) >>> 0;
      assert.notEqual(insn, ILLEGAL, `${hex(h)} (${c!.insn.mnemonic}) expands to ILLEGAL in the core`);
      // The expansion is the instruction the disassembler says the parcel stands for...
      const base = decodeBase(insn, PC);
      const text = (d: DecodedInsn | undefined) => d && `${d.mnemonic} ${d.operands.map(formatOperand).join(',')}`;
      assert.equal(text(base), text(want), `${hex(h)} (${c!.insn.mnemonic}): the core expands it to ${hex(insn)}`);
      // ...and the core's fields of it are the disassembler's.
      const fields = disassemblerFields(insn & 0x7f, want, PC);
      assert.deepEqual(coreFields(h, fields).fields, fields, `${hex(h)} (${c!.insn.mnemonic}): core fields vs disassembler`);
      checked++;
    }
    assert.ok(checked > 40_000, `only ${checked} compressed encodings decoded`);
  });
});
