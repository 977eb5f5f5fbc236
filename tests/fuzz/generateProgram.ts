// Generates one random RV64GC test program body for the differential fuzzer: straight-line
// integer, M, A, F, D and C instructions, fcsr accesses, and structured control flow
// (forward branches and jumps over a block, short counted loops) that can never leave the
// program. Everything generated is legal in M-mode and deterministic on a correct core:
// no counters, no misaligned AMOs/LR/SC, no invalid rounding modes.
//
// Sequences aimed at the JIT's translator (src/jit/translatePage.ts) ride along: long
// straight-line runs (long blocks), loops of many iterations and nested loops (the
// dispatch loop, blocks entered again and again), hops to just before a 4 KiB page
// boundary followed by code that runs, loops or branches across it (a 32-bit instruction
// may straddle it), loads and stores that fault in the middle of a block (beyond RAM, FP
// ones too), and FP loads and stores with mstatus.FS off (illegal).
//
// Register conventions: x2 (sp) is the base of the program's scratch memory (its middle,
// so 12-bit offsets reach all 4 KiB) and is never written; every other register is fair
// game. The start state of every register, fcsr and the scratch memory is random too.
import { Assembler, type Label } from './Assembler.ts';
import * as E from './encode.ts';
import { SeededRandom } from '../SeededRandom.ts';

export const SCRATCH_BYTES = 4096;
/** x2 points here inside the scratch block, so offsets -2048..2047 stay inside it. */
export const SCRATCH_BIAS = 2048;

export interface ProgramState {
  /** x0..x31 at the start (x0 and x2 are ignored: x2 is set to the scratch pointer). */
  x: bigint[];
  /** f0..f31 raw bits at the start. */
  f: bigint[];
  fcsr: number;
  scratch: Uint8Array;
}

export interface GeneratorOptions {
  /** Approximate number of instructions in the body. */
  length: number;
  /** Plain loads/stores at misaligned addresses (QEMU's TCG performs them). */
  misaligned: boolean;
}

const SP = 2;
const RM_ALL: E.Rm[] = [0, 1, 2, 3, 4, 7];

// Values near the edges that random bits rarely hit.
const INT_SPECIALS = [
  0n, 1n, 2n, 0xffffffffffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0xffffffff80000000n, 0x100000000n, 0xfffffffffffff800n, 0x7ffn, 63n, 64n, 31n, 32n,
];
const DOUBLE_SPECIALS = [
  0x0000000000000000n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n,
  0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff0000000000001n, 0xfff8000000000abcn, 0x7fefffffffffffffn,
  0x0010000000000000n, 0x000fffffffffffffn, 0x0000000000000001n, 0x3fe0000000000000n, 0x4000000000000000n,
  0x41e0000000000000n, 0xc1e0000000000000n, 0x43e0000000000000n, 0x43f0000000000000n, 0x3ca0000000000000n,
  0x3ff0000000000001n, 0x4004000000000000n, 0xc004000000000000n, 0x41dfffffffe00000n, 0x3fb999999999999an,
];
const SINGLE_SPECIALS = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00123,
  0x7f7fffff, 0x00800000, 0x007fffff, 0x00000001, 0x3f000000, 0x4f000000, 0xcf000000, 0x5f000000, 0x5f800000,
  0x33800000, 0x3f800001, 0x40200000, 0xc0200000, 0x3dcccccd,
];

export function randomInt64(rng: SeededRandom): bigint {
  switch (rng.below(5)) {
    case 0:
      return rng.pick(INT_SPECIALS);
    case 1:
      return BigInt.asUintN(64, BigInt(rng.int(-300, 300)));
    case 2:
      return BigInt.asUintN(64, BigInt(rng.u32() | 0));
    default:
      return rng.u64();
  }
}

export function randomFpBits(rng: SeededRandom): bigint {
  const boxed = (s: number): bigint => 0xffffffff00000000n | BigInt(s >>> 0);
  switch (rng.below(8)) {
    case 0:
    case 1:
      return rng.pick(DOUBLE_SPECIALS);
    case 2:
      return boxed(rng.pick(SINGLE_SPECIALS));
    case 3:
      return boxed(rng.u32());
    case 4: {
      // A double near 1 with random low bits: arithmetic on these rounds.
      const exp = BigInt(rng.int(1000, 1050));
      return (BigInt(rng.below(2)) << 63n) | (exp << 52n) | (rng.u64() & 0xfffffffffffffn);
    }
    case 5: {
      const exp = rng.int(110, 145);
      return boxed((rng.below(2) << 31) | (exp << 23) | (rng.u32() & 0x7fffff));
    }
    case 6:
      // Not NaN-boxed: single-precision operations must read these as the canonical NaN.
      return rng.u64();
    default:
      return rng.u64() & 0x800fffffffffffffn; // subnormal or zero
  }
}

