// The fuzzer's encoders against the GNU assembler: every encoder, with immediates at the
// ends of their ranges, must produce the bytes `riscv64-unknown-elf-as` produces.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as E from './encode.ts';

// [assembly, encoding, size]: w() for 32-bit instructions, c() for compressed ones.
type Case = [string, number, 2 | 4];
const w = (asm: string, bits: number): Case => [asm, bits, 4];
const c = (asm: string, bits: number): Case => [asm, bits, 2];

const A0 = 10, A1 = 11, A2 = 12, A3 = 13, A5 = 15, S0 = 8, S1 = 9, SP = 2, RA = 1, T0 = 5, T6 = 31;

const cases: Case[] = [
  w('add a0, a1, a2', E.rType(0, A2, A1, 0, A0, E.OP)),
  w('sub a0, a1, a2', E.rType(0x20, A2, A1, 0, A0, E.OP)),
  w('sra t6, ra, sp', E.rType(0x20, SP, RA, 5, T6, E.OP)),
  w('mulhsu a0, a1, a2', E.rType(1, A2, A1, 2, A0, E.OP)),
  w('remuw a0, a1, a2', E.rType(1, A2, A1, 7, A0, E.OP_32)),
  w('sraiw a0, a1, 31', E.iType(0x400 | 31, A1, 5, A0, E.OP_IMM_32)),
  w('srai a0, a1, 63', E.iType(0x400 | 63, A1, 5, A0, E.OP_IMM)),
  w('slli a0, a1, 32', E.iType(32, A1, 1, A0, E.OP_IMM)),
  w('addi a0, a1, -2048', E.iType(-2048, A1, 0, A0, E.OP_IMM)),
  w('sltiu a0, a1, 2047', E.iType(2047, A1, 3, A0, E.OP_IMM)),
  w('lui a0, 0xfffff', E.uType(0xfffff, A0, E.LUI)),
  w('auipc a0, 0x12345', E.uType(0x12345, A0, E.AUIPC)),
  w('ld a0, -8(sp)', E.iType(-8, SP, 3, A0, E.LOAD)),
  w('lwu a0, 2047(a1)', E.iType(2047, A1, 6, A0, E.LOAD)),
  w('sd a1, 2040(sp)', E.sType(2040, A1, SP, 3, E.STORE)),
  w('sb a1, -2048(sp)', E.sType(-2048, A1, SP, 0, E.STORE)),
  w('beq a0, a1, .+4094', E.bType(4094, A1, A0, 0)),
  w('bgeu a0, a1, .-4096', E.bType(-4096, A1, A0, 7)),
  w('bne a0, zero, .+8', E.bType(8, 0, A0, 1)),
  w('jal ra, .-1048576', E.jType(-1048576, RA)),
  w('jal zero, .+1048574', E.jType(1048574, 0)),
  w('jal t0, .+2050', E.jType(2050, T0)),
  w('jalr a0, -2048(a1)', E.iType(-2048, A1, 0, A0, E.JALR)),
  w('amoswap.d.aqrl a0, a2, (a1)', E.rType((0x01 << 2) | 3, A2, A1, 3, A0, E.AMO)),
  w('amomaxu.w.rl a0, a2, (a1)', E.rType((0x1c << 2) | 1, A2, A1, 2, A0, E.AMO)),
  w('lr.w.aq a0, (a1)', E.rType((0x02 << 2) | 2, 0, A1, 2, A0, E.AMO)),
  w('sc.d a0, a2, (a1)', E.rType(0x03 << 2, A2, A1, 3, A0, E.AMO)),
  w('csrrwi a0, frm, 4', E.iType(2, 4, 5, A0, E.SYSTEM)),
  w('csrrc a0, fcsr, a1', E.iType(3, A1, 3, A0, E.SYSTEM)),
  w('csrrs zero, fflags, t6', E.iType(1, T6, 2, 0, E.SYSTEM)),
  w('fadd.s fa0, fa1, fa2, rtz', E.rType(0x00, 12, 11, 1, 10, E.OP_FP)),
  w('fdiv.d fa0, fa1, fa2, dyn', E.rType((0x03 << 2) | 1, 12, 11, 7, 10, E.OP_FP)),
  w('fsqrt.d ft0, ft1, rup', E.rType((0x0b << 2) | 1, 0, 1, 3, 0, E.OP_FP)),
  w('fsgnjx.d fa0, fa1, fa2', E.rType((0x04 << 2) | 1, 12, 11, 2, 10, E.OP_FP)),
  w('fmax.s fa0, fa1, fa2', E.rType(0x05 << 2, 12, 11, 1, 10, E.OP_FP)),
  w('fcvt.lu.d a0, fa1, rmm', E.rType((0x18 << 2) | 1, 3, 11, 4, A0, E.OP_FP)),
  w('fcvt.w.s a0, fa1, rne', E.rType(0x18 << 2, 0, 11, 0, A0, E.OP_FP)),
  w('fcvt.s.wu fa0, a1, rup', E.rType(0x1a << 2, 1, A1, 3, 10, E.OP_FP)),
  w('fcvt.d.wu fa0, a1', E.rType((0x1a << 2) | 1, 1, A1, 0, 10, E.OP_FP)),
  w('fcvt.s.l fa0, a1, rdn', E.rType(0x1a << 2, 2, A1, 2, 10, E.OP_FP)),
  w('fcvt.s.d fa0, fa1, rdn', E.rType(0x08 << 2, 1, 11, 2, 10, E.OP_FP)),
  w('feq.d a0, fa1, fa2', E.rType((0x14 << 2) | 1, 12, 11, 2, A0, E.OP_FP)),
  w('fle.s a0, fa1, fa2', E.rType(0x14 << 2, 12, 11, 0, A0, E.OP_FP)),
  w('fclass.s a0, fa1', E.rType(0x1c << 2, 0, 11, 1, A0, E.OP_FP)),
  w('fmv.x.d a0, fa1', E.rType((0x1c << 2) | 1, 0, 11, 0, A0, E.OP_FP)),
  w('fmv.w.x fa0, a1', E.rType(0x1e << 2, 0, A1, 0, 10, E.OP_FP)),
  w('fmadd.d fa0, fa1, fa2, fa3, rmm', E.r4Type(13, 1, 12, 11, 4, 10, E.MADD)),
  w('fnmadd.s ft11, ft10, ft9, ft8, dyn', E.r4Type(28, 0, 29, 30, 7, 31, E.NMADD)),
  w('fmsub.s fa0, fa1, fa2, fa3, rne', E.r4Type(13, 0, 12, 11, 0, 10, E.MSUB)),
  w('fnmsub.d fa0, fa1, fa2, fa3, rtz', E.r4Type(13, 1, 12, 11, 1, 10, E.NMSUB)),
  w('flw fa0, -4(sp)', E.iType(-4, SP, 2, 10, E.LOAD_FP)),
  w('fsd fa1, 8(sp)', E.sType(8, 11, SP, 3, E.STORE_FP)),
  c('c.addi4spn a0, sp, 1020', E.cAddi4spn(A0, 1020)),
  c('c.addi4spn s1, sp, 4', E.cAddi4spn(S1, 4)),
  c('c.fld fa0, 248(a1)', E.cMem8(1, 10, A1, 248)),
  c('c.lw a0, 124(a1)', E.cMem4(2, A0, A1, 124)),
  c('c.lw a0, 4(a1)', E.cMem4(2, A0, A1, 4)),
  c('c.ld a2, 8(a3)', E.cMem8(3, A2, A3, 8)),
  c('c.fsd fa1, 16(s0)', E.cMem8(5, 11, S0, 16)),
  c('c.sw a1, 64(a2)', E.cMem4(6, A1, A2, 64)),
  c('c.sd s1, 248(a5)', E.cMem8(7, S1, A5, 248)),
  c('c.nop', 0x0001),
  c('c.addi a0, -32', E.cImm6(0, A0, -32)),
  c('c.addiw a0, 31', E.cImm6(1, A0, 31)),
  c('c.li a5, -1', E.cImm6(2, A5, -1)),
  c('c.addi16sp sp, -512', E.cAddi16sp(-512)),
  c('c.addi16sp sp, 496', E.cAddi16sp(496)),
  c('c.addi16sp sp, 16', E.cAddi16sp(16)),
  c('c.lui a0, 0xfffe0', E.cLui(A0, -32)),
  c('c.lui t0, 31', E.cLui(T0, 31)),
  c('c.srli a0, 63', E.cAluImm(0, A0, 63)),
  c('c.srai a1, 1', E.cAluImm(1, A1, 1)),
  c('c.andi a2, -32', E.cAluImm(2, A2, -32)),
  c('c.sub s0, s1', E.cAluReg(0, S0, S1)),
  c('c.xor s0, s1', E.cAluReg(1, S0, S1)),
  c('c.or a0, a5', E.cAluReg(2, A0, A5)),
  c('c.and a5, a0', E.cAluReg(3, A5, A0)),
  c('c.subw a0, a5', E.cAluReg(4, A0, A5)),
  c('c.addw a1, a2', E.cAluReg(5, A1, A2)),
  c('c.j .+2046', E.cJ(2046)),
  c('c.j .-2048', E.cJ(-2048)),
  c('c.j .+2', E.cJ(2)),
  c('c.beqz a0, .-256', E.cBranch(6, A0, -256)),
  c('c.bnez s1, .+254', E.cBranch(7, S1, 254)),
  c('c.slli t6, 63', E.cSlli(T6, 63)),
  c('c.fldsp fa0, 504(sp)', E.cLoadSp8(1, 10, 504)),
  c('c.ldsp ra, 0(sp)', E.cLoadSp8(3, RA, 0)),
  c('c.ldsp a0, 40(sp)', E.cLoadSp8(3, A0, 40)),
  c('c.lwsp a0, 252(sp)', E.cLwsp(A0, 252)),
  c('c.lwsp a0, 4(sp)', E.cLwsp(A0, 4)),
  c('c.jr a0', E.cCr(0, A0, 0)),
  c('c.mv a0, t6', E.cCr(0, A0, T6)),
  c('c.jalr t0', E.cCr(1, T0, 0)),
  c('c.add ra, sp', E.cCr(1, RA, SP)),
  c('c.fsdsp fa0, 504(sp)', E.cStoreSp8(5, 10, 504)),
  c('c.sdsp zero, 8(sp)', E.cStoreSp8(7, 0, 8)),
  c('c.swsp a0, 252(sp)', E.cSwsp(A0, 252)),
  c('c.swsp a0, 4(sp)', E.cSwsp(A0, 4)),
];

