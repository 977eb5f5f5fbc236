// Lays out machine code for the fuzzer: appends encoded instructions (see encode.ts) at a
// known base address and resolves forward references to labels once they are bound.
import { AUIPC, bType, cBranch, cJ, iType, jType, OP_IMM, uType, type Reg } from './encode.ts';

export interface Label {
  address?: number;
}

interface Fixup {
  at: number;
  label: Label;
  /** Re-encodes the instruction at `at` for the label's offset from `origin`. */
  patch: (offset: number) => number;
  origin: number;
  size: 2 | 4;
}

export class Assembler {
  private buf = new Uint8Array(4096);
  private length = 0;
  private fixups: Fixup[] = [];

  constructor(readonly base: number) {}

  get pc(): number {
    return this.base + this.length;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(this.buf.length * 2);
    bigger.set(this.buf);
    this.buf = bigger;
  }

  emit32(word: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.length, word >>> 0, true);
    this.length += 4;
  }

  emit16(half: number): void {
    this.reserve(2);
    new DataView(this.buf.buffer).setUint16(this.length, half & 0xffff, true);
    this.length += 2;
  }

  label(): Label {
    return {};
  }

  bind(label: Label): void {
    if (label.address !== undefined) throw new Error('label bound twice');
    label.address = this.pc;
  }

  private refer(label: Label, size: 2 | 4, origin: number, patch: (offset: number) => number): void {
    this.fixups.push({ at: this.length, label, patch, origin, size });
    if (size === 4) this.emit32(0);
    else this.emit16(0);
  }

  /** beq/bne/blt/bge/bltu/bgeu (funct3 0, 1, 4, 5, 6, 7) to a label. */
  branch(funct3: number, rs1: Reg, rs2: Reg, target: Label): void {
    this.refer(target, 4, this.pc, (off) => bType(off, rs2, rs1, funct3));
  }

  jal(rd: Reg, target: Label): void {
    this.refer(target, 4, this.pc, (off) => jType(off, rd));
  }

  cj(target: Label): void {
    this.refer(target, 2, this.pc, (off) => cJ(off));
  }

  cBranch(funct3: 6 | 7, rs1: Reg, target: Label): void {
    this.refer(target, 2, this.pc, (off) => cBranch(funct3, rs1, off));
  }

  /** The 12-bit I-type instruction `encode(imm)` whose imm is target - origin. */
  pcrelLow(origin: number, target: Label, encode: (imm: number) => number): void {
    this.refer(target, 4, origin, encode);
  }

  /** rd = address, an absolute address within ±2 GiB of pc (auipc + addi). */
  la(rd: Reg, address: number): void {
    const delta = address - this.pc;
    const lo = ((delta & 0xfff) ^ 0x800) - 0x800;
    const hi = (delta - lo) / 4096;
    this.emit32(uType(hi, rd, AUIPC));
    this.emit32(iType(lo, rd, 0, rd, OP_IMM));
  }

  /** The code with every label reference resolved. */
  finish(): Uint8Array {
    const view = new DataView(this.buf.buffer);
    for (const f of this.fixups) {
      if (f.label.address === undefined) throw new Error(`label referenced at 0x${(this.base + f.at).toString(16)} never bound`);
      const word = f.patch(f.label.address - f.origin);
      if (f.size === 4) view.setUint32(f.at, word >>> 0, true);
      else view.setUint16(f.at, word, true);
    }
    return this.buf.slice(0, this.length);
  }
}