/** The first address past QEMU virt's default 128 MiB of RAM (romvisor's bare-metal default
 *  too): nothing answers there, so an access faults (access fault, mtval = the address). */
const BEYOND_RAM_SHIFTED = 0x11; // << 27 = 0x8800_0000
const MSTATUS_CSR = 0x300;

/** One program's generator state: what may be written, where memory operands go. */
class ProgramGenerator {
  /** Where the body ends; a hop over unexecuted bytes moves it on by the bytes skipped. */
  private end = 0;

  constructor(
    private readonly asm: Assembler,
    private readonly rng: SeededRandom,
    private readonly opts: GeneratorOptions,
  ) {}

  /** A destination: any register but x2 and those in `avoid`; x0 now and then. */
  private rd(avoid?: ReadonlySet<number>): number {
    for (;;) {
      const r = this.rng.chance(0.03) ? 0 : this.rng.int(1, 31);
      if (r !== SP && !avoid?.has(r)) return r;
    }
  }

  private rs(): number {
    return this.rng.below(32);
  }

  /** A destination among x8..x15 (the compressed register set). */
  private rdc(avoid?: ReadonlySet<number>): number {
    for (;;) {
      const r = this.rng.int(8, 15);
      if (!avoid?.has(r)) return r;
    }
  }

  private f(): number {
    return this.rng.below(32);
  }

  private imm12(): number {
    switch (this.rng.below(4)) {
      case 0:
        return this.rng.pick([0, 1, -1, 2047, -2048, 31, 32, 63]);
      case 1:
        return this.rng.int(-16, 16);
      default:
        return this.rng.int(-2048, 2047);
    }
  }

  /** An offset from x2 for an access of `size` bytes inside the scratch block, or, for a
   *  misaligned plain access, sometimes straddling its last byte: a page crossing into
   *  the next block (another program's data, the same on both machines), which is where
   *  a TLB fast path is most likely to be wrong. (The first byte is x2 - 2048, the
   *  lowest a 12-bit offset reaches, so crossings happen at the top only.) */
  private memOffset(size: number, allowMisaligned: boolean): number {
    const misaligned = allowMisaligned && this.opts.misaligned && size > 1 && this.rng.chance(0.15);
    if (misaligned && this.rng.chance(0.25)) {
      const k = this.rng.int(1, size - 1);
      return SCRATCH_BYTES - SCRATCH_BIAS - size + k;
    }
    let off = this.rng.int(-SCRATCH_BIAS, SCRATCH_BYTES - SCRATCH_BIAS - size);
    if (!misaligned) off -= ((off % size) + size) % size;
    return off;
  }

  /** Emits the whole body. */
  body(): void {
    this.end = this.asm.pc + this.opts.length * 4;
    while (this.asm.pc < this.end) {
      const kind = this.rng.weighted({
        simple: 80, branch: 6, loop: 2, lrsc: 3, sp16: 1, fcsr: 4, trap: 1.5,
        straight: 0.6, longLoop: 0.8, pageHop: 0.5, fault: 1,
      });
      switch (kind) {
        case 'simple':
          this.simple();
          break;
        case 'branch':
          this.forwardJump();
          break;
        case 'loop':
          this.loop();
          break;
        case 'lrsc':
          this.lrsc();
          break;
        case 'sp16':
          this.addi16spPair();
          break;
        case 'fcsr':
          this.fcsr();
          break;
        case 'trap':
          this.trap();
          break;
        case 'straight':
          this.straightLine();
          break;
        case 'longLoop':
          this.longLoop();
          break;
        case 'pageHop':
          this.pageHop();
          break;
        case 'fault':
          this.faultingAccess();
          break;
      }
    }
  }

  /** A long run without control flow: one long translated block. */
  private straightLine(): void {
    for (let n = this.rng.int(20, 120); n > 0; n--) this.simple();
  }

