// The 9P mutation fuzzer: a session of valid T-messages (walks into links that point out of
// the share, creates, writes, renames, readdirs, ...) mutated byte by byte, field by field
// and name by name, sent to a NinePServer over a host directory. Every reply must be a
// well-formed R-message with the request's tag, every error a ShareError (Rlerror), the
// server must never throw, and a canary directory beside the share (which the share's links
// point into) must end exactly as it began. `fuzzNineP(count, seed)` is the entry point
// (tests/fuzz.ts, and a smaller count in ninePFuzz.test.ts).
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NinePReader, NinePServer, NinePWriter, P9 } from '../../src/share/index.ts';
import { HostDirShare } from '../../src/share/node.ts';
import { SeededRandom } from '../SeededRandom.ts';

export interface NinePFuzzStats {
  cases: number;
  /** Replies that were not Rlerror. */
  accepted: number;
  errnos: Map<number, number>;
  failures: string[];
}

const NOFID = 0xffff_ffff;
/** Names a hostile guest tries: links out of the share, escapes, and plain names. */
const NAMES = ['to-canary', 'canary-dir', 'dangling-out', 'up-rel', 'sub', 'f', 'g', 'new', '..', '.', '', '../canary', '/etc/passwd', 'a/b', 'x\0y', 'x'.repeat(300), 'canary', 'secret'];
const INTERESTING_U32 = [0, 1, 2, 3, 7, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 0x200, 0o100, 0o1000, 0o200000];

/** A canary beside the share, and links in the share that point into it. */
function plant(top: string): { share: string; canary: string } {
  const share = join(top, 'share');
  const canary = join(top, 'canary');
  mkdirSync(share);
  mkdirSync(join(canary, 'dir'), { recursive: true });
  writeFileSync(join(canary, 'secret'), 'canary secret\n');
  writeFileSync(join(canary, 'dir', 'inner'), 'canary inner\n');
  mkdirSync(join(share, 'sub'));
  writeFileSync(join(share, 'f'), 'inside\n');
  symlinkSync(join(canary, 'secret'), join(share, 'to-canary'));
  symlinkSync(canary, join(share, 'canary-dir'));
  symlinkSync(join(canary, 'made-by-guest'), join(share, 'dangling-out'));
  symlinkSync('../canary', join(share, 'up-rel'));
  symlinkSync('../../canary/dir', join(share, 'sub', 'deep-out'));
  return { share, canary };
}

