/**
 * A byte buffer for hand-written WebAssembly: LEB128 numbers and the few opcodes the JIT
 * uses, named as the spec's instruction index names them (binary format, section 5.4).
 * No validation here: `new WebAssembly.Module` validates what the translator emits.
 */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brTable: 0x0e,
  brIf: 0x0d, return: 0x0f, call: 0x10, drop: 0x1a,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, globalGet: 0x23, globalSet: 0x24,
  i64Load: 0x29, i64Load8S: 0x30, i64Load8U: 0x31, i64Load16S: 0x32, i64Load16U: 0x33, i64Load32S: 0x34,
  i64Load32U: 0x35, i64Store: 0x37, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32LtU: 0x49, i32GeS: 0x4e, i32Sub: 0x6b,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtU: 0x56, i64GeS: 0x59, i64GeU: 0x5a,
  i32And: 0x71, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86,
  i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  i64Extend8S: 0xc2, i64Extend16S: 0xc3, i64Extend32S: 0xc4,
} as const;

export const I32 = 0x7f;
export const I64 = 0x7e;
/** Block type of a block without a result. */
export const VOID = 0x40;

export class WasmEmitter {
  private buf: Uint8Array;
  length = 0;

  /** `capacity`: the first buffer's size (it grows); most emitters are small sections. */
  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: ArrayLike<number>): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  u32(v: number): this {
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit value. */
  s32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of a 64-bit value. */
  s64(v: bigint): this {
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  op(code: number): this {
    return this.byte(code);
  }
  i32(v: number): this {
    return this.byte(Op.i32Const).s32(v);
  }
  i64(v: bigint | number): this {
    // Values in i32 range (nearly all) have the same signed LEB128 either way: skip BigInt.
    if (typeof v === 'number' && v === (v | 0)) return this.byte(Op.i64Const).s32(v);
    return this.byte(Op.i64Const).s64(BigInt(v));
  }
  get(local: number): this {
    return this.byte(Op.localGet).u32(local);
  }
  set(local: number): this {
    return this.byte(Op.localSet).u32(local);
  }
  tee(local: number): this {
    return this.byte(Op.localTee).u32(local);
  }
  /** A load or store with its memarg (alignment hint 0: guest accesses may be unaligned). */
  mem(code: number, offset: number): this {
    return this.byte(code).u32(0).u32(offset);
  }

  /** The bytes so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes [start, end) so far (a view: valid until the next write). */
  view(start = 0, end = this.length): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** Appends section `id` with the contents another emitter built. */
  section(id: number, body: WasmEmitter): this {
    return this.byte(id).u32(body.length).bytes(body.buf.subarray(0, body.length));
  }
}
