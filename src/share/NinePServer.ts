/**
 * A 9P2000.L file server over a ShareBackend: what QEMU's `-virtfs local,security_model=none`
 * is to a host directory, for the guest's v9fs client behind virtio-9p.
 *
 * Everything in a request is hostile. The server is where names are checked (no `/`, NUL,
 * `.` or empty name reaches a backend; `..` is resolved here, and at the root stays at the
 * root), where fids live (a fid is a path under the root, never a host path), and where
 * every size is bounded (msize, names, path depth, fids, open files). Symbolic links are
 * leaves: a walk stops at one and readlink hands its text to the guest, which resolves it
 * in its own namespace. Each request gets a reply: a refused one an Rlerror with a Linux
 * errno (the ShareError's), a malformed one EPROTO, an unknown or legacy 9P2000 one
 * EOPNOTSUPP; link and mknod are refused with EPERM, xattrs with EOPNOTSUPP.
 *
 * Requests run one at a time, in the order they arrived: a guest cannot race its own
 * requests (so a directory checked by a backend is still one when it is used), and two runs
 * that send the same requests see the same results in the same order, which deterministic
 * time needs.
 */
import { checkName, type ShareBackend, type ShareDirEntry, type ShareHandle, type ShareKind, type SharePath, type ShareStat } from './ShareBackend.ts';
import { ShareError } from './ShareError.ts';
import type { NinePSession } from '../machine/virtio/Virtio9p.ts';
import { HEADER_BYTES, messageName, NinePReader, NinePWriter, P9, QID_BYTES, QTDIR, QTFILE, QTSYMLINK, strBytes, type Qid } from './NinePMessage.ts';

/** The largest msize the server agrees to: Linux's virtio transport asks for at most ~500 KiB. */
export const MAX_MSIZE = 1024 * 1024;
/** The smallest: room for a Twalk of 16 long names or a readlink of PATH_MAX. */
export const MIN_MSIZE = 4096;
/** msize until Tversion sets it. */
const DEFAULT_MSIZE = 8192;
/** Names in a Twalk (9P's MAXWELEM). */
const MAX_WALK_NAMES = 16;
/** Bytes in one name (NAME_MAX). */
const MAX_NAME_BYTES = 255;
/** Bytes in a symbolic link's text (PATH_MAX - 1). */
const MAX_LINK_BYTES = 4095;
/** Levels below the root a fid may reach. */
const MAX_DEPTH = 255;
const DEFAULT_MAX_FIDS = 8192;
const DEFAULT_MAX_OPEN = 1024;
/** Directory entries listed per directory, so one huge directory cannot exhaust the host. */
const MAX_LISTED = 100_000;

const NOFID = 0xffff_ffff;
const NOTAG = 0xffff;
/** f_type of a 9p mount (V9FS_MAGIC). */
const V9FS_MAGIC = 0x01021997;

// Linux open(2) flags as 9P2000.L carries them (P9_DOTL_*, the generic Linux values).
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDONLY = 0;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
// Tsetattr valid bits.
const SETATTR_MODE = 0x1;
const SETATTR_SIZE = 0x8;
const SETATTR_ATIME = 0x10;
const SETATTR_MTIME = 0x20;
const SETATTR_ATIME_SET = 0x80;
const SETATTR_MTIME_SET = 0x100;
/** Tgetattr: the fields up to `blocks`, all the server fills in. */
const GETATTR_BASIC = 0x7ffn;
/** Tunlinkat flag. */
const AT_REMOVEDIR = 0x200;
// st_mode type bits and readdir d_type values, per kind. A special file on the host is shown
// as a fifo: the guest then never asks the host to open it.
const S_IF: Record<ShareKind, number> = { file: 0o100000, dir: 0o040000, symlink: 0o120000, other: 0o010000 };
const DT: Record<ShareKind, number> = { file: 8, dir: 4, symlink: 10, other: 1 };

interface Fid {
  path: string[];
  /** Set by lopen/lcreate. */
  open?: { kind: 'file'; handle: ShareHandle } | { kind: 'dir'; listing?: ListedEntry[] };
}