  /** A counted loop of many iterations, sometimes with a short counted loop inside. */
  private longLoop(): void {
    const a = this.asm;
    const counter = this.rd(new Set([0]));
    a.emit32(E.iType(this.rng.int(16, 200), 0, 0, counter, E.OP_IMM));
    const top = a.pc;
    const keep = new Set([counter]);
    this.block(keep);
    if (this.rng.chance(0.4)) {
      const inner = this.rd(new Set([0, counter]));
      a.emit32(E.iType(this.rng.int(1, 8), 0, 0, inner, E.OP_IMM));
      const innerTop = a.pc;
      this.block(new Set([counter, inner]));
      a.emit32(E.iType(-1, inner, 0, inner, E.OP_IMM));
      a.emit32(E.bType(innerTop - a.pc, 0, inner, 1)); // bne inner, x0, innerTop
    }
    this.block(keep);
    a.emit32(E.iType(-1, counter, 0, counter, E.OP_IMM));
    a.emit32(E.bType(top - a.pc, 0, counter, 1)); // bne counter, x0, top
  }

  /** Jumps to a few bytes before the next 4 KiB boundary (the bytes skipped never run),
   *  then runs straight, loops or branches across it; at 2 bytes before it, a 32-bit
   *  instruction straddles it. */
  private pageHop(): void {
    const a = this.asm;
    const resume = ((a.pc | 0xfff) + 1) - this.rng.pick([2, 2, 4, 6, 8, 12, 20, 40]);
    if (resume - a.pc >= 8) {
      const from = a.pc;
      const there = a.label();
      a.jal(0, there);
      while (a.pc < resume) a.emit16(0x0000); // c.unimp: never runs
      a.bind(there);
      this.end += a.pc - from;
    }
    switch (this.rng.below(4)) {
      case 0:
        for (let n = this.rng.int(4, 12); n > 0; n--) this.simple();
        return;
      case 1:
        return this.loop();
      case 2:
        return this.forwardJump();
      default:
        // A 32-bit instruction at the boundary (straddling it when 2 bytes before it).
        this.op();
        return this.block();
    }
  }

  /** A load or store beyond RAM between a few ordinary instructions: it faults in the
   *  middle of a block (the registers written before it must stay written). */
  private faultingAccess(): void {
    const a = this.asm;
    const base = this.rd(new Set([0]));
    a.emit32(E.iType(BEYOND_RAM_SHIFTED, 0, 0, base, E.OP_IMM));
    a.emit32(E.iType(27, base, 1, base, E.OP_IMM)); // slli base, base, 27
    const keep = new Set([base]);
    for (let n = this.rng.below(4); n > 0; n--) this.simple(keep);
    const off = this.rng.int(0, 2047) & ~7;
    switch (this.rng.below(4)) {
      case 0:
        a.emit32(E.iType(off, base, this.rng.below(7), this.rd(), E.LOAD));
        break;
      case 1:
        a.emit32(E.sType(off, this.rs(), base, this.rng.below(4), E.STORE));
        break;
      case 2:
        a.emit32(E.iType(off, base, this.rng.pick([2, 3]), this.f(), E.LOAD_FP));
        break;
      default:
        a.emit32(E.sType(off, this.f(), base, this.rng.pick([2, 3]), E.STORE_FP));
    }
    for (let n = this.rng.below(4); n > 0; n--) this.simple();
  }

  /** One instruction (or a short fixed sequence) with no control flow. */
  simple(avoid?: ReadonlySet<number>): void {
    const kind = this.rng.weighted({ op: 16, opImm: 12, upper: 3, load: 5, store: 4, amo: 3, fpArith: 14, fpMisc: 10, fma: 5, fpMem: 4, rvc: 18 });
    switch (kind) {
      case 'op':
        return this.op(avoid);
      case 'opImm':
        return this.opImm(avoid);
      case 'upper':
        return this.asm.emit32(E.uType(this.rng.u32() & 0xfffff, this.rd(avoid), this.rng.chance(0.5) ? E.LUI : E.AUIPC));
      case 'load':
        return this.load(avoid);
      case 'store':
        return this.store();
      case 'amo':
        return this.amo(avoid);
      case 'fpArith':
        return this.fpArith();
      case 'fpMisc':
        return this.fpMisc(avoid);
      case 'fma':
        return this.fma();
      case 'fpMem':
        return this.fpMem();
      case 'rvc':
        return this.rvc(avoid);
    }
  }

