/**
 * The 9P2000.L wire format: little-endian integers, strings as length[2] + UTF-8 bytes,
 * qids as type[1] version[4] path[8], every message framed as size[4] type[1] tag[2] body.
 * NinePReader reads a guest's T-message and refuses anything malformed with a ShareError
 * (EPROTO) naming the message, the field, its offset and its value; NinePWriter builds
 * R-messages.
 */
import { ShareError } from './ShareError.ts';

/** Message types (the T-message; its R-message is type + 1). */
export const P9 = {
  TLERROR: 6,
  RLERROR: 7,
  TSTATFS: 8,
  TLOPEN: 12,
  TLCREATE: 14,
  TSYMLINK: 16,
  TMKNOD: 18,
  TRENAME: 20,
  TREADLINK: 22,
  TGETATTR: 24,
  TSETATTR: 26,
  TXATTRWALK: 30,
  TXATTRCREATE: 32,
  TREADDIR: 40,
  TFSYNC: 50,
  TLOCK: 52,
  TGETLOCK: 54,
  TLINK: 70,
  TMKDIR: 72,
  TRENAMEAT: 74,
  TUNLINKAT: 76,
  TVERSION: 100,
  TAUTH: 102,
  TATTACH: 104,
  TERROR: 106,
  TFLUSH: 108,
  TWALK: 110,
  TOPEN: 112,
  TCREATE: 114,
  TREAD: 116,
  TWRITE: 118,
  TCLUNK: 120,
  TREMOVE: 122,
  TSTAT: 124,
  TWSTAT: 126,
} as const;

/** size[4] type[1] tag[2]. */
export const HEADER_BYTES = 7;
export const QID_BYTES = 13;
/** qid.type bits. */
export const QTDIR = 0x80;
export const QTSYMLINK = 0x02;
export const QTFILE = 0;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(P9).map(([k, v]) => [v, k.charAt(0) + k.slice(1).toLowerCase()]));

/** `Twalk` for 110: how messages are named in error texts. */
export function messageName(type: number): string {
  return NAMES[type] ?? `message type ${type}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

export class NinePReader {
  private at = HEADER_BYTES;
  private readonly view: DataView;
  readonly type: number;
  readonly tag: number;

  /** `message` holds exactly one message, its size field already checked against its length. */
  constructor(readonly message: Uint8Array) {
    this.view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    this.type = message[4]!;
    this.tag = this.view.getUint16(5, true);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.message.length - this.at;
  }

  private need(n: number, field: string): number {
    const at = this.at;
    if (n > this.message.length - at) {
      throw new ShareError('EPROTO', `${messageName(this.type)} at offset ${at}: ${field} needs ${n} bytes, ${this.message.length - at} left in the ${this.message.length}-byte message`);
    }
    this.at += n;
    return at;
  }

  u8(field: string): number {
    return this.message[this.need(1, field)]!;
  }
  u16(field: string): number {
    return this.view.getUint16(this.need(2, field), true);
  }
  u32(field: string): number {
    return this.view.getUint32(this.need(4, field), true);
  }
  u64(field: string): bigint {
    return this.view.getBigUint64(this.need(8, field), true);
  }
  /** A u64 used as a number (an offset or a size): beyond 2^53 is EINVAL. */
  offset(field: string): number {
    const at = this.at;
    const v = this.u64(field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ShareError('EINVAL', `${messageName(this.type)} at offset ${at}: ${field} ${v} is beyond 2^53`);
    return Number(v);
  }

  /** A string; `maxBytes` bounds it (ENAMETOOLONG), and it must be UTF-8 (EINVAL). */
  str(field: string, maxBytes = 0xffff): string {
    const len = this.u16(`${field} length`);
    const at = this.need(len, field);
    if (len > maxBytes) throw new ShareError('ENAMETOOLONG', `${messageName(this.type)} at offset ${at}: ${field} is ${len} bytes, at most ${maxBytes} allowed`);
    try {
      return utf8.decode(this.message.subarray(at, at + len));
    } catch {
      throw new ShareError('EINVAL', `${messageName(this.type)} at offset ${at}: ${field} is not UTF-8`);
    }
  }

  /** `n` raw bytes (Twrite's data), not copied. */
  bytes(n: number, field: string): Uint8Array {
    const at = this.need(n, field);
    return this.message.subarray(at, at + n);
  }

  /** Offset of the next field, for error texts. */
  get offsetNow(): number {
    return this.at;
  }
}

export class NinePWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = HEADER_BYTES;

  constructor(
    private readonly type: number,
    private readonly tag: number,
    initial = 64,
  ) {
    this.buf = new Uint8Array(Math.max(initial, HEADER_BYTES));
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): number {
    if (this.at + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
      bigger.set(this.buf.subarray(0, this.at));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  get length(): number {
    return this.at;
  }

  // `room()` first, into a local: it may replace `buf` and `view`.
  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.room(2);
    this.view.setUint16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4);
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }
  u64(v: bigint | number): this {
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  str(s: string): this {
    const b = utf8Encoder.encode(s);
    this.u16(b.length);
    this.bytes(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }
  qid(q: Qid): this {
    return this.u8(q.type).u32(q.version).u64(q.path);
  }
  /** Reserves a u32 to fill in later (Rread's and Rreaddir's count); returns its offset. */
  placeholder32(): number {
    return this.room(4);
  }
  set32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** The finished message, its header written. */
  finish(): Uint8Array {
    this.view.setUint32(0, this.at, true);
    this.buf[4] = this.type;
    this.view.setUint16(5, this.tag, true);
    return this.buf.subarray(0, this.at);
  }
}

/** The encoded length of a string field. */
export function strBytes(s: string): number {
  return 2 + utf8Encoder.encode(s).length;
}
