// Assembly source with every RV64GC instruction form: every opcode/funct combination of
// I, M, A (each aq/rl ordering), F and D (every rounding mode, static and dyn), Zicsr
// (named and unnamed CSRs, register and immediate forms), Zifencei, the privileged
// instructions, and every RVC instruction including its HINT and edge encodings. The
// disassembler test assembles it with GNU as and compares against objdump.

/** Rounding-mode spellings; '' is the assembler default (dyn). */
const RMS = ['', 'rne', 'rtz', 'rdn', 'rup', 'rmm', 'dyn'];
const X = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
const F = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3',
  'fa4', 'fa5', 'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11',
  'ft8', 'ft9', 'ft10', 'ft11',
];
/** x8..x15, the RVC prime registers. */
const XC = X.slice(8, 16);
const FC = F.slice(8, 16);

/** Every mnemonic the base part must produce (objdump -M no-aliases spelling). */
export const BASE_MNEMONICS: string[] = [];
/** Every c.* mnemonic the compressed part must produce. */
export const RVC_MNEMONICS: string[] = [];

class Rotation {
  private k = 0;
  /** The next register from `set`, so that every register shows up somewhere. */
  next(set: readonly string[]): string {
    return set[this.k++ % set.length];
  }
}

/** The assembly text (for `riscv64-unknown-elf-as -march=rv64gc`). */
export function allFormsAssembly(): string {
  const r = new Rotation();
  const xr = (): string => r.next(X);
  const fr = (): string => r.next(F);
  const lines: string[] = ['.text', '.globl _start', '_start:', '.option norvc'];
  const emit = (mnemonic: string, ...ops: string[]): void => {
    lines.push(`  ${mnemonic} ${ops.join(', ')}`);
    if (!BASE_MNEMONICS.includes(mnemonic)) BASE_MNEMONICS.push(mnemonic);
  };

  for (const v of ['0', '0x1', '0x7ffff', '0x80000', '0xfffff']) {
    emit('lui', xr(), v);
    emit('auipc', xr(), v);
  }
  lines.push('back:');
  for (const rd of X) emit('jal', rd, 'fwd');
  for (const rd of ['zero', 'ra', 't0']) emit('jal', rd, 'back');
  for (const off of [-2048, -1, 0, 8, 2047]) emit('jalr', xr(), `${off}(${xr()})`);
  for (const b of ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']) {
    emit(b, xr(), xr(), 'back');
    emit(b, xr(), xr(), 'fwd');
  }
  for (const m of ['lb', 'lh', 'lw', 'ld', 'lbu', 'lhu', 'lwu']) {
    for (const off of [-2048, 0, 2047]) emit(m, xr(), `${off}(${xr()})`);
  }
  for (const m of ['sb', 'sh', 'sw', 'sd']) {
    for (const off of [-2048, 0, 2047]) emit(m, xr(), `${off}(${xr()})`);
  }
  for (const m of ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw']) {
    for (const v of [-2048, -1, 0, 1, 255, 2047]) emit(m, xr(), xr(), String(v));
  }
  for (const m of ['slli', 'srli', 'srai']) for (let s = 0; s < 64; s += 7) emit(m, xr(), xr(), String(s));
  for (const m of ['slli', 'srli', 'srai']) emit(m, xr(), xr(), '63');
  for (const m of ['slliw', 'srliw', 'sraiw']) for (const s of [0, 1, 17, 31]) emit(m, xr(), xr(), String(s));
  const rType = [
    'add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and',
    'addw', 'subw', 'sllw', 'srlw', 'sraw',
    'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu',
    'mulw', 'divw', 'divuw', 'remw', 'remuw',
  ];
  for (const m of rType) for (let k = 0; k < 3; k++) emit(m, xr(), xr(), xr());

  // Every predecessor/successor pair; fence.tso and fence.i.
  const sets = ['w', 'r', 'rw', 'o', 'ow', 'or', 'orw', 'i', 'iw', 'ir', 'irw', 'io', 'iow', 'ior', 'iorw'];
  for (const p of sets) for (const s of sets) emit('fence', p, s);
  emit('fence.tso');
  emit('fence.i');

  for (const m of ['ecall', 'ebreak', 'sret', 'mret', 'wfi']) emit(m);
  emit('sfence.vma', 'zero', 'zero');
  emit('sfence.vma', 'a0', 'zero');
  emit('sfence.vma', 'a1', 'a2');

  const csrs = [
    'fflags', 'frm', 'fcsr', 'cycle', 'time', 'instret', 'sstatus', 'sie', 'stvec', 'sscratch',
    'sepc', 'scause', 'stval', 'sip', 'satp', 'mstatus', 'misa', 'medeleg', 'mideleg', 'mie',
    'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval', 'mip', 'mhartid', 'pmpcfg0', 'pmpaddr0',
    'mcycle', 'minstret', '0x7c0', '0x800', '0xfff',
  ];
  for (const csr of csrs) {
    for (const m of ['csrrw', 'csrrs', 'csrrc']) emit(m, xr(), csr, xr());
    for (const m of ['csrrwi', 'csrrsi', 'csrrci']) emit(m, xr(), csr, String(r.next(['0', '1', '17', '31'])));
  }
  for (const m of ['csrrs', 'csrrw', 'csrrc']) emit(m, xr(), 'mstatus', 'zero');

  for (const w of ['w', 'd']) {
    for (const order of ['', '.aq', '.rl', '.aqrl']) {
      emit(`lr.${w}${order}`, xr(), `(${xr()})`);
      emit(`sc.${w}${order}`, xr(), xr(), `(${xr()})`);
      for (const op of ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu']) {
        emit(`${op}.${w}${order}`, xr(), xr(), `(${xr()})`);
      }
    }
  }

  for (const m of ['flw', 'fld', 'fsw', 'fsd']) for (const off of [-2048, 0, 2047]) emit(m, fr(), `${off}(${xr()})`);
  const withRm = (m: string, ...ops: string[]): void => {
    for (const rm of RMS) emit(m, ...ops, ...(rm ? [rm] : []));
  };
  for (const p of ['s', 'd']) {
    for (const m of ['fmadd', 'fmsub', 'fnmsub', 'fnmadd']) withRm(`${m}.${p}`, fr(), fr(), fr(), fr());
    for (const m of ['fadd', 'fsub', 'fmul', 'fdiv']) withRm(`${m}.${p}`, fr(), fr(), fr());
    withRm(`fsqrt.${p}`, fr(), fr());
    for (const m of ['fsgnj', 'fsgnjn', 'fsgnjx', 'fmin', 'fmax']) {
      emit(`${m}.${p}`, fr(), fr(), fr());
      const same = fr();
      emit(`${m}.${p}`, fr(), same, same);
    }
    for (const m of ['feq', 'flt', 'fle']) emit(`${m}.${p}`, xr(), fr(), fr());
    for (const t of ['w', 'wu', 'l', 'lu']) {
      withRm(`fcvt.${t}.${p}`, xr(), fr());
      // fcvt.d.w[u] is exact: the assembler takes no rounding mode.
      if (p === 'd' && (t === 'w' || t === 'wu')) emit(`fcvt.${p}.${t}`, fr(), xr());
      else withRm(`fcvt.${p}.${t}`, fr(), xr());
    }
    emit(`fclass.${p}`, xr(), fr());
  }
  withRm('fcvt.s.d', fr(), fr());
  emit('fcvt.d.s', fr(), fr());
  emit('fmv.x.w', xr(), fr());
  emit('fmv.w.x', fr(), xr());
  emit('fmv.x.d', xr(), fr());
  emit('fmv.d.x', fr(), xr());
  lines.push('fwd:');

  // RVC, written with explicit c.* mnemonics so nothing depends on the assembler's choice.
  lines.push('.option rvc', 'cback:');
  const c = (mnemonic: string, ...ops: string[]): void => {
    lines.push(`  ${mnemonic} ${ops.join(', ')}`);
    if (!RVC_MNEMONICS.includes(mnemonic)) RVC_MNEMONICS.push(mnemonic);
  };
  const xc = (): string => r.next(XC);
  const fc = (): string => r.next(FC);
  const nz = (): string => r.next(X.slice(1));
  for (const v of [4, 8, 16, 64, 512, 1020]) c('c.addi4spn', xc(), 'sp', String(v));
  for (const v of [0, 8, 248]) c('c.fld', fc(), `${v}(${xc()})`);
  for (const v of [0, 4, 64, 124]) c('c.lw', xc(), `${v}(${xc()})`);
  for (const v of [0, 8, 248]) c('c.ld', xc(), `${v}(${xc()})`);
  for (const v of [0, 8, 248]) c('c.fsd', fc(), `${v}(${xc()})`);
  for (const v of [0, 4, 64, 124]) c('c.sw', xc(), `${v}(${xc()})`);
  for (const v of [0, 8, 248]) c('c.sd', xc(), `${v}(${xc()})`);
  lines.push('  c.nop'); // objdump -M no-aliases lists it as c.addi zero,0
  for (const v of [-32, -1, 1, 31]) c('c.addi', nz(), String(v));
  for (const v of [-32, 0, 31]) c('c.addiw', nz(), String(v));
  for (const v of [-32, 0, 31]) c('c.li', nz(), String(v));
  for (const v of [-512, -16, 16, 496]) c('c.addi16sp', 'sp', String(v));
  for (const v of ['0x1', '0x1f', '0xfffe0', '0xfffff']) c('c.lui', r.next(X.filter((n) => n !== 'zero' && n !== 'sp')), v);
  for (const m of ['c.srli', 'c.srai']) for (const s of ['1', '31', '32', '63']) c(m, xc(), s);
  for (const v of [-32, 0, 31]) c('c.andi', xc(), String(v));
  for (const m of ['c.sub', 'c.xor', 'c.or', 'c.and', 'c.subw', 'c.addw']) c(m, xc(), xc());
  c('c.j', 'cback');
  c('c.j', 'cfwd');
  c('c.beqz', xc(), 'cback');
  c('c.bnez', xc(), 'cfwd');
  for (const s of ['1', '31', '32', '63']) c('c.slli', nz(), s);
  for (const v of [0, 8, 504]) c('c.fldsp', fr(), `${v}(sp)`);
  for (const v of [0, 4, 252]) c('c.lwsp', nz(), `${v}(sp)`);
  for (const v of [0, 8, 504]) c('c.ldsp', nz(), `${v}(sp)`);
  for (const v of [0, 8, 504]) c('c.fsdsp', fr(), `${v}(sp)`);
  for (const v of [0, 4, 252]) c('c.swsp', xr(), `${v}(sp)`);
  for (const v of [0, 8, 504]) c('c.sdsp', xr(), `${v}(sp)`);
  c('c.jr', nz());
  c('c.jalr', nz());
  c('c.mv', nz(), nz());
  c('c.add', nz(), nz());
  c('c.ebreak');
  c('c.unimp');
  // HINTs and shift-by-zero forms the assembler has no spelling for, by value.
  const hints = [
    0x0005, // c.nop 1
    0x0081, // c.addi ra, 0
    0x4005, // c.li zero, 1
    0x6005, // c.lui zero, 0x1
    0x8006, // c.mv zero, ra
    0x9006, // c.add zero, ra
    0x0006, // c.slli zero, 1
    0x0002, // c.slli64 zero
    0x050a, // c.slli64-style shamt 2 on a0 (an ordinary c.slli)
    0x8001, // c.srli64 s0
    0x8401, // c.srai64 s0
  ];
  for (const h of hints) lines.push(`  .insn 2, 0x${h.toString(16)}`);
  lines.push('cfwd:', '  c.nop', '');
  return lines.join('\n');
}