function assemble(lines: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'romvisor-enc-'));
  try {
    // norelax: gas resolves pc-relative targets itself; norvc: no silent compression.
    writeFileSync(join(dir, 'x.s'), ['.option norelax', '.option norvc', ...lines, ''].join('\n'));
    execFileSync('riscv64-unknown-elf-as', ['-march=rv64gc', '-o', join(dir, 'x.o'), join(dir, 'x.s')]);
    execFileSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'x.o'), join(dir, 'x.bin')]);
    return new Uint8Array(readFileSync(join(dir, 'x.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('fuzzer instruction encoders', () => {
  it('match the GNU assembler for every encoder', () => {
    const bytes = assemble(cases.map(([text, , size]) => (size === 2 ? `.option rvc; ${text}; .option norvc` : text)));
    let at = 0;
    for (const [text, bits, size] of cases) {
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const got = size === 4 ? view.getUint32(at, true) : view.getUint16(at, true);
      assert.equal(bits.toString(16).padStart(size * 2, '0'), got.toString(16).padStart(size * 2, '0'), `${text}: encoder differs from gas`);
      at += size;
    }
    assert.equal(at, bytes.length, 'gas produced a different total size');
  });

  it('reject immediates outside their range', () => {
    assert.throws(() => E.iType(2048, 1, 0, 1, E.OP_IMM), RangeError);
    assert.throws(() => E.bType(3, 1, 1, 0), RangeError);
    assert.throws(() => E.cAddi16sp(0), RangeError);
    assert.throws(() => E.cLui(2, 1), RangeError);
    assert.throws(() => E.cMem8(3, 16, 8, 0), RangeError);
  });
});