/** Everything about the canary a guest could change: names, types, modes, sizes, times, bytes. */
function snapshot(top: string, canary: string): string {
  const lines = readdirSync(top).sort().map((n) => `top: ${n}`);
  for (const p of readdirSync(canary, { recursive: true }).map(String).sort()) {
    const st = lstatSync(join(canary, p));
    const hash = st.isFile() ? createHash('sha256').update(readFileSync(join(canary, p))).digest('hex') : '';
    lines.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${hash}`);
  }
  return lines.join('\n');
}

/** One valid-looking T-message of the session, fids and names drawn at random. */
function validMessage(rnd: SeededRandom, tag: number): Uint8Array {
  const fid = () => rnd.below(8);
  const name = () => rnd.pick(NAMES.slice(0, 8));
  const m = (type: number, body: (w: NinePWriter) => void) => {
    const w = new NinePWriter(type, tag);
    body(w);
    return w.finish();
  };
  switch (rnd.below(20)) {
    case 0: return m(P9.TVERSION, (w) => w.u32(rnd.pick([8192, 131072, 512000])).str('9P2000.L'));
    case 1: return m(P9.TATTACH, (w) => w.u32(fid()).u32(NOFID).str('root').str('').u32(0));
    case 2:
    case 3: {
      const names = Array.from({ length: rnd.below(4) }, name);
      return m(P9.TWALK, (w) => {
        w.u32(fid()).u32(fid()).u16(names.length);
        for (const n of names) w.str(n);
      });
    }
    case 4: return m(P9.TLOPEN, (w) => w.u32(fid()).u32(rnd.pick([0, 1, 2, 0o1002, 0o200000])));
    case 5: return m(P9.TLCREATE, (w) => w.u32(fid()).str(name()).u32(rnd.pick([0o102, 0o302, 0o1102])).u32(0o644).u32(0));
    case 6: return m(P9.TREAD, (w) => w.u32(fid()).u64(rnd.below(64)).u32(rnd.below(8192)));
    case 7: {
      const data = rnd.bytes(rnd.below(300));
      return m(P9.TWRITE, (w) => w.u32(fid()).u64(rnd.below(64)).u32(data.length).bytes(data));
    }
    case 8: return m(P9.TCLUNK, (w) => w.u32(fid()));
    case 9: return m(P9.TREADDIR, (w) => w.u32(fid()).u64(rnd.below(6)).u32(rnd.below(4096)));
    case 10: return m(P9.TGETATTR, (w) => w.u32(fid()).u64(0x3fff));
    case 11: return m(P9.TSETATTR, (w) => w.u32(fid()).u32(rnd.below(0x200)).u32(0o777).u32(0).u32(0).u64(rnd.below(100)).u64(0).u64(0).u64(1).u64(0));
    case 12: return m(P9.TMKDIR, (w) => w.u32(fid()).str(name()).u32(0o755).u32(0));
    case 13: return m(P9.TSYMLINK, (w) => w.u32(fid()).str(name()).str(rnd.pick(['/etc/passwd', '../canary', 'f'])).u32(0));
    case 14: return m(P9.TREADLINK, (w) => w.u32(fid()));
    case 15: return m(P9.TUNLINKAT, (w) => w.u32(fid()).str(name()).u32(rnd.pick([0, 0x200])));
    case 16: return m(P9.TRENAMEAT, (w) => w.u32(fid()).str(name()).u32(fid()).str(name()));
    case 17: return m(P9.TRENAME, (w) => w.u32(fid()).u32(fid()).str(name()));
    case 18: return m(P9.TREMOVE, (w) => w.u32(fid()));
    default: return m(rnd.pick([P9.TSTATFS, P9.TFSYNC, P9.TXATTRWALK, P9.TLINK, P9.TMKNOD, P9.TFLUSH]), (w) => w.u32(fid()).u32(fid()).str(name()));
  }
}

/** 1 to 3 mutations: bytes, u32 fields, the size field, the type, names, length. */
function mutate(rnd: SeededRandom, msg: Uint8Array): Uint8Array {
  let m = msg.slice();
  for (let k = rnd.int(1, 3); k > 0; k--) {
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    switch (rnd.below(7)) {
      case 0:
        if (m.length) m[rnd.below(m.length)] ^= 1 << rnd.below(8);
        break;
      case 1:
        if (m.length >= 4) v.setUint32(rnd.below(m.length - 3), rnd.pick(INTERESTING_U32), true);
        break;
      case 2:
        if (m.length >= 4) v.setUint32(0, rnd.pick([0, 6, 7, m.length - 1, m.length + 1, 0xffff_ffff, rnd.u32()]), true);
        break;
      case 3:
        if (m.length >= 5) m[4] = rnd.below(256);
        break;
      case 4: {
        // A name swapped in: re-encoded after the fixed fields of a Twalk-like layout.
        const hostile = new TextEncoder().encode(rnd.pick(NAMES));
        const at = Math.min(m.length, 7 + 4 * rnd.below(4));
        const out = new Uint8Array(at + 2 + hostile.length + 4);
        out.set(m.subarray(0, at));
        new DataView(out.buffer).setUint16(at, hostile.length, true);
        out.set(hostile, at + 2);
        new DataView(out.buffer).setUint32(0, out.length, true);
        m = out;
        break;
      }
      case 5:
        m = m.slice(0, rnd.below(m.length + 1));
        break;
      default: {
        const extra = rnd.bytes(rnd.below(40));
        const out = new Uint8Array(m.length + extra.length);
        out.set(m);
        out.set(extra, m.length);
        m = out;
      }
    }
  }
  return m;
}

/** A reply must be framed, typed as the request's R-message or Rlerror, with its tag. */
function checkReply(req: Uint8Array, reply: Uint8Array): string | undefined {
  if (reply.length < 7) return `a ${reply.length}-byte reply`;
  const size = new DataView(reply.buffer, reply.byteOffset).getUint32(0, true);
  if (size !== reply.length) return `reply size field ${size} for ${reply.length} bytes`;
  const r = new NinePReader(reply);
  if (r.type !== P9.RLERROR && (req.length < 7 || r.type !== req[4]! + 1)) return `reply type ${r.type} to request type ${req[4]}`;
  const wellFramed = req.length >= 7;
  if (wellFramed && r.tag !== (req[5]! | (req[6]! << 8))) return `reply tag ${r.tag}, request tag ${req[5]! | (req[6]! << 8)}`;
  if (r.type === P9.RLERROR && (reply.length !== 11 || r.u32('ecode') === 0)) return 'a malformed Rlerror';
  return undefined;
}

export async function fuzzNineP(count: number, seed: number): Promise<NinePFuzzStats> {
  const top = mkdtempSync(join(tmpdir(), 'romvisor-9pfuzz-'));
  const stats: NinePFuzzStats = { cases: 0, accepted: 0, errnos: new Map(), failures: [] };
  try {
    const { share, canary } = plant(top);
    const before = snapshot(top, canary);
    const server = new NinePServer(await HostDirShare.open(share), { maxFids: 64, maxOpen: 16 });
    let current = '';
    server.onUnexpectedError = (e) => stats.failures.push(`case ${current}: an error that is not a ShareError: ${(e as Error)?.stack ?? String(e)}`);
    const rnd = new SeededRandom(seed);
    const send = async (msg: Uint8Array) => {
      let reply: Uint8Array;
      try {
        reply = await server.handle(msg, rnd.pick([11, 64, 4096, 1 << 20]));
      } catch (e) {
        stats.failures.push(`case ${current}: the server threw: ${(e as Error)?.stack ?? String(e)}`);
        return;
      }
      if (reply.length === 0) return; // no room for even an Rlerror: answered with nothing
      const bad = checkReply(msg, reply);
      if (bad) stats.failures.push(`case ${current}: ${bad}; request ${Buffer.from(msg).toString('hex').slice(0, 120)}`);
      if (reply[4] === P9.RLERROR) {
        const e = new DataView(reply.buffer, reply.byteOffset).getUint32(7, true);
        stats.errnos.set(e, (stats.errnos.get(e) ?? 0) + 1);
      } else {
        stats.accepted++;
      }
    };
    // A fresh session with fids on the root, a directory, a file and the links out (some
    // opened), for the mutated requests to aim at.
    const session = async () => {
      const rpc = (type: number, body: (w: NinePWriter) => void) => {
        const w = new NinePWriter(type, 1);
        body(w);
        return server.handle(w.finish(), 1 << 20);
      };
      const walk = (fid: number, names: string[]) =>
        rpc(P9.TWALK, (w) => {
          w.u32(0).u32(fid).u16(names.length);
          for (const n of names) w.str(n);
        });
      await rpc(P9.TVERSION, (w) => w.u32(131072).str('9P2000.L'));
      await rpc(P9.TATTACH, (w) => w.u32(0).u32(NOFID).str('').str('').u32(0));
      const fids: string[][] = [['sub'], ['f'], ['to-canary'], ['canary-dir'], ['sub', 'deep-out'], [], ['up-rel']];
      for (const [i, names] of fids.entries()) await walk(i + 1, names);
      await rpc(P9.TLOPEN, (w) => w.u32(2).u32(2));
      await rpc(P9.TLOPEN, (w) => w.u32(1).u32(0o200000));
    };
    await session();
    for (let i = 0; i < count; i++) {
      current = `${seed}:${i}`;
      if (rnd.below(40) === 0) await session();
      const valid = validMessage(rnd, rnd.below(0x10000));
      // A third go unmutated, so the session gets somewhere (fids, open files) to attack from.
      await send(rnd.below(3) === 0 ? valid : mutate(rnd, valid));
      stats.cases++;
    }
    await server.reset();
    const after = snapshot(top, canary);
    if (after !== before) stats.failures.push(`the canary outside the share changed:\n--- before\n${before}\n--- after\n${after}`);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
  return stats;
}