interface ListedEntry {
  name: string;
  kind: ShareKind;
  id: bigint;
}

export interface NinePServerOptions {
  /** The largest msize agreed (default MAX_MSIZE). */
  maxMsize?: number;
  /** Fids at once (default 8192): beyond, EMFILE. */
  maxFids?: number;
  /** Open files at once (default 1024): beyond, EMFILE. */
  maxOpen?: number;
}

/** Running totals, for benchmarks and tests. */
export interface NinePServerStats {
  requests: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
}

export class NinePServer {
  private msizeNow = DEFAULT_MSIZE;
  private versioned = false;
  private readonly fids = new Map<number, Fid>();
  private openFiles = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxMsize: number;
  private readonly maxFids: number;
  private readonly maxOpen: number;
  readonly stats: NinePServerStats = { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };
  /**
   * Told of every error that is not a ShareError (a backend bug, a host failure): the guest
   * gets EIO for it, and the host should hear of it.
   */
  onUnexpectedError: ((error: unknown) => void) | undefined;

  constructor(
    readonly backend: ShareBackend,
    opts: NinePServerOptions = {},
  ) {
    this.maxMsize = Math.max(MIN_MSIZE, Math.min(opts.maxMsize ?? MAX_MSIZE, MAX_MSIZE));
    this.maxFids = opts.maxFids ?? DEFAULT_MAX_FIDS;
    this.maxOpen = opts.maxOpen ?? DEFAULT_MAX_OPEN;
  }

  /** The msize agreed with the client (before Tversion, 8192). */
  get msize(): number {
    return this.msizeNow;
  }

  /** The largest request the server may accept: what a transport needs to read of one. */
  get maxRequestBytes(): number {
    return this.versioned ? this.msizeNow : this.maxMsize;
  }

  /** Fids the client holds. */
  get fidCount(): number {
    return this.fids.size;
  }