  private op(avoid?: ReadonlySet<number>): void {
    if (this.rng.chance(0.6)) {
      // OP: funct7/funct3 of add..and, then M's mul..remu.
      const [f7, f3] = this.rng.pick([
        [0, 0], [0x20, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0x20, 5], [0, 6], [0, 7],
        [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7],
      ]);
      this.asm.emit32(E.rType(f7, this.rs(), this.rs(), f3, this.rd(avoid), E.OP));
    } else {
      const [f7, f3] = this.rng.pick([[0, 0], [0x20, 0], [0, 1], [0, 5], [0x20, 5], [1, 0], [1, 4], [1, 5], [1, 6], [1, 7]]);
      this.asm.emit32(E.rType(f7, this.rs(), this.rs(), f3, this.rd(avoid), E.OP_32));
    }
  }

  private opImm(avoid?: ReadonlySet<number>): void {
    const rd = this.rd(avoid);
    const rs1 = this.rs();
    switch (this.rng.below(4)) {
      case 0:
      case 1:
        return this.asm.emit32(E.iType(this.imm12(), rs1, this.rng.pick([0, 2, 3, 4, 6, 7]), rd, E.OP_IMM));
      case 2: {
        const shamt = this.rng.chance(0.4) ? this.rng.pick([0, 1, 31, 32, 63]) : this.rng.below(64);
        const [f3, hi] = this.rng.pick([[1, 0], [5, 0], [5, 0x400]]);
        return this.asm.emit32(E.iType(hi | shamt, rs1, f3, rd, E.OP_IMM));
      }
      default: {
        if (this.rng.chance(0.5)) return this.asm.emit32(E.iType(this.imm12(), rs1, 0, rd, E.OP_IMM_32));
        const shamt = this.rng.chance(0.4) ? this.rng.pick([0, 1, 31]) : this.rng.below(32);
        const [f3, hi] = this.rng.pick([[1, 0], [5, 0], [5, 0x400]]);
        return this.asm.emit32(E.iType(hi | shamt, rs1, f3, rd, E.OP_IMM_32));
      }
    }
  }

  private load(avoid?: ReadonlySet<number>): void {
    const f3 = this.rng.below(7); // lb lh lw ld lbu lhu lwu
    const size = 1 << (f3 & 3);
    this.asm.emit32(E.iType(this.memOffset(size, true), SP, f3, this.rd(avoid), E.LOAD));
  }

  private store(): void {
    const f3 = this.rng.below(4);
    this.asm.emit32(E.sType(this.memOffset(1 << f3, true), this.rs(), SP, f3, E.STORE));
  }

  /** An AMO on a naturally aligned scratch address computed into a fresh register. */
  private amo(avoid?: ReadonlySet<number>): void {
    const wide = this.rng.chance(0.5);
    const addr = this.rd(new Set([0, ...(avoid ?? [])]));
    this.asm.emit32(E.iType(this.memOffset(wide ? 8 : 4, false), SP, 0, addr, E.OP_IMM));
    const funct5 = this.rng.pick([0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c]);
    const f7 = (funct5 << 2) | this.rng.below(4); // aq, rl
    this.asm.emit32(E.rType(f7, this.rs(), addr, wide ? 3 : 2, this.rd(avoid), E.AMO));
  }

  /** LR, a few ALU instructions that keep the address, then SC (sometimes elsewhere). */
  private lrsc(): void {
    const wide = this.rng.chance(0.5);
    const size = wide ? 8 : 4;
    const f3 = wide ? 3 : 2;
    if (this.rng.chance(0.1)) {
      // No reservation is held between programs or after an SC: this one fails.
      const addr = this.rd(new Set([0]));
      this.asm.emit32(E.iType(this.memOffset(size, false), SP, 0, addr, E.OP_IMM));
      this.asm.emit32(E.rType((0x03 << 2) | this.rng.below(4), this.rs(), addr, f3, this.rd(), E.AMO));
      return;
    }
    const addr = this.rd(new Set([0]));
    this.asm.emit32(E.iType(this.memOffset(size, false), SP, 0, addr, E.OP_IMM));
    this.asm.emit32(E.rType((0x02 << 2) | this.rng.below(4), 0, addr, f3, this.rd(new Set([addr])), E.AMO));
    const keep = new Set([addr]);
    for (let n = this.rng.below(4); n > 0; n--) this.op(keep);
    let scAddr = addr;
    if (this.rng.chance(0.15)) {
      scAddr = this.rd(new Set([0, addr]));
      this.asm.emit32(E.iType(this.memOffset(size, false), SP, 0, scAddr, E.OP_IMM));
    }
    this.asm.emit32(E.rType((0x03 << 2) | this.rng.below(4), this.rs(), scAddr, f3, this.rd(), E.AMO));
  }

