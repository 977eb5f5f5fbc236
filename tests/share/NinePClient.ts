// A small 9P2000.L client for tests and the fuzzer: builds T-messages the way Linux's v9fs
// does, hands them to a NinePServer (or anything with `handle`), and decodes the replies.
// Test-only: nothing under src/ outside `*.test.ts` may import it.
import assert from 'node:assert/strict';
import { NinePReader, NinePWriter, P9, type Qid } from '../../src/share/index.ts';

export const NOFID = 0xffff_ffff;
/** Linux open flags as 9P2000.L carries them. */
export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, DIRECTORY: 0o200000 } as const;

export interface Handler {
  handle(request: Uint8Array, replyRoom: number): Promise<Uint8Array>;
}

/** What an R-message said: its type and a reader positioned after its header. */
export interface Reply {
  type: number;
  tag: number;
  r: NinePReader;
  /** The errno of an Rlerror, else undefined. */
  errno: number | undefined;
}

export interface DirEntry {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

export class NinePClient {
  private tag = 1;
  room = 1 << 20;

  constructor(readonly server: Handler) {}

  /** A T-message of `type` with `body` written by the callback. */
  message(type: number, body: (w: NinePWriter) => void, tag = this.tag++ & 0xffff): Uint8Array {
    const w = new NinePWriter(type, tag);
    body(w);
    return w.finish();
  }

  async send(type: number, body: (w: NinePWriter) => void): Promise<Reply> {
    return this.raw(this.message(type, body));
  }

  async raw(message: Uint8Array): Promise<Reply> {
    const bytes = await this.server.handle(message, this.room);
    assert.ok(bytes.length >= 7, `a reply of ${bytes.length} bytes`);
    const r = new NinePReader(bytes);
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true), bytes.length, 'the size field is the reply length');
    const errno = r.type === P9.RLERROR ? r.u32('ecode') : undefined;
    return { type: r.type, tag: r.tag, r, errno };
  }

  /** Sends and expects the R-message of `type` (fails the test on an Rlerror). */
  async ok(type: number, body: (w: NinePWriter) => void): Promise<NinePReader> {
    const rep = await this.send(type, body);
    assert.equal(rep.errno, undefined, `${type} answered Rlerror ${rep.errno}`);
    assert.equal(rep.type, type + 1);
    return rep.r;
  }

  /** Sends and expects an Rlerror; returns its errno. */
  async fails(type: number, body: (w: NinePWriter) => void): Promise<number> {
    const rep = await this.send(type, body);
    assert.equal(rep.type, P9.RLERROR, `expected Rlerror, got type ${rep.type}`);
    return rep.errno!;
  }

  async version(msize = 131072): Promise<number> {
    const r = await this.ok(P9.TVERSION, (w) => w.u32(msize).str('9P2000.L'));
    const m = r.u32('msize');
    assert.equal(r.str('version'), '9P2000.L');
    return m;
  }

  async attach(fid = 0): Promise<Qid> {
    const r = await this.ok(P9.TATTACH, (w) => w.u32(fid).u32(NOFID).str('root').str('').u32(0));
    return qid(r);
  }

  /** Twalk; returns the qids (fewer than names on a partial walk) or an errno. */
  async walk(fid: number, newfid: number, names: string[]): Promise<Qid[] | number> {
    const rep = await this.send(P9.TWALK, (w) => {
      w.u32(fid).u32(newfid).u16(names.length);
      for (const n of names) w.str(n);
    });
    if (rep.errno !== undefined) return rep.errno;
    const n = rep.r.u16('nwqid');
    return Array.from({ length: n }, () => qid(rep.r));
  }

  async lopen(fid: number, flags: number): Promise<Qid> {
    return qid(await this.ok(P9.TLOPEN, (w) => w.u32(fid).u32(flags)));
  }

  async lcreate(fid: number, name: string, flags = O.RDWR | O.CREAT, mode = 0o644): Promise<Qid> {
    return qid(await this.ok(P9.TLCREATE, (w) => w.u32(fid).str(name).u32(flags).u32(mode).u32(0)));
  }

  async read(fid: number, offset: number, count: number): Promise<Uint8Array> {
    const r = await this.ok(P9.TREAD, (w) => w.u32(fid).u64(offset).u32(count));
    const n = r.u32('count');
    return r.bytes(n, 'data').slice();
  }

  async write(fid: number, offset: number, data: Uint8Array): Promise<number> {
    const r = await this.ok(P9.TWRITE, (w) => w.u32(fid).u64(offset).u32(data.length).bytes(data));
    return r.u32('count');
  }

  async clunk(fid: number): Promise<void> {
    await this.ok(P9.TCLUNK, (w) => w.u32(fid));
  }

  async readdir(fid: number, offset = 0, count = 8192): Promise<DirEntry[]> {
    const r = await this.ok(P9.TREADDIR, (w) => w.u32(fid).u64(offset).u32(count));
    const n = r.u32('count');
    const end = r.offsetNow + n;
    const out: DirEntry[] = [];
    while (r.offsetNow < end) out.push({ qid: qid(r), offset: r.u64('offset'), type: r.u8('type'), name: r.str('name') });
    return out;
  }

  /** Every name in directory fid (opened here on a clone `tmp`). */
  async list(fid: number, tmp: number): Promise<string[]> {
    const w = await this.walk(fid, tmp, []);
    assert.ok(Array.isArray(w));
    await this.lopen(tmp, O.RDONLY | O.DIRECTORY);
    const names: string[] = [];
    let offset = 0n;
    for (;;) {
      const batch = await this.readdir(tmp, Number(offset), 512);
      if (batch.length === 0) break;
      for (const e of batch) names.push(e.name);
      offset = batch[batch.length - 1]!.offset;
    }
    await this.clunk(tmp);
    return names;
  }

  async getattr(fid: number): Promise<{ qid: Qid; mode: number; size: bigint }> {
    const r = await this.ok(P9.TGETATTR, (w) => w.u32(fid).u64(0x7ff));
    r.u64('valid');
    const q = qid(r);
    const mode = r.u32('mode');
    r.u32('uid');
    r.u32('gid');
    r.u64('nlink');
    r.u64('rdev');
    return { qid: q, mode, size: r.u64('size') };
  }
}

export function qid(r: NinePReader): Qid {
  return { type: r.u8('qid.type'), version: r.u32('qid.version'), path: r.u64('qid.path') };
}
