// The disassembler against GNU objdump (the reference listing students compare with):
// the ISA test programs, an assembled file with every RV64GC form, every 16-bit encoding,
// random 32-bit encodings in every major opcode, and the fuzzer's machine code. Mnemonic
// and operands must match exactly (targets as absolute addresses on both sides), except
// for the few encodings listed where the spec, not objdump 2.40, decides.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { csrName, disassemble } from '../../src/inspect/index.ts';
import { buildFuzzElf } from '../fuzz/buildFuzzElf.ts';
import { allFormsAssembly, BASE_MNEMONICS, RVC_MNEMONICS } from './allForms.ts';
import { objdumpListing, type ListedInsn } from './objdumpListing.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const isaDir = join(root, 'build', 'isa');
const work = join(root, 'build', 'inspect');
mkdirSync(work, { recursive: true });
execFileSync('node', [join(root, 'tests', 'isa', 'build.mjs')], { stdio: 'inherit' });
const isaTestNames = (): string[] =>
  readdirSync(join(root, 'tests', 'isa')).filter((f) => f.endsWith('.S')).map((f) => f.slice(0, -2)).sort();

const NO_ALIASES = ['-M', 'no-aliases'];
/** CSRs the privileged spec added after version 1.11. */
const NEWER_THAN_PRIV_1_11 = new Set(['menvcfg', 'senvcfg', 'henvcfg', 'mconfigptr', 'mseccfg', 'menvcfgh', 'henvcfgh', 'mseccfgh']);
/** objdump on raw bytes: no ELF attributes, so it assumes its default, rv64gc. */
const binaryArgs = (vma: bigint): string[] =>
  ['-D', '-b', 'binary', '-m', 'riscv:rv64', `--adjust-vma=0x${vma.toString(16)}`];

/**
 * Encodings where this disassembler follows the spec and objdump 2.40 does not. Returns
 * why, or undefined when a mismatch is a real failure.
 */
function specDifference(l: ListedInsn): string | undefined {
  // C.ADDI16SP with nzimm = 0 is reserved; objdump prints `c.addi16sp sp,0`.
  if (l.length === 2 && l.bits === 0x6101) return 'reserved c.addi16sp';
  // fcvt.d.s / fcvt.d.w / fcvt.d.wu never round, and any rm is a valid encoding; objdump
  // 2.40 accepts only rm = 000 (what it assembles) and prints the rest as .4byte.
  const opFp = (l.bits & 0x7f) === 0x53;
  const funct7 = l.bits >>> 25;
  const rs2 = (l.bits >>> 20) & 31;
  if (l.mnemonic === '.4byte' && opFp && ((funct7 === 0x21 && rs2 === 0) || (funct7 === 0x69 && rs2 < 2))) {
    return 'exact fcvt with a rounding mode';
  }
  return undefined;
}

/**
 * objdump's default (alias) listing spells some instructions differently from the spec's
 * pseudo-instructions; map its spelling to ours:
 * - an immediate operand on a register-form name (`add a0,a0,1`, `csrrs a0,fflags,1`,
 *   `csrw fcsr,0`): the spec's names are addi, csrrsi, csrwi;
 * - `fsrmi zero,2`: the spec's `fsrmi imm` has no destination;
 * - `add ra,ra,0` for the C.ADDI HINT with a zero immediate, which stays c.addi here.
 */
function normaliseObjdumpAlias(l: ListedInsn): [string, string[]] {
  let m = l.mnemonic;
  let ops = l.operands;
  const last = ops[ops.length - 1] ?? '';
  const immediate = /^-?(0x[0-9a-f]+|[0-9]+)$/.test(last);
  const registerForms = ['add', 'addw', 'and', 'or', 'xor', 'sll', 'srl', 'sra', 'sllw', 'srlw', 'sraw'];
  if (l.length === 2 && (l.bits & 0xf07f) === 0x0001 && ((l.bits >>> 7) & 31) !== 0) {
    return ['c.addi', [ops[0], ops[2]]];
  }
  if (immediate && registerForms.includes(m)) m = m.endsWith('w') ? `${m.slice(0, -1)}iw` : `${m}i`;
  if (immediate && ['csrrw', 'csrrs', 'csrrc', 'csrw', 'csrs', 'csrc'].includes(m) && !ops.includes('zero')) m = `${m}i`;
  if (['fsrmi', 'fsflagsi'].includes(m) && ops[0] === 'zero') ops = ops.slice(1);
  return [m, ops];
}

interface Comparison {
  compared: number;
  skipped: Map<string, number>;
  failures: string[];
}