  private fpArith(): void {
    const fmt = this.rng.below(2);
    const rm = this.rng.pick(RM_ALL);
    const funct5 = this.rng.pick([0x00, 0x01, 0x02, 0x03, 0x0b]); // add sub mul div sqrt
    const rs2 = funct5 === 0x0b ? 0 : this.f();
    this.asm.emit32(E.rType((funct5 << 2) | fmt, rs2, this.f(), rm, this.f(), E.OP_FP));
  }

  private fpMisc(avoid?: ReadonlySet<number>): void {
    const fmt = this.rng.below(2);
    const rm = this.rng.pick(RM_ALL);
    switch (this.rng.below(9)) {
      case 0: // fsgnj, fsgnjn, fsgnjx
        return this.asm.emit32(E.rType((0x04 << 2) | fmt, this.f(), this.f(), this.rng.below(3), this.f(), E.OP_FP));
      case 1: // fmin, fmax
        return this.asm.emit32(E.rType((0x05 << 2) | fmt, this.f(), this.f(), this.rng.below(2), this.f(), E.OP_FP));
      case 2: // fcvt.{w,wu,l,lu}.fmt
        return this.asm.emit32(E.rType((0x18 << 2) | fmt, this.rng.below(4), this.f(), rm, this.rd(avoid), E.OP_FP));
      case 3: // fcvt.fmt.{w,wu,l,lu}
        return this.asm.emit32(E.rType((0x1a << 2) | fmt, this.rng.below(4), this.rs(), rm, this.f(), E.OP_FP));
      case 4: // fcvt.s.d, fcvt.d.s
        return this.asm.emit32(E.rType((0x08 << 2) | fmt, 1 - fmt, this.f(), rm, this.f(), E.OP_FP));
      case 5: // feq, flt, fle
        return this.asm.emit32(E.rType((0x14 << 2) | fmt, this.f(), this.f(), this.rng.below(3), this.rd(avoid), E.OP_FP));
      case 6: // fmv.x.w/d, fclass
        return this.asm.emit32(E.rType((0x1c << 2) | fmt, 0, this.f(), this.rng.below(2), this.rd(avoid), E.OP_FP));
      case 7: // fmv.w.x / fmv.d.x
        return this.asm.emit32(E.rType((0x1e << 2) | fmt, 0, this.rs(), 0, this.f(), E.OP_FP));
      default: // fmv.d.x of a register, then a single-precision op: exercises NaN boxing
        this.asm.emit32(E.rType((0x1e << 2) | 1, 0, this.rs(), 0, this.f(), E.OP_FP));
        return this.fpArith();
    }
  }

  private fma(): void {
    const op = this.rng.pick([E.MADD, E.MSUB, E.NMSUB, E.NMADD]);
    this.asm.emit32(E.r4Type(this.f(), this.rng.below(2), this.f(), this.f(), this.rng.pick(RM_ALL), this.f(), op));
  }

  private fpMem(): void {
    const wide = this.rng.chance(0.5);
    const size = wide ? 8 : 4;
    const f3 = wide ? 3 : 2;
    if (this.rng.chance(0.5)) this.asm.emit32(E.iType(this.memOffset(size, true), SP, f3, this.f(), E.LOAD_FP));
    else this.asm.emit32(E.sType(this.memOffset(size, true), this.f(), SP, f3, E.STORE_FP));
  }

  private nz(lo: number, hi: number): number {
    for (;;) {
      const v = this.rng.int(lo, hi);
      if (v !== 0) return v;
    }
  }