  /**
   * Answers one T-message with its R-message, at most `replyRoom` bytes (the buffer the
   * client gave for it). Never rejects: whatever the request, the reply is a well-formed
   * message, or empty when even an Rlerror does not fit in `replyRoom`.
   */
  handle(request: Uint8Array, replyRoom: number): Promise<Uint8Array> {
    const run = this.queue.then(() => this.answer(request, replyRoom));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drops every fid and closes every open file (the transport was reset), after the requests before it. */
  reset(): Promise<void> {
    const run = this.queue.then(() => this.clunkAll());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The session for a machine state: fids are paths under the root, so a session holding no
   * open file is data. The caller has let every request settle (Vm.captureState).
   */
  captureSession(): NinePSession | { unsavable: string } {
    const open = [...this.fids.values()].filter((f) => f.open).length;
    if (open > 0) return { unsavable: `the guest has ${open} file${open > 1 ? 's' : ''} of the shared folder open` };
    return { msize: this.msizeNow, versioned: this.versioned, fids: [...this.fids].map(([fid, f]) => ({ fid, path: [...f.path] })) };
  }

  /** Puts a captured session back (a restored machine's guest goes on using its fids); checks it all first. */
  restoreSession(s: NinePSession): void {
    if (this.fids.size > 0) throw new ShareError('EBUSY', 'a 9P session is restored only into a server that has none');
    if (!Number.isInteger(s.msize) || s.msize < MIN_MSIZE || s.msize > this.maxMsize) throw new ShareError('EINVAL', `restored 9P session: msize ${s.msize} is not ${MIN_MSIZE}..${this.maxMsize}`);
    if (s.fids.length > this.maxFids) throw new ShareError('EMFILE', `restored 9P session: ${s.fids.length} fids, more than the ${this.maxFids} the server keeps`);
    const seen = new Set<number>();
    for (const { fid, path } of s.fids) {
      if (!Number.isInteger(fid) || fid < 0 || fid >= NOFID || seen.has(fid)) throw new ShareError('EBADF', `restored 9P session: fid ${fid} is not a free 32-bit fid`);
      seen.add(fid);
      if (path.length > MAX_DEPTH) throw new ShareError('ENAMETOOLONG', `restored 9P session: fid ${fid}'s path is ${path.length} levels deep`);
      path.forEach((name) => checkName(name, `restored 9P session: fid ${fid}'s path`));
    }
    for (const { fid, path } of s.fids) this.fids.set(fid, { path: [...path] });
    this.msizeNow = s.msize;
    this.versioned = s.versioned;
  }

  private async clunkAll(): Promise<void> {
    const open = [...this.fids.values()];
    this.fids.clear();
    this.versioned = false;
    this.msizeNow = DEFAULT_MSIZE;
    for (const f of open) await this.close(f);
  }

  private async answer(request: Uint8Array, replyRoom: number): Promise<Uint8Array> {
    this.stats.requests++;
    const room = Math.min(replyRoom, this.versioned ? this.msizeNow : this.maxMsize);
    let tag = NOTAG;
    let reply: Uint8Array;
    try {
      if (request.length < HEADER_BYTES) throw new ShareError('EPROTO', `a ${request.length}-byte request is shorter than the 7-byte header`);
      tag = request[5]! | (request[6]! << 8);
      const size = new DataView(request.buffer, request.byteOffset, 4).getUint32(0, true);
      if (size > this.maxRequestBytes) throw new ShareError('EMSGSIZE', `${messageName(request[4]!)} at offset 0: size ${size} is more than msize ${this.maxRequestBytes}`);
      if (size < HEADER_BYTES || size > request.length) throw new ShareError('EPROTO', `${messageName(request[4]!)} at offset 0: size ${size} does not fit the ${request.length} bytes the transport holds`);
      const r = new NinePReader(request.subarray(0, size));
      if (!this.versioned && r.type !== P9.TVERSION) throw new ShareError('EPROTO', `${messageName(r.type)} before Tversion`);
      reply = await this.dispatch(r, room);
      if (reply.length > room) throw new ShareError('ERANGE', `${messageName(r.type)}: the ${reply.length}-byte reply does not fit the ${room} bytes the client gave`);
    } catch (e) {
      this.stats.errors++;
      if (!(e instanceof ShareError)) this.onUnexpectedError?.(e);
      const errno = e instanceof ShareError ? e.errno : ShareError.from(e, 'request').errno;
      reply = new NinePWriter(P9.RLERROR, tag, 11).u32(errno).finish();
      if (reply.length > room) return new Uint8Array(0);
    }
    return reply;
  }

  private dispatch(r: NinePReader, room: number): Promise<Uint8Array> | Uint8Array {
    switch (r.type) {
      case P9.TVERSION: return this.version(r);
      case P9.TATTACH: return this.attach(r);
      case P9.TWALK: return this.walk(r);
      case P9.TGETATTR: return this.getattr(r);
      case P9.TSETATTR: return this.setattr(r);
      case P9.TLOPEN: return this.lopen(r);
      case P9.TLCREATE: return this.lcreate(r);
      case P9.TREAD: return this.read(r, room);
      case P9.TWRITE: return this.write(r);
      case P9.TCLUNK: return this.clunk(r);
      case P9.TREMOVE: return this.remove(r);
      case P9.TREADDIR: return this.readdir(r, room);
      case P9.TMKDIR: return this.mkdir(r);
      case P9.TSYMLINK: return this.symlink(r);
      case P9.TREADLINK: return this.readlink(r);
      case P9.TUNLINKAT: return this.unlinkat(r);
      case P9.TRENAMEAT: return this.renameat(r);
      case P9.TRENAME: return this.rename(r);
      case P9.TSTATFS: return this.statfs(r);
      case P9.TFSYNC: return this.fsync(r);
      case P9.TFLUSH:
        // Requests run in order, so the one flushed has been answered already.
        r.u16('oldtag');
        return this.reply(r, P9.TFLUSH).finish();
      case P9.TLOCK: return this.lock(r);
      case P9.TGETLOCK: return this.getlock(r);
      case P9.TLINK:
        throw new ShareError('EPERM', 'Tlink: hard links are not made in a shared folder');
      case P9.TMKNOD:
        throw new ShareError('EPERM', 'Tmknod: device nodes and fifos are not made in a shared folder');
      case P9.TXATTRWALK:
      case P9.TXATTRCREATE:
        throw new ShareError('EOPNOTSUPP', `${messageName(r.type)}: a shared folder has no extended attributes`);
      case P9.TAUTH:
        throw new ShareError('EOPNOTSUPP', 'Tauth: the share needs no authentication');
      default:
        throw new ShareError('EOPNOTSUPP', `${messageName(r.type)} (type ${r.type}) is not a 9P2000.L request the server answers`);
    }
  }

  private reply(r: NinePReader, tType: number, initial = 32): NinePWriter {
    return new NinePWriter(tType + 1, r.tag, initial);
  }

  // --- fids and names

  private fid(r: NinePReader, field = 'fid'): Fid {
    return this.numberedFid(r, field)[1];
  }

  private numberedFid(r: NinePReader, field: string): [number, Fid] {
    const at = r.offsetNow;
    const n = r.u32(field);
    const f = this.fids.get(n);
    if (!f) throw new ShareError('EBADF', `${messageName(r.type)} at offset ${at}: ${field} ${n} is not in use`);
    return [n, f];
  }

  /** A fid number the request wants to create: free (or `same`, which it replaces), and within bounds. */
  private newFid(r: NinePReader, n: number, at: number, same?: number): void {
    if (n === NOFID) throw new ShareError('EBADF', `${messageName(r.type)} at offset ${at}: fid ${n} is NOFID`);
    if (n !== same && this.fids.has(n)) throw new ShareError('EBADF', `${messageName(r.type)} at offset ${at}: fid ${n} is already in use`);
    if (n !== same && this.fids.size >= this.maxFids) throw new ShareError('EMFILE', `${messageName(r.type)}: ${this.fids.size} fids in use, the most the server keeps`);
  }

  /** A name to create or look up in a directory: one path element, never `.` or `..`. */
  private name(r: NinePReader, field = 'name'): string {
    const at = r.offsetNow;
    const name = r.str(field, MAX_NAME_BYTES);
    checkName(name, `${messageName(r.type)} at offset ${at}: ${field}`);
    return name;
  }

  private child(dir: Fid, name: string, what: string): string[] {
    if (dir.path.length >= MAX_DEPTH) throw new ShareError('ENAMETOOLONG', `${what}: the path is already ${MAX_DEPTH} levels deep`);
    return [...dir.path, name];
  }

  private async stat(path: SharePath): Promise<ShareStat> {
    return this.backend.stat(path);
  }

  // --- the requests

  private async version(r: NinePReader): Promise<Uint8Array> {
    const msize = r.u32('msize');
    const version = r.str('version', 64);
    // A new session: every fid of the old one is gone.
    await this.clunkAll();
    if (msize < MIN_MSIZE) throw new ShareError('EINVAL', `Tversion at offset 7: msize ${msize} is below the minimum ${MIN_MSIZE}`);
    this.msizeNow = Math.min(msize, this.maxMsize);
    const ok = version === '9P2000.L' || version.startsWith('9P2000.L.');
    this.versioned = ok;
    return this.reply(r, P9.TVERSION).u32(this.msizeNow).str(ok ? '9P2000.L' : 'unknown').finish();
  }

  private async attach(r: NinePReader): Promise<Uint8Array> {
    const at = r.offsetNow;
    const n = r.u32('fid');
    const afid = r.u32('afid');
    r.str('uname');
    r.str('aname');
    r.u32('n_uname');
    if (afid !== NOFID) throw new ShareError('EINVAL', `Tattach at offset ${at + 4}: afid ${afid} is not NOFID; the share needs no authentication`);
    this.newFid(r, n, at);
    const st = await this.stat([]);
    this.fids.set(n, { path: [] });
    return this.reply(r, P9.TATTACH).qid(qidOf(st)).finish();
  }

  private async walk(r: NinePReader): Promise<Uint8Array> {
    const [fidNumber, from] = this.numberedFid(r, 'fid');
    const at = r.offsetNow;
    const newfid = r.u32('newfid');
    const count = r.u16('nwname');
    if (count > MAX_WALK_NAMES) throw new ShareError('EINVAL', `Twalk at offset ${at + 4}: nwname ${count} is more than ${MAX_WALK_NAMES}`);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const nameAt = r.offsetNow;
      const name = r.str(`wname[${i}]`, MAX_NAME_BYTES);
      if (name !== '..') checkName(name, `Twalk at offset ${nameAt}: wname[${i}]`);
      names.push(name);
    }
    this.newFid(r, newfid, at, fidNumber);
    const path = [...from.path];
    const qids: Qid[] = [];
    let kind: ShareKind | undefined;
    for (const [i, name] of names.entries()) {
      try {
        // Only a directory is walked from; a symbolic link is a leaf like a file.
        kind ??= (await this.stat(path)).kind;
        if (kind !== 'dir') throw new ShareError('ENOTDIR', `Twalk: wname[${i}] "${name}" is looked up in a ${kind}, not a directory`);
        if (name === '..') {
          path.pop(); // at the root, `..` is the root
        } else {
          if (path.length >= MAX_DEPTH) throw new ShareError('ENAMETOOLONG', `Twalk: wname[${i}] would go deeper than ${MAX_DEPTH} levels`);
          path.push(name);
        }
        const st = await this.stat(path);
        kind = st.kind;
        qids.push(qidOf(st));
      } catch (e) {
        // The first name failing fails the walk; a later one ends it with the qids so far.
        if (i === 0) throw e;
        break;
      }
    }
    if (qids.length === names.length) {
      if (newfid === fidNumber) {
        from.path = path;
      } else {
        this.fids.set(newfid, { path });
      }
    }
    const w = this.reply(r, P9.TWALK, 9 + QID_BYTES * qids.length).u16(qids.length);
    for (const q of qids) w.qid(q);
    return w.finish();
  }

  private async getattr(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    r.u64('request_mask');
    const st = f.open?.kind === 'file' ? await f.open.handle.stat() : await this.stat(f.path);
    const sec = (ns: bigint) => ns / 1_000_000_000n;
    const nsec = (ns: bigint) => ns % 1_000_000_000n;
    // Owner and group read as the guest's root: the share is the guest user's own folder.
    return this.reply(r, P9.TGETATTR, 160)
      .u64(GETATTR_BASIC)
      .qid(qidOf(st))
      .u32(S_IF[st.kind] | (st.kind === 'other' ? 0 : st.mode & 0o7777))
      .u32(0)
      .u32(0)
      .u64(st.nlink)
      .u64(0)
      .u64(st.size)
      .u64(4096)
      .u64(st.blocks)
      .u64(sec(st.atimeNs)).u64(nsec(st.atimeNs))
      .u64(sec(st.mtimeNs)).u64(nsec(st.mtimeNs))
      .u64(sec(st.ctimeNs)).u64(nsec(st.ctimeNs))
      .u64(0).u64(0)
      .u64(0).u64(0)
      .finish();
  }

  private async setattr(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    const valid = r.u32('valid');
    const mode = r.u32('mode');
    r.u32('uid');
    r.u32('gid');
    const size = r.offset('size');
    const atime = r.u64('atime_sec') * 1_000_000_000n + (r.u64('atime_nsec') % 1_000_000_000n);
    const mtime = r.u64('mtime_sec') * 1_000_000_000n + (r.u64('mtime_nsec') % 1_000_000_000n);
    const changes: Parameters<ShareBackend['setattr']>[1] = {};
    if (valid & SETATTR_MODE) changes.mode = mode & 0o7777;
    if (valid & SETATTR_SIZE) changes.size = size;
    if (valid & SETATTR_ATIME) changes.atimeNs = valid & SETATTR_ATIME_SET ? atime : 'now';
    if (valid & SETATTR_MTIME) changes.mtimeNs = valid & SETATTR_MTIME_SET ? mtime : 'now';
    // uid and gid are not changed (as security_model=none ignores a failing chown); ctime follows by itself.
    if (changes.size !== undefined && f.open?.kind === 'file') {
      // An open file may have been renamed or unlinked since: truncate what was opened.
      await f.open.handle.truncate(changes.size);
      delete changes.size;
    }
    if (Object.keys(changes).length > 0) await this.backend.setattr(f.path, changes);
    return this.reply(r, P9.TSETATTR).finish();
  }

  private async lopen(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    const flags = r.u32('flags');
    if (f.open) throw new ShareError('EBADF', `Tlopen: the fid is already open`);
    const st = await this.stat(f.path);
    const access = flags & O_ACCMODE;
    if (st.kind === 'dir') {
      if (access !== O_RDONLY) throw new ShareError('EISDIR', `Tlopen: a directory opened for writing (flags ${flags.toString(8)})`);
      f.open = { kind: 'dir' };
      return this.reply(r, P9.TLOPEN).qid(qidOf(st)).u32(0).finish();
    }
    if (st.kind === 'symlink') throw new ShareError('ELOOP', `Tlopen: "${f.path.join('/')}" is a symbolic link, which the server does not follow`);
    if (st.kind !== 'file') throw new ShareError('EACCES', `Tlopen: "${f.path.join('/')}" is a special file, which the server does not open`);
    this.countOpen();
    let handle: ShareHandle;
    try {
      handle = await this.backend.open(f.path, { read: access !== O_WRONLY, write: access !== O_RDONLY, truncate: (flags & O_TRUNC) !== 0 && access !== O_RDONLY });
    } catch (e) {
      this.openFiles--;
      throw e;
    }
    f.open = { kind: 'file', handle };
    return this.reply(r, P9.TLOPEN).qid(qidOf(await handle.stat())).u32(0).finish();
  }

  private countOpen(): void {
    if (this.openFiles >= this.maxOpen) throw new ShareError('EMFILE', `${this.openFiles} files are open, the most the server keeps`);
    this.openFiles++;
  }

  private async lcreate(r: NinePReader): Promise<Uint8Array> {
    const dir = this.fid(r);
    const name = this.name(r);
    const flags = r.u32('flags');
    const mode = r.u32('mode');
    r.u32('gid');
    if (dir.open) throw new ShareError('EBADF', 'Tlcreate: the directory fid is open');
    const path = this.child(dir, name, 'Tlcreate');
    this.countOpen();
    let handle: ShareHandle;
    try {
      handle = await this.backend.create(path, mode & 0o7777, (flags & O_EXCL) !== 0);
      if (flags & O_TRUNC) await handle.truncate(0);
    } catch (e) {
      this.openFiles--;
      throw e;
    }
    dir.path = path;
    dir.open = { kind: 'file', handle };
    return this.reply(r, P9.TLCREATE).qid(qidOf(await handle.stat())).u32(0).finish();
  }

  private openFile(f: Fid, what: string): ShareHandle {
    if (f.open?.kind === 'file') return f.open.handle;
    throw new ShareError(f.open?.kind === 'dir' ? 'EISDIR' : 'EBADF', `${what}: the fid is ${f.open ? 'an open directory' : 'not open'}`);
  }

  private async read(r: NinePReader, room: number): Promise<Uint8Array> {
    const f = this.fid(r);
    const offset = r.offset('offset');
    const count = Math.min(r.u32('count'), room - HEADER_BYTES - 4);
    const handle = this.openFile(f, 'Tread');
    const data = count > 0 ? await handle.read(offset, count) : new Uint8Array(0);
    this.stats.bytesRead += data.length;
    return this.reply(r, P9.TREAD, HEADER_BYTES + 4 + data.length).u32(data.length).bytes(data).finish();
  }

  private async write(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    const offset = r.offset('offset');
    const at = r.offsetNow;
    const count = r.u32('count');
    if (count !== r.remaining) throw new ShareError('EPROTO', `Twrite at offset ${at}: count ${count} but ${r.remaining} bytes of data follow`);
    const data = r.bytes(count, 'data');
    const handle = this.openFile(f, 'Twrite');
    const written = count > 0 ? await handle.write(offset, data) : 0;
    this.stats.bytesWritten += written;
    return this.reply(r, P9.TWRITE).u32(written).finish();
  }

  private async close(f: Fid): Promise<void> {
    const open = f.open;
    f.open = undefined;
    if (open?.kind !== 'file') return;
    this.openFiles--;
    await open.handle.close();
  }

  private async clunk(r: NinePReader): Promise<Uint8Array> {
    const at = r.offsetNow;
    const n = r.u32('fid');
    const f = this.fids.get(n);
    if (!f) throw new ShareError('EBADF', `Tclunk at offset ${at}: fid ${n} is not in use`);
    this.fids.delete(n);
    await this.close(f);
    return this.reply(r, P9.TCLUNK).finish();
  }

  private async remove(r: NinePReader): Promise<Uint8Array> {
    const at = r.offsetNow;
    const n = r.u32('fid');
    const f = this.fids.get(n);
    if (!f) throw new ShareError('EBADF', `Tremove at offset ${at}: fid ${n} is not in use`);
    // The fid is clunked whether or not the remove succeeds.
    this.fids.delete(n);
    await this.close(f);
    if (f.path.length === 0) throw new ShareError('EBUSY', 'Tremove: the share\'s root is not removed');
    const st = await this.stat(f.path);
    await this.backend.remove(f.path, st.kind === 'dir');
    return this.reply(r, P9.TREMOVE).finish();
  }

  private async readdir(r: NinePReader, room: number): Promise<Uint8Array> {
    const f = this.fid(r);
    const offset = r.offset('offset');
    const count = Math.min(r.u32('count'), room - HEADER_BYTES - 4);
    if (f.open?.kind !== 'dir') throw new ShareError(f.open ? 'ENOTDIR' : 'EBADF', `Treaddir: the fid is ${f.open ? 'an open file' : 'not open'}`);
    // A listing is taken at offset 0 and served from until the next rewind, so that entries
    // keep their offsets while the guest reads on (and their order is the same every run).
    if (offset === 0 || !f.open.listing) f.open.listing = await this.listing(f.path);
    const listing = f.open.listing;
    const w = this.reply(r, P9.TREADDIR, Math.min(count, 8192) + 16);
    const countAt = w.placeholder32();
    let used = 0;
    for (let i = offset; i < listing.length; i++) {
      const e = listing[i]!;
      const bytes = QID_BYTES + 8 + 1 + strBytes(e.name);
      if (used + bytes > count) break;
      w.qid({ type: qidType(e.kind), version: 0, path: e.id }).u64(i + 1).u8(DT[e.kind]).str(e.name);
      used += bytes;
    }
    w.set32(countAt, used);
    return w.finish();
  }

  private async listing(path: SharePath): Promise<ListedEntry[]> {
    const self = await this.stat(path);
    if (self.kind !== 'dir') throw new ShareError('ENOTDIR', 'Treaddir: no longer a directory');
    const parent = path.length === 0 ? self : await this.stat(path.slice(0, -1));
    const entries: ShareDirEntry[] = await this.backend.list(path);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: ListedEntry[] = [
      { name: '.', kind: 'dir', id: self.id },
      { name: '..', kind: 'dir', id: parent.id },
    ];
    for (const e of entries.slice(0, MAX_LISTED)) out.push({ name: e.name, kind: e.stat.kind, id: e.stat.id });
    return out;
  }

  private async mkdir(r: NinePReader): Promise<Uint8Array> {
    const dir = this.fid(r, 'dfid');
    const name = this.name(r);
    const mode = r.u32('mode');
    r.u32('gid');
    const path = this.child(dir, name, 'Tmkdir');
    await this.backend.mkdir(path, mode & 0o7777);
    return this.reply(r, P9.TMKDIR).qid(qidOf(await this.stat(path))).finish();
  }

  private async symlink(r: NinePReader): Promise<Uint8Array> {
    const dir = this.fid(r);
    const name = this.name(r);
    const at = r.offsetNow;
    const target = r.str('symtgt', MAX_LINK_BYTES);
    r.u32('gid');
    if (target.length === 0) throw new ShareError('ENOENT', `Tsymlink at offset ${at}: symtgt is empty`);
    if (target.includes('\0')) throw new ShareError('EINVAL', `Tsymlink at offset ${at}: symtgt holds a NUL byte`);
    const path = this.child(dir, name, 'Tsymlink');
    await this.backend.symlink(path, target);
    return this.reply(r, P9.TSYMLINK).qid(qidOf(await this.stat(path))).finish();
  }

  private async readlink(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    const target = await this.backend.readlink(f.path);
    return this.reply(r, P9.TREADLINK, 16 + target.length * 3).str(target).finish();
  }

  private async unlinkat(r: NinePReader): Promise<Uint8Array> {
    const dir = this.fid(r, 'dirfd');
    const name = this.name(r);
    const flags = r.u32('flags');
    await this.backend.remove(this.child(dir, name, 'Tunlinkat'), (flags & AT_REMOVEDIR) !== 0);
    return this.reply(r, P9.TUNLINKAT).finish();
  }

  private async renameat(r: NinePReader): Promise<Uint8Array> {
    const oldDir = this.fid(r, 'olddirfid');
    const oldName = this.name(r, 'oldname');
    const newDir = this.fid(r, 'newdirfid');
    const newName = this.name(r, 'newname');
    await this.move(this.child(oldDir, oldName, 'Trenameat'), this.child(newDir, newName, 'Trenameat'));
    return this.reply(r, P9.TRENAMEAT).finish();
  }

  private async rename(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    const dir = this.fid(r, 'dfid');
    const name = this.name(r);
    if (f.path.length === 0) throw new ShareError('EBUSY', 'Trename: the share\'s root is not renamed');
    await this.move(f.path, this.child(dir, name, 'Trename'));
    return this.reply(r, P9.TRENAME).finish();
  }

  /** Renames in the backend, then moves every fid at or below `from` along with it. */
  private async move(from: string[], to: string[]): Promise<void> {
    if (to.length > from.length && from.every((n, i) => to[i] === n)) {
      throw new ShareError('EINVAL', `rename of "${from.join('/')}" into itself ("${to.join('/')}")`);
    }
    await this.backend.rename(from, to);
    for (const f of this.fids.values()) {
      if (f.path.length >= from.length && from.every((n, i) => f.path[i] === n)) {
        // A fid pushed beyond MAX_DEPTH keeps working; only new names below it are refused.
        f.path = [...to, ...f.path.slice(from.length)];
      }
    }
  }

  private async statfs(r: NinePReader): Promise<Uint8Array> {
    this.fid(r);
    const s = await this.backend.statfs();
    return this.reply(r, P9.TSTATFS, 80)
      .u32(V9FS_MAGIC)
      .u32(s.blockSize)
      .u64(s.blocks)
      .u64(s.blocksFree)
      .u64(s.blocksFree)
      .u64(s.files)
      .u64(s.filesFree)
      .u64(0)
      .u32(MAX_NAME_BYTES)
      .finish();
  }

  private async fsync(r: NinePReader): Promise<Uint8Array> {
    const f = this.fid(r);
    // datasync[4] follows in newer clients; either way the whole file is made durable.
    if (f.open?.kind === 'file') await f.open.handle.sync();
    return this.reply(r, P9.TFSYNC).finish();
  }

  /** POSIX locks: the guest is the share's only client, so every lock is granted. */
  private lock(r: NinePReader): Uint8Array {
    this.fid(r);
    r.u8('type');
    r.u32('flags');
    r.u64('start');
    r.u64('length');
    r.u32('proc_id');
    r.str('client_id');
    return this.reply(r, P9.TLOCK).u8(0).finish();
  }

  private getlock(r: NinePReader): Uint8Array {
    this.fid(r);
    r.u8('type');
    const start = r.u64('start');
    const length = r.u64('length');
    const proc = r.u32('proc_id');
    const client = r.str('client_id', 256);
    const F_UNLCK = 2;
    return this.reply(r, P9.TGETLOCK).u8(F_UNLCK).u64(start).u64(length).u32(proc).str(client).finish();
  }
}

function qidType(kind: ShareKind): number {
  return kind === 'dir' ? QTDIR : kind === 'symlink' ? QTSYMLINK : QTFILE;
}

function qidOf(st: ShareStat): Qid {
  return { type: qidType(st.kind), version: 0, path: st.id };
}