/** Compares every listed instruction; objdump's `.word`/`.short` data lines are skipped. */
function compare(listing: ListedInsn[], aliases: boolean): Comparison {
  const result: Comparison = { compared: 0, skipped: new Map(), failures: [] };
  const skip = (why: string): void => void result.skipped.set(why, (result.skipped.get(why) ?? 0) + 1);
  for (const l of listing) {
    if (['.word', '.short', '.byte'].includes(l.mnemonic)) {
      skip('data (mapping symbol $d)');
      continue;
    }
    const d = disassemble(l.bits, l.address, { aliases });
    const [mnemonic, operands] = aliases ? normaliseObjdumpAlias(l) : [l.mnemonic, l.operands];
    if (d.mnemonic === mnemonic && d.operands.join(',') === operands.join(',') && d.length === l.length) {
      result.compared++;
      continue;
    }
    // gcc marks the ISA programs "privileged spec 1.11", and objdump then names only that
    // version's CSRs (no menvcfg, senvcfg); later names are still the right ones.
    const laterCsr = (op: string): string => {
      const n = /^0x[0-9a-f]+$/.test(op) ? csrName(parseInt(op, 16)) : undefined;
      return n !== undefined && NEWER_THAN_PRIV_1_11.has(n) ? n : op;
    };
    if (d.mnemonic === mnemonic && d.operands.join(',') === operands.map(laterCsr).join(',')) {
      result.compared++;
      continue;
    }
    const why = specDifference(l);
    if (why !== undefined) {
      skip(why);
      continue;
    }
    result.failures.push(`${l.line}\n    disassemble: ${d.text} (${d.length} bytes)`);
  }
  return result;
}

function assertAllMatch(r: Comparison, what: string): void {
  const shown = r.failures.slice(0, 20).join('\n');
  assert.equal(r.failures.length, 0, `${r.failures.length} of ${what} differ from objdump:\n${shown}`);
  assert.ok(r.compared > 0, `no instructions compared in ${what}`);
  const skipped = [...r.skipped].map(([k, n]) => `${n} ${k}`).join(', ');
  console.log(`  ${what}: ${r.compared} instructions match objdump${skipped ? ` (skipped: ${skipped})` : ''}`);
}

function writeBinary(name: string, bytes: Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

const allFormsElf = ((): string => {
  const src = join(work, 'allForms.S');
  writeFileSync(src, allFormsAssembly());
  const obj = join(work, 'allForms.o');
  const elf = join(work, 'allForms.elf');
  execFileSync('riscv64-unknown-elf-as', ['-march=rv64gc', src, '-o', obj]);
  execFileSync('riscv64-unknown-elf-ld', ['-Ttext=0x80000000', obj, '-o', elf]);
  return elf;
})();

/** Every 16-bit encoding (bits 1:0 != 11), in order. */
const rvcBin = ((): string => {
  const bytes = new Uint8Array(49152 * 2);
  let k = 0;
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 3) === 3) continue;
    bytes[k++] = h & 0xff;
    bytes[k++] = h >>> 8;
  }
  return writeBinary('rvc.bin', bytes);
})();

/** 2,000 random encodings in each 32-bit major opcode (a fixed-seed xorshift). */
const randomBin = ((): string => {
  const words: number[] = [];
  let s = 0x2545f491;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let op = 3; op < 128; op += 4) {
    if ((op & 0x1c) === 0x1c) continue;
    for (let k = 0; k < 2000; k++) words.push(((next() & ~0x7f) | op) >>> 0);
  }
  const bytes = new Uint8Array(words.length * 4);
  words.forEach((w, k) => new DataView(bytes.buffer).setUint32(k * 4, w, true));
  return writeBinary('random32.bin', bytes);
})();

describe('disassemble against objdump -M no-aliases', () => {
  it('matches every instruction of the ISA test programs', () => {
    const names = isaTestNames();
    assert.ok(names.length >= 10);
    const listing = names.flatMap((n: string) => objdumpListing(['-d', ...NO_ALIASES, join(isaDir, `${n}.elf`)]));
    assertAllMatch(compare(listing, false), `${names.length} ISA test programs`);
  });

  it('matches every form in the all-forms file, which lists every RV64GC mnemonic', () => {
    const listing = objdumpListing(['-d', ...NO_ALIASES, allFormsElf]);
    const seen = new Set(listing.map((l) => l.mnemonic));
    const missing = [...BASE_MNEMONICS, ...RVC_MNEMONICS].filter((m) => !seen.has(m));
    assert.deepEqual(missing, [], 'mnemonics the all-forms file should contain');
    // Every rounding mode on every instruction that takes one.
    const rmOps = listing.filter((l) => /^f(n?m(add|sub)|add|sub|mul|div|sqrt|cvt)\./.test(l.mnemonic));
    const rms = new Set(rmOps.map((l) => l.operands[l.operands.length - 1]));
    for (const rm of ['rne', 'rtz', 'rdn', 'rup', 'rmm']) assert.ok(rms.has(rm), `rounding mode ${rm} not listed`);
    assertAllMatch(compare(listing, false), 'all-forms file');
  });

  it('matches every 16-bit encoding', () => {
    assertAllMatch(compare(objdumpListing([...binaryArgs(0x80000000n), ...NO_ALIASES, rvcBin]), false), 'RVC encodings');
  });

  it('matches random encodings in every 32-bit major opcode', () => {
    const listing = objdumpListing([...binaryArgs(0xfffffffffff00000n), ...NO_ALIASES, randomBin]);
    assertAllMatch(compare(listing, false), 'random 32-bit encodings');
  });

  it("matches the fuzzer's machine code, deliberate traps included", () => {
    const elf = ElfImage.parse(buildFuzzElf([1, 2, 3, 4, 5, 6, 7, 8], { length: 400, misaligned: true }));
    const code = elf.segments.find((s) => s.paddr <= elf.entry && elf.entry < s.paddr + BigInt(s.data.length));
    assert.ok(code, 'fuzz ELF has a segment holding its entry point');
    const bin = writeBinary('fuzz.bin', code.data);
    assertAllMatch(compare(objdumpListing([...binaryArgs(code.paddr), ...NO_ALIASES, bin]), false), 'fuzz program code');
  });
});