  /** A compressed instruction (with an address set-up for the register-based memory forms). */
  private rvc(avoid?: ReadonlySet<number>): void {
    const a = this.asm;
    const rng = this.rng;
    const nonzero = new Set([0, ...(avoid ?? [])]);
    switch (rng.below(22)) {
      case 0:
        return a.emit16(E.cAddi4spn(this.rdc(avoid), rng.int(1, 255) * 4));
      case 1:
        return a.emit16(E.cImm6(0, this.rd(nonzero), this.nz(-32, 31))); // c.addi
      case 2:
        return a.emit16(E.cImm6(1, this.rd(nonzero), rng.int(-32, 31))); // c.addiw
      case 3:
        return a.emit16(E.cImm6(2, this.rd(nonzero), rng.int(-32, 31))); // c.li
      case 4:
        return a.emit16(E.cLui(this.rd(nonzero), this.nz(-32, 31)));
      case 5:
        return a.emit16(E.cAluImm(rng.below(2) as 0 | 1, this.rdc(avoid), rng.int(1, 63)));
      case 6:
        return a.emit16(E.cAluImm(2, this.rdc(avoid), rng.int(-32, 31)));
      case 7:
        return a.emit16(E.cAluReg(rng.below(6), this.rdc(avoid), rng.int(8, 15)));
      case 8:
        return a.emit16(E.cSlli(this.rd(nonzero), rng.int(1, 63)));
      case 9:
        return a.emit16(E.cCr(0, this.rd(nonzero), this.nz(1, 31))); // c.mv
      case 10:
        return a.emit16(E.cCr(1, this.rd(nonzero), this.nz(1, 31))); // c.add
      case 11:
        return a.emit16(E.cLoadSp8(3, this.rd(nonzero), rng.below(64) * 8)); // c.ldsp
      case 12:
        return a.emit16(E.cLwsp(this.rd(nonzero), rng.below(64) * 4));
      case 13:
        return a.emit16(E.cLoadSp8(1, this.f(), rng.below(64) * 8)); // c.fldsp
      case 14:
        return a.emit16(E.cStoreSp8(rng.chance(0.5) ? 7 : 5, rng.below(32), rng.below(64) * 8)); // c.sdsp / c.fsdsp
      case 15:
        return a.emit16(E.cSwsp(this.rs(), rng.below(64) * 4));
      case 16:
        return a.emit16(0x0001); // c.nop
      default: {
        // c.ld/c.sd/c.fld/c.fsd/c.lw/c.sw need a base in x8..x15: set one up first.
        const base = this.rdc(avoid);
        const kind = rng.below(6);
        const wide = kind < 4;
        const uimm = wide ? rng.below(32) * 8 : rng.below(32) * 4;
        const lo = -SCRATCH_BIAS;
        const hi = SCRATCH_BYTES - SCRATCH_BIAS - 8 - uimm;
        a.emit32(E.iType(rng.int(lo, hi) & ~(wide ? 7 : 3), SP, 0, base, E.OP_IMM));
        const loadRd = this.rdc(avoid);
        switch (kind) {
          case 0:
            return a.emit16(E.cMem8(3, loadRd, base, uimm)); // c.ld
          case 1:
            return a.emit16(E.cMem8(7, rng.int(8, 15), base, uimm)); // c.sd
          case 2:
            return a.emit16(E.cMem8(1, rng.int(8, 15), base, uimm)); // c.fld
          case 3:
            return a.emit16(E.cMem8(5, rng.int(8, 15), base, uimm)); // c.fsd
          case 4:
            return a.emit16(E.cMem4(2, loadRd, base, uimm)); // c.lw
          default:
            return a.emit16(E.cMem4(6, rng.int(8, 15), base, uimm)); // c.sw
        }
      }
    }
  }

  /** A short block of simple instructions (the body of a branch or loop). */
  private block(avoid?: ReadonlySet<number>): void {
    for (let n = this.rng.int(1, 5); n > 0; n--) this.simple(avoid);
  }

