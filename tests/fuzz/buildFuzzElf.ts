// Puts a batch of generated programs into one bare-metal ELF, so one QEMU start-up (and
// one romvisor instantiation) serves many programs. Each program:
//   1. loads its random start state: x1..x31 (x2 = its scratch pointer), f0..f31, fcsr;
//   2. runs its generated body;
//   3. saves every register, fcsr, a checksum of its scratch memory and its trap log, and
//      prints them over the UART as DUMP_LINES lines of 16 hex digits (see DUMP_NAMES).
// After the last program it prints "DONE" and powers off through the sifive test device.
// Programs trap on purpose (ecall, illegal instructions): the handler folds mcause, mtval
// and mepc into the program's trap log and resumes after the instruction. More than
// MAX_TRAPS traps in one program (a runaway) prints "TRAP" with the last cause and fails.
import { Assembler } from './Assembler.ts';
import * as E from './encode.ts';
import { generateProgram, SCRATCH_BIAS, SCRATCH_BYTES, type GeneratorOptions } from './generateProgram.ts';
import { writeElf } from './writeElf.ts';

export const CODE_BASE = 0x8000_0000;
/** Data sits 4 MiB up, far past any batch's code. */
const DATA_BASE = 0x8040_0000;
const UART = 0x1000_0000;
const SIFIVE_TEST = 0x10_0000;