describe('disassemble with aliases against objdump', () => {
  it('matches the ISA test programs', () => {
    const listing = isaTestNames().flatMap((n: string) => objdumpListing(['-d', join(isaDir, `${n}.elf`)]));
    assertAllMatch(compare(listing, true), 'ISA test programs (aliases)');
  });

  it('matches the all-forms file', () => {
    assertAllMatch(compare(objdumpListing(['-d', allFormsElf]), true), 'all-forms file (aliases)');
  });

  it('matches every 16-bit encoding', () => {
    assertAllMatch(compare(objdumpListing([...binaryArgs(0x80000000n), rvcBin]), true), 'RVC encodings (aliases)');
  });
});

describe('disassemble output', () => {
  const at = 0x80000000n;
  it('prints operands as objdump does, targets as absolute addresses', () => {
    assert.deepEqual(disassemble(0xfe0008e3, at), {
      text: 'beq zero,zero,0x7ffffff0',
      length: 4,
      mnemonic: 'beq',
      operands: ['zero', 'zero', '0x7ffffff0'],
    });
    assert.equal(disassemble(0x00533023, at).text, 'sd t0,0(t1)');
    assert.equal(disassemble(0x001002b7, at).text, 'lui t0,0x100');
    assert.equal(disassemble(0x1a0525af, at).text, 'sc.w.rl a1,zero,(a0)');
    assert.equal(disassemble(0x02b50553, at).text, 'fadd.d fa0,fa0,fa1,rne');
    assert.equal(disassemble(0x30529073, at).text, 'csrrw zero,mtvec,t0');
  });

  it('wraps targets at 2^64', () => {
    assert.equal(disassemble(0xffdff06f, 0n).operands[1], '0xfffffffffffffffc'); // jal zero,-4
  });

  it('reads only the low half of a compressed instruction', () => {
    const d = disassemble(0x12345678 << 16 | 0x6289, at);
    assert.equal(d.length, 2);
    assert.equal(d.text, 'c.lui t0,0x2');
    assert.equal(disassemble(0x6289, at, { aliases: true }).text, 'lui t0,0x2');
  });

  it('shows encodings it cannot decode as data', () => {
    assert.equal(disassemble(0xffffffff, at).text, '.2byte 0xffff'); // a >32-bit length prefix
    assert.equal(disassemble(0x0000707f, at).length, 2);
    assert.equal(disassemble(0x40b57533, at).text, '.4byte 0x40b57533'); // Zbb andn
    assert.equal(disassemble(0x0000, at).text, 'c.unimp');
    assert.equal(disassemble(0x6101, at).text, '.2byte 0x6101'); // reserved c.addi16sp 0
  });

  it('prints the usual pseudo-instructions with aliases', () => {
    const alias = (insn: number): string => disassemble(insn, at, { aliases: true }).text;
    assert.equal(alias(0x00000013), 'nop');
    assert.equal(alias(0x00100513), 'li a0,1');
    assert.equal(alias(0x00008067), 'ret');
    assert.equal(alias(0x0100006f), 'j 0x80000010');
    assert.equal(alias(0x00050463), 'beqz a0,0x80000008');
    assert.equal(alias(0x30002573), 'csrr a0,mstatus');
    assert.equal(alias(0x34059073), 'csrw mscratch,a1');
    assert.equal(alias(0xc0001073), 'unimp');
    assert.equal(alias(0x0ff0000f), 'fence');
    assert.equal(alias(0x22a51553), 'fneg.d fa0,fa0');
    assert.equal(alias(0x8082), 'ret');
    assert.equal(alias(0x850e), 'mv a0,gp');
    assert.equal(alias(0x0005), 'c.nop 1'); // a HINT keeps its c.* spelling
  });
});