  /** A forward branch or jump over a block, in one of its many encodings. */
  private forwardJump(): void {
    const a = this.asm;
    const skip: Label = a.label();
    switch (this.rng.below(7)) {
      case 0:
      case 1:
        a.branch(this.rng.pick([0, 1, 4, 5, 6, 7]), this.rs(), this.rs(), skip);
        break;
      case 2:
        a.cBranch(this.rng.chance(0.5) ? 6 : 7, this.rng.int(8, 15), skip);
        break;
      case 3:
        a.jal(this.rng.chance(0.3) ? 0 : this.rd(), skip);
        break;
      case 4:
        a.cj(skip);
        break;
      case 5: {
        // auipc t, 0; jalr rd, off(t)
        const t = this.rd(new Set([0]));
        const link = this.rng.chance(0.3) ? 0 : this.rd();
        const origin = a.pc;
        a.emit32(E.uType(0, t, E.AUIPC));
        a.pcrelLow(origin, skip, (off) => E.iType(off, t, 0, link, E.JALR));
        break;
      }
      default: {
        // auipc t, 0; addi t, t, off; c.jr t / c.jalr t
        const t = this.rd(new Set([0]));
        const origin = a.pc;
        a.emit32(E.uType(0, t, E.AUIPC));
        a.pcrelLow(origin, skip, (off) => E.iType(off, t, 0, t, E.OP_IMM));
        a.emit16(E.cCr(this.rng.below(2) as 0 | 1, t, 0));
        break;
      }
    }
    this.block();
    a.bind(skip);
  }

  /** A counted loop of 1..4 iterations whose body leaves the counter alone. */
  private loop(): void {
    const a = this.asm;
    const counter = this.rd(new Set([0]));
    a.emit32(E.iType(this.rng.int(1, 4), 0, 0, counter, E.OP_IMM));
    const top = a.pc;
    this.block(new Set([counter]));
    a.emit32(E.iType(-1, counter, 0, counter, E.OP_IMM));
    a.emit32(E.bType(top - a.pc, 0, counter, 1)); // bne counter, x0, top
  }

  /** c.addi16sp down and back up, maybe with an sp-relative access in between. */
  private addi16spPair(): void {
    const d = this.rng.int(1, 31) * 16;
    this.asm.emit16(E.cAddi16sp(-d));
    if (this.rng.chance(0.5)) this.asm.emit16(E.cStoreSp8(7, this.rs(), this.rng.below(64) * 8));
    if (this.rng.chance(0.5)) this.asm.emit16(E.cLoadSp8(3, this.rd(new Set([0])), this.rng.below(64) * 8));
    this.asm.emit16(E.cAddi16sp(d));
  }

  /** An instruction that must trap (the ELF's handler logs it and skips it). Left out:
   *  ebreak (mtval may be 0 or the pc) and misaligned AMOs (QEMU 7.2 reports a load
   *  misalignment, the spec a store/AMO one): both are checked by the ISA tests instead. */
  private trap(): void {
    const a = this.asm;
    const rng = this.rng;
    switch (rng.below(11)) {
      case 10: {
        // mstatus.FS off: an FP load or store is illegal; then FS back to Dirty.
        const t = this.rd(new Set([0]));
        a.emit32(E.uType(6, t, E.LUI)); // 0x6000: mstatus.FS
        a.emit32(E.iType(MSTATUS_CSR, t, 3, 0, E.SYSTEM)); // csrrc x0, mstatus, t
        this.fpMem();
        return a.emit32(E.iType(MSTATUS_CSR, t, 2, 0, E.SYSTEM)); // csrrs x0, mstatus, t
      }
      case 0:
        return a.emit32(0x00000073); // ecall
      case 1:
        return a.emit32(((rng.u32() << 7) | 0x0b) >>> 0); // custom-0: no such instruction
      case 2: {
        // A write to a read-only machine information CSR. Not csrrs/csrrc with a register:
        // the spec makes those writes (so illegal) whenever rs1 is not x0, but QEMU 7.2
        // traps only when the register's value is nonzero, and that is unknown here.
        const csr = rng.pick([0xf11, 0xf12, 0xf13, 0xf14]) - 4096;
        const f3 = rng.pick([1, 5, 6, 7]);
        const src = f3 === 1 || f3 === 5 ? rng.below(32) : rng.int(1, 31);
        return a.emit32(E.iType(csr, src, f3, this.rd(), E.SYSTEM));
      }
      case 3: // CSRs that RV64 M-mode does not have: custom 0x800, RV32-only cycleh
        return a.emit32(E.iType(rng.pick([0x800, 0xc80]) - 4096, 0, 2, this.rd(), E.SYSTEM));
      case 4: // quad-precision (fmt 3) and the reserved static rounding modes 5 and 6
        return rng.chance(0.5)
          ? a.emit32(E.rType((rng.below(4) << 2) | 3, this.f(), this.f(), 0, this.f(), E.OP_FP))
          : a.emit32(E.rType((rng.below(4) << 2) | rng.below(2), this.f(), this.f(), rng.pick([5, 6]), this.f(), E.OP_FP));
      case 5: {
        // An invalid frm makes dynamic rounding illegal; restore a valid one after.
        a.emit32(E.iType(2, rng.int(5, 7), 5, 0, E.SYSTEM)); // csrrwi x0, frm, 5..7
        a.emit32(E.rType((rng.below(4) << 2) | rng.below(2), this.f(), this.f(), 7, this.f(), E.OP_FP));
        return a.emit32(E.iType(2, rng.below(5), 5, 0, E.SYSTEM));
      }
      case 6: {
        // A misaligned LR: load address misaligned.
        const addr = this.rd(new Set([0]));
        const wide = rng.chance(0.5);
        a.emit32(E.iType(rng.int(-2040, 2000) | 1, SP, 0, addr, E.OP_IMM));
        return a.emit32(E.rType((0x02 << 2) | rng.below(4), 0, addr, wide ? 3 : 2, this.rd(), E.AMO));
      }
      case 7:
        return a.emit16(0x0000); // c.unimp
      case 8: // reserved: c.lui rd, 0; c.addi16sp 0; c.jr x0
        return a.emit16(rng.pick([0x6001 | (rng.pick([1, 3, 10, 31]) << 7), 0x6101, 0x8002]));
      default: // reserved: c.lwsp / c.ldsp into x0, any offset
        return a.emit16(rng.pick([0x4002, 0x6002]) | (rng.below(2) << 12) | (rng.below(32) << 2));
    }
  }