/** What each dump line holds, in order. */
export const DUMP_NAMES: readonly string[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i + 1}`),
  ...Array.from({ length: 32 }, (_, i) => `f${i}`),
  'fcsr',
  'scratch checksum',
  'trap log',
];
export const DUMP_LINES = DUMP_NAMES.length;

// Per-program start state: x0..x31, f0..f31, fcsr (65 doublewords, 8-byte aligned).
const INIT_BYTES = 65 * 8;
// The save area: x1..x31, f0..f31, fcsr, checksum, trap log (the handler accumulates it
// in place); then the handler's own words: the trap count and two saved registers.
const TRAP_LOG = (DUMP_LINES - 1) * 8;
const TRAP_COUNT = DUMP_LINES * 8;
const TRAP_SAVE = TRAP_COUNT + 8;
const MAX_TRAPS = 100;

const T0 = 5, T1 = 6, T2 = 7, T3 = 28, T4 = 29, T5 = 30, RA = 1;

const li12 = (asm: Assembler, rd: number, v: number): void => asm.emit32(E.iType(v, 0, 0, rd, E.OP_IMM));
const csrw = (asm: Assembler, csr: number, rs: number): void => asm.emit32(E.iType(csr, rs, 1, 0, E.SYSTEM));
const csrr = (asm: Assembler, rd: number, csr: number): void => asm.emit32(E.iType(csr, 0, 2, rd, E.SYSTEM));
const ld = (asm: Assembler, rd: number, off: number, base: number): void => asm.emit32(E.iType(off, base, 3, rd, E.LOAD));
const sd = (asm: Assembler, rs: number, off: number, base: number): void => asm.emit32(E.sType(off, rs, base, 3, E.STORE));
const fld = (asm: Assembler, rd: number, off: number, base: number): void => asm.emit32(E.iType(off, base, 3, rd, E.LOAD_FP));
const fsd = (asm: Assembler, rs: number, off: number, base: number): void => asm.emit32(E.sType(off, rs, base, 3, E.STORE_FP));
const addi = (asm: Assembler, rd: number, rs: number, v: number): void => asm.emit32(E.iType(v, rs, 0, rd, E.OP_IMM));
const lui = (asm: Assembler, rd: number, v: number): void => asm.emit32(E.uType(v >>> 12, rd, E.LUI));

const MSCRATCH = 0x340, MCAUSE = 0x342, MEPC = 0x341, MTVAL = 0x343, MTVEC = 0x305, MSTATUS = 0x300, FCSR = 0x003;

/** Prints `count` (in T2) doublewords from T0 as hex lines; returns through RA. */
function emitHexDump(asm: Assembler): void {
  lui(asm, T1, UART);
  const line = asm.pc;
  ld(asm, T3, 0, T0);
  li12(asm, T4, 60);
  const nibble = asm.pc;
  asm.emit32(E.rType(0, T4, T3, 5, T5, E.OP)); // srl t5, t3, t4
  asm.emit32(E.iType(15, T5, 7, T5, E.OP_IMM)); // andi
  addi(asm, T5, T5, 48);
  asm.emit32(E.iType(58, T5, 2, 31, E.OP_IMM)); // slti x31, t5, ':'
  const digit = asm.label();
  asm.branch(1, 31, 0, digit); // bne x31, x0
  addi(asm, T5, T5, 39);
  asm.bind(digit);
  asm.emit32(E.sType(0, T5, T1, 0, E.STORE)); // sb
  addi(asm, T4, T4, -4);
  asm.emit32(E.bType(nibble - asm.pc, 0, T4, 5)); // bge t4, x0
  li12(asm, T5, 10);
  asm.emit32(E.sType(0, T5, T1, 0, E.STORE));
  addi(asm, T0, T0, 8);
  addi(asm, T2, T2, -1);
  asm.emit32(E.bType(line - asm.pc, 0, T2, 1)); // bne t2, x0
  asm.emit32(E.iType(0, RA, 0, 0, E.JALR));
}

function emitPuts(asm: Assembler, text: string): void {
  lui(asm, T1, UART);
  for (const ch of text) {
    li12(asm, T5, ch.charCodeAt(0));
    asm.emit32(E.sType(0, T5, T1, 0, E.STORE));
  }
}

function emitPowerOff(asm: Assembler, value: number): void {
  lui(asm, T0, SIFIVE_TEST);
  lui(asm, T1, (value + 0x800) & ~0xfff);
  addi(asm, T1, T1, ((value & 0xfff) ^ 0x800) - 0x800);
  asm.emit32(E.sType(0, T1, T0, 2, E.STORE)); // sw
  asm.emit32(E.jType(0, 0)); // j .
}

/** One ELF that runs the programs generated from `seeds` in order (see the top of this file). */
export function buildFuzzElf(seeds: readonly number[], opts: GeneratorOptions): Uint8Array {
  const asm = new Assembler(CODE_BASE);
  const saveArea = DATA_BASE;
  const initBase = DATA_BASE + 0x1000;
  const scratchBase = initBase + ((seeds.length * INIT_BYTES + 0xfff) & ~0xfff);
  const data = new Uint8Array(scratchBase - DATA_BASE + seeds.length * SCRATCH_BYTES);
  const dv = new DataView(data.buffer);

  // Entry: trap vector, FS on, skip over the shared routines.
  const hexDump = asm.label();
  const trap = asm.label();
  const first = asm.label();
  const entryLa = asm.pc;
  asm.la(T0, 0); // placeholder, rewritten once `trap` is known
  csrw(asm, MTVEC, T0);
  lui(asm, T0, 0x6000);
  asm.emit32(E.iType(MSTATUS, T0, 2, 0, E.SYSTEM)); // csrs mstatus, t0 (FS = Dirty)
  asm.jal(0, first);

  // Everything so far is 32-bit, so the handler is 4-byte aligned as mtvec requires.
  // log = ((log * 31 + mcause) * 31 + mtval) * 31 + mepc, then mepc moves past the
  // instruction (2 or 4 bytes, from its low bits).
  asm.bind(trap);
  const trapAddress = asm.pc;
  const fatal = asm.label();
  csrw(asm, MSCRATCH, T0);
  asm.la(T0, saveArea);
  sd(asm, T1, TRAP_SAVE, T0);
  sd(asm, T2, TRAP_SAVE + 8, T0);
  ld(asm, T1, TRAP_LOG, T0);
  for (const csr of [MCAUSE, MTVAL, MEPC]) {
    asm.emit32(E.iType(5, T1, 1, T2, E.OP_IMM)); // slli t2, t1, 5
    asm.emit32(E.rType(0x20, T1, T2, 0, T1, E.OP)); // sub t1, t2, t1
    csrr(asm, T2, csr);
    asm.emit32(E.rType(0, T2, T1, 0, T1, E.OP)); // add
  }
  sd(asm, T1, TRAP_LOG, T0);
  ld(asm, T1, TRAP_COUNT, T0);
  addi(asm, T1, T1, 1);
  sd(asm, T1, TRAP_COUNT, T0);
  li12(asm, T2, MAX_TRAPS);
  asm.branch(5, T1, T2, fatal); // bge count, MAX_TRAPS
  csrr(asm, T1, MEPC);
  asm.emit32(E.iType(0, T1, 5, T2, E.LOAD)); // lhu t2, 0(t1)
  asm.emit32(E.iType(3, T2, 7, T2, E.OP_IMM)); // andi t2, t2, 3
  addi(asm, T1, T1, 2);
  addi(asm, T2, T2, -3);
  const short = asm.label();
  asm.branch(1, T2, 0, short); // bne t2, x0: a 16-bit instruction
  addi(asm, T1, T1, 2);
  asm.bind(short);
  csrw(asm, MEPC, T1);
  ld(asm, T1, TRAP_SAVE, T0);
  ld(asm, T2, TRAP_SAVE + 8, T0);
  csrr(asm, T0, MSCRATCH);
  asm.emit32(0x30200073); // mret

  asm.bind(fatal);
  asm.la(T0, saveArea);
  csrr(asm, T1, MCAUSE);
  sd(asm, T1, 0, T0);
  csrr(asm, T1, MEPC);
  sd(asm, T1, 8, T0);
  csrr(asm, T1, MTVAL);
  sd(asm, T1, 16, T0);
  emitPuts(asm, 'TRAP\n');
  asm.la(T0, saveArea);
  li12(asm, T2, 3);
  asm.jal(RA, hexDump);
  emitPowerOff(asm, (1 << 16) | 0x3333);

  asm.bind(hexDump);
  emitHexDump(asm);

  asm.bind(first);
  seeds.forEach((seed, i) => {
    const init = initBase + i * INIT_BYTES;
    const scratch = scratchBase + i * SCRATCH_BYTES;
    // Prologue: an empty trap log; the start state comes from `init`, addressed through
    // x1 (loaded last).
    asm.la(RA, saveArea);
    sd(asm, 0, TRAP_LOG, RA);
    sd(asm, 0, TRAP_COUNT, RA);
    asm.la(RA, init);
    for (let r = 0; r < 32; r++) fld(asm, r, (32 + r) * 8, RA);
    ld(asm, T0, 64 * 8, RA);
    csrw(asm, FCSR, T0);
    for (let r = 3; r < 32; r++) ld(asm, r, r * 8, RA);
    asm.la(2, scratch + SCRATCH_BIAS);
    ld(asm, RA, 8, RA);

    const state = generateProgram(seed, asm, opts);

    // Epilogue: save x1 via mscratch, then everything else into the save area.
    csrw(asm, MSCRATCH, RA);
    asm.la(RA, saveArea);
    for (let r = 2; r < 32; r++) sd(asm, r, (r - 1) * 8, RA);
    csrr(asm, T0, MSCRATCH);
    sd(asm, T0, 0, RA);
    for (let r = 0; r < 32; r++) fsd(asm, r, (31 + r) * 8, RA);
    csrr(asm, T0, FCSR);
    sd(asm, T0, 63 * 8, RA);
    // Checksum of the scratch block: h = h * 31 + dword, over every doubleword.
    asm.la(T0, scratch);
    li12(asm, T2, SCRATCH_BYTES / 8);
    li12(asm, T3, 0);
    li12(asm, T5, 31);
    const sum = asm.pc;
    ld(asm, T4, 0, T0);
    asm.emit32(E.rType(1, T5, T3, 0, T3, E.OP)); // mul
    asm.emit32(E.rType(0, T4, T3, 0, T3, E.OP)); // add
    addi(asm, T0, T0, 8);
    addi(asm, T2, T2, -1);
    asm.emit32(E.bType(sum - asm.pc, 0, T2, 1));
    sd(asm, T3, 64 * 8, RA);
    // The trap log already sits in its dump slot (TRAP_LOG is the last dump line).
    asm.la(T0, saveArea);
    li12(asm, T2, DUMP_LINES);
    asm.jal(RA, hexDump);

    const base = init - DATA_BASE;
    state.x.forEach((v, r) => dv.setBigUint64(base + r * 8, v, true));
    state.f.forEach((v, r) => dv.setBigUint64(base + (32 + r) * 8, v, true));
    dv.setBigUint64(base + 64 * 8, BigInt(state.fcsr), true);
    data.set(state.scratch, scratch - DATA_BASE);
  });
  emitPuts(asm, 'DONE\n');
  emitPowerOff(asm, 0x5555);

  const code = asm.finish();
  if (CODE_BASE + code.length > DATA_BASE) throw new Error(`fuzz batch too large: ${code.length} bytes of code`);
  // Now that the trap handler's address is known, write the entry's `la t0, trap`.
  const fix = new Assembler(entryLa);
  fix.la(T0, trapAddress);
  code.set(fix.finish(), entryLa - CODE_BASE);
  return writeElf(CODE_BASE, [
    { address: CODE_BASE, bytes: code },
    { address: DATA_BASE, bytes: data },
  ]);
}
