// The pseudo-instructions of the unprivileged spec's "Assembly Programmer's Handbook"
// tables (and the CSR ones of the Zicsr chapter), chosen the way objdump does by default:
// an instruction whose operands make it one of these prints as the pseudo-instruction.
import type { DecodedInsn, Operand } from './Types.ts';

const CSR_FFLAGS = 0x001;
const CSR_FRM = 0x002;
const CSR_FCSR = 0x003;
const CSR_CYCLE = 0xc00;
const CSR_TIME = 0xc01;
const CSR_INSTRET = 0xc02;

/** Float CSRs with their own read/swap pseudo-instructions: frflags/fsflags, ... */
const FLOAT_CSR_STEM = new Map<number, string>([[CSR_FFLAGS, 'flags'], [CSR_FRM, 'rm'], [CSR_FCSR, 'csr']]);
/** Counters with rdcycle & co. */
const COUNTER_READ = new Map<number, string>([[CSR_CYCLE, 'rdcycle'], [CSR_TIME, 'rdtime'], [CSR_INSTRET, 'rdinstret']]);

const isX = (op: Operand | undefined, reg?: number): boolean =>
  op?.kind === 'x' && (reg === undefined || op.reg === reg);
const isImm = (op: Operand | undefined, value: number): boolean => op?.kind === 'imm' && op.value === value;
const sameReg = (a: Operand, b: Operand): boolean => a.kind === b.kind && 'reg' in a && 'reg' in b && a.reg === b.reg;
const alias = (mnemonic: string, ...operands: Operand[]): DecodedInsn => ({ mnemonic, operands });

/**
 * The pseudo-instruction `d` is, or `d` itself. `compressed` says `d` is the expansion of
 * an RVC instruction: C.MV expands to `add rd, x0, rs2`, which reads as mv only there
 * (objdump leaves a 32-bit `add rd, zero, rs` alone).
 */
export function applyAliases(d: DecodedInsn, compressed = false): DecodedInsn {
  const [a, b, c] = d.operands;
  const ZERO = 0;
  const RA = 1;
  switch (d.mnemonic) {
    case 'addi':
      if (isX(a, ZERO) && isX(b, ZERO) && isImm(c, 0)) return alias('nop');
      if (isX(b, ZERO)) return alias('li', a, c);
      if (isImm(c, 0)) return alias('mv', a, b);
      return d;
    case 'c.addi': return isX(a, ZERO) ? alias('c.nop', b) : d; // the C.NOP HINTs
    case 'add': return compressed && isX(b, ZERO) ? alias('mv', a, c) : d;
    case 'andi': return isImm(c, 255) ? alias('zext.b', a, b) : d; // the Zbb pseudo, plain andi
    case 'addiw': return isImm(c, 0) ? alias('sext.w', a, b) : d;
    case 'xori': return isImm(c, -1) ? alias('not', a, b) : d;
    case 'sub': return isX(b, ZERO) ? alias('neg', a, c) : d;
    case 'subw': return isX(b, ZERO) ? alias('negw', a, c) : d;
    case 'sltiu': return isImm(c, 1) ? alias('seqz', a, b) : d;
    case 'sltu': return isX(b, ZERO) ? alias('snez', a, c) : d;
    case 'slt':
      if (isX(c, ZERO)) return alias('sltz', a, b);
      if (isX(b, ZERO)) return alias('sgtz', a, c);
      return d;
    case 'beq': return isX(b, ZERO) ? alias('beqz', a, c) : d;
    case 'bne': return isX(b, ZERO) ? alias('bnez', a, c) : d;
    case 'blt':
      if (isX(b, ZERO)) return alias('bltz', a, c);
      if (isX(a, ZERO)) return alias('bgtz', b, c);
      return d;
    case 'bge':
      if (isX(b, ZERO)) return alias('bgez', a, c);
      if (isX(a, ZERO)) return alias('blez', b, c);
      return d;
    case 'jal':
      if (isX(a, ZERO)) return alias('j', b);
      if (isX(a, RA)) return alias('jal', b);
      return d;
    case 'jalr': {
      if (b.kind !== 'mem') return d;
      const target: Operand = b.offset === 0 ? { kind: 'x', reg: b.base } : b;
      if (isX(a, ZERO)) return b.base === RA && b.offset === 0 ? alias('ret') : alias('jr', target);
      if (isX(a, RA)) return alias('jalr', target);
      return b.offset === 0 ? alias('jalr', a, target) : d;
    }
    case 'fence':
      return a.kind === 'fence' && b.kind === 'fence' && a.set === 15 && b.set === 15 ? alias('fence') : d;
    case 'sfence.vma':
      if (isX(b, ZERO)) return isX(a, ZERO) ? alias('sfence.vma') : alias('sfence.vma', a);
      return d;
    case 'csrrw': case 'csrrs': case 'csrrc': case 'csrrwi': case 'csrrsi': case 'csrrci':
      return csrAlias(d);
    case 'fsgnj.s': case 'fsgnj.d': case 'fsgnjn.s': case 'fsgnjn.d': case 'fsgnjx.s': case 'fsgnjx.d': {
      if (!sameReg(b, c)) return d;
      const [op, fmt] = d.mnemonic.split('.');
      const name = op === 'fsgnj' ? 'fmv' : op === 'fsgnjn' ? 'fneg' : 'fabs';
      return alias(`${name}.${fmt}`, a, b);
    }
    default:
      return d;
  }
}

function csrAlias(d: DecodedInsn): DecodedInsn {
  const [rd, csrOp, src] = d.operands;
  if (csrOp.kind !== 'csr') return d;
  const csr = csrOp.csr;
  const rdZero = isX(rd, 0);
  const stem = FLOAT_CSR_STEM.get(csr);
  switch (d.mnemonic) {
    case 'csrrs':
      if (isX(src, 0)) {
        // A read: csrr, or the named reads of the counters and float CSRs.
        const counter = COUNTER_READ.get(csr);
        if (counter) return alias(counter, rd);
        if (stem) return alias(`fr${stem}`, rd);
        return alias('csrr', rd, csrOp);
      }
      return rdZero ? alias('csrs', csrOp, src) : d;
    case 'csrrw':
      // csrrw zero, cycle, zero writes a read-only CSR: the canonical illegal instruction.
      if (rdZero && csr === CSR_CYCLE && isX(src, 0)) return alias('unimp');
      if (stem) return rdZero ? alias(`fs${stem}`, src) : alias(`fs${stem}`, rd, src);
      return rdZero ? alias('csrw', csrOp, src) : d;
    case 'csrrwi':
      if (stem && stem !== 'csr') return rdZero ? alias(`fs${stem}i`, src) : alias(`fs${stem}i`, rd, src);
      return rdZero ? alias('csrwi', csrOp, src) : d;
    case 'csrrc': return rdZero ? alias('csrc', csrOp, src) : d;
    case 'csrrsi': return rdZero ? alias('csrsi', csrOp, src) : d;
    case 'csrrci': return rdZero ? alias('csrci', csrOp, src) : d;
  }
  return d;
}