  /** Reads and writes of fflags, frm and fcsr that keep frm a valid rounding mode. */
  private fcsr(): void {
    const a = this.asm;
    const rd = this.rd();
    const FFLAGS = 1, FRM = 2, FCSR = 3;
    const csr = (csrNum: number, f3: number, rs1: number): void => a.emit32(E.iType(csrNum, rs1, f3, rd, E.SYSTEM));
    const setTmp = (value: number): number => {
      const t = this.rd(new Set([0]));
      a.emit32(E.iType(value, 0, 0, t, E.OP_IMM));
      return t;
    };
    switch (this.rng.below(10)) {
      case 0:
        return csr(FFLAGS, this.rng.pick([1, 2, 3]), this.rs()); // csrrw/csrrs/csrrc fflags
      case 1:
        return csr(FFLAGS, this.rng.pick([5, 6, 7]), this.rng.below(32)); // csrr*i fflags
      case 2:
        return csr(FRM, 5, this.rng.below(5)); // csrrwi frm, 0..4
      case 3:
        return csr(FRM, 1, setTmp(this.rng.below(5))); // csrrw frm
      case 4:
        return csr(FRM, this.rng.pick([3, 7]), this.rng.chance(0.5) ? this.rs() : this.rng.below(32)); // clearing keeps frm <= 4
      case 5:
        return csr(FCSR, 1, setTmp((this.rng.below(5) << 5) | this.rng.below(32))); // csrrw fcsr
      case 6:
        return csr(FCSR, 2, setTmp(this.rng.below(32))); // csrrs fcsr, flags only
      case 7:
        return csr(FCSR, 3, this.rs()); // csrrc fcsr
      case 8:
        return csr(FCSR, this.rng.pick([5, 6, 7]), this.rng.below(32));
      default:
        return csr(this.rng.pick([FFLAGS, FRM, FCSR]), 2, 0); // plain read
    }
  }
}

/** Emits the body of the program for `seed` at the assembler's pc; returns its start state. */
export function generateProgram(seed: number, asm: Assembler, opts: GeneratorOptions): ProgramState {
  const rng = new SeededRandom(seed);
  const x = Array.from({ length: 32 }, () => randomInt64(rng));
  const f = Array.from({ length: 32 }, () => randomFpBits(rng));
  const fcsr = (rng.below(5) << 5) | rng.below(32);
  const scratch = new Uint8Array(SCRATCH_BYTES);
  for (let i = 0; i < SCRATCH_BYTES; i += 8) {
    const v = rng.chance(0.3) ? randomFpBits(rng) : randomInt64(rng);
    new DataView(scratch.buffer).setBigUint64(i, v, true);
  }
  new ProgramGenerator(asm, rng, opts).body();
  return { x, f, fcsr, scratch };
}
