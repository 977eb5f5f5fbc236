/**
 * A host directory as a shared folder (node): `romvisor boot --share DIR`, read-write like
 * QEMU's `-virtfs local,security_model=none`.
 *
 * Confinement: nothing outside DIR is read, written, created or listed.
 * - Names reach here checked (checkName, by NinePServer and again in resolve): no `/`, NUL, `.`, `..`.
 * - No symbolic link on the host is ever followed. Every directory on a path is lstat'ed and
 *   must be a directory, not a link to one; the last name is used with calls that do not
 *   follow it (lstat, readlink, unlink, rmdir, rename, mkdir, symlink, lutimes) or opened with
 *   O_NOFOLLOW (a link there fails with ELOOP), and an opened object is checked with fstat
 *   to be the regular file (or directory) that was looked at.
 * - Special files (fifos, devices, sockets) are never opened: a device node in the folder
 *   would read outside it, a fifo would block a host thread.
 * The server runs one request at a time, so the guest cannot swap a directory for a link
 * between the check and the use. XXX: a host process writing into DIR at the same moment
 * could; closing that needs openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), which node does
 * not offer.
 */
import { constants, type BigIntStats } from 'node:fs';
import { lstat, lutimes, mkdir, open, readdir, readlink, realpath, rename, rmdir, statfs, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { checkName, type ShareAttrChanges, type ShareBackend, type ShareDirEntry, type ShareFsStat, type ShareHandle, type ShareKind, type ShareOpenMode, type SharePath, type ShareStat } from './ShareBackend.ts';
import { ShareError } from './ShareError.ts';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

export interface HostDirShareOptions {
  readOnly?: boolean;
}

function kindOf(st: BigIntStats): ShareKind {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
}

function shareStat(st: BigIntStats): ShareStat {
  return {
    kind: kindOf(st),
    id: st.ino,
    mode: Number(st.mode & 0o7777n),
    size: Number(st.size),
    nlink: Number(st.nlink),
    blocks: Number(st.blocks),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
  };
}

const nsToSeconds = (ns: bigint) => Number(ns) / 1e9;

export class HostDirShare implements ShareBackend {
  private constructor(
    /** The shared directory, its own links resolved once, when the share was opened. */
    readonly root: string,
    readonly readOnly: boolean,
  ) {}

  /** Shares directory `dir`; refused (ENOTDIR, ENOENT) unless it is one. */
  static async open(dir: string, opts: HostDirShareOptions = {}): Promise<HostDirShare> {
    let root: string;
    try {
      root = await realpath(dir);
    } catch (e) {
      throw ShareError.from(e, `--share ${dir}`);
    }
    const st = await lstat(root);
    if (!st.isDirectory()) throw new ShareError('ENOTDIR', `--share ${dir}: not a directory`);
    return new HostDirShare(root, opts.readOnly ?? false);
  }

  /**
   * The host path of `path`, after checking that every directory on the way is a real
   * directory (a symbolic link there is ENOTDIR: never followed). The last name is not
   * checked: each operation uses it without following it.
   */
  private async resolve(path: SharePath, what: string): Promise<string> {
    // The server checked every name already; this is the second lock.
    for (const name of path) checkName(name, what);
    let p = this.root;
    for (let i = 0; i < path.length; i++) {
      if (i > 0) {
        let st;
        try {
          st = await lstat(p);
        } catch (e) {
          throw ShareError.from(e, what);
        }
        if (!st.isDirectory()) throw new ShareError('ENOTDIR', `${what}: "${path.slice(0, i).join('/')}" is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
      }
      p = join(p, path[i]!);
    }
    return p;
  }

  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw ShareError.from(e, what);
    }
  }

  private writable(what: string): void {
    if (this.readOnly) throw new ShareError('EROFS', `${what}: the shared folder is read-only`);
  }

  async stat(path: SharePath): Promise<ShareStat> {
    const p = await this.resolve(path, 'stat');
    return this.run('stat', async () => shareStat(await lstat(p, { bigint: true })));
  }

  async list(path: SharePath): Promise<ShareDirEntry[]> {
    const p = await this.resolve(path, 'list');
    return this.run('list', async () => {
      // Opened without following, and checked to be a directory, before it is listed.
      const dir = await open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      await dir.close();
      const out: ShareDirEntry[] = [];
      for (const name of await readdir(p)) {
        try {
          out.push({ name, stat: shareStat(await lstat(join(p, name), { bigint: true })) });
        } catch {
          // gone since the listing: left out
        }
      }
      return out;
    });
  }

  /** Opens `p` without following it, and checks it is (still) a regular file. */
  private async openFile(p: string, flags: number, what: string): Promise<ShareHandle> {
    // Look before opening: a device or fifo is never opened at all.
    const before = await lstat(p, { bigint: true });
    if (!before.isFile()) {
      throw new ShareError(before.isSymbolicLink() ? 'ELOOP' : before.isDirectory() ? 'EISDIR' : 'EACCES', `${what}: not a regular file`);
    }
    const fh = await open(p, flags | O_NOFOLLOW | O_NONBLOCK);
    const after = await fh.stat({ bigint: true });
    if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
      await fh.close();
      throw new ShareError('EAGAIN', `${what}: the file changed while it was opened`);
    }
    return this.handle(fh);
  }

  async open(path: SharePath, mode: ShareOpenMode): Promise<ShareHandle> {
    if (mode.write) this.writable('open');
    const p = await this.resolve(path, 'open');
    const access = mode.read && mode.write ? O_RDWR : mode.write ? O_WRONLY : O_RDONLY;
    return this.run('open', () => this.openFile(p, access | (mode.truncate ? O_TRUNC : 0), 'open'));
  }

  async create(path: SharePath, mode: number, exclusive: boolean): Promise<ShareHandle> {
    this.writable('create');
    const p = await this.resolve(path, 'create');
    return this.run('create', async () => {
      // O_EXCL first: whether the file is new decides how it is opened. O_CREAT with
      // O_NOFOLLOW never creates through a dangling link: it fails with ELOOP.
      try {
        const fh = await open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode & 0o7777);
        return this.handle(fh);
      } catch (e) {
        if (exclusive || (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      return this.openFile(p, O_RDWR, 'create');
    });
  }

  private handle(fh: FileHandle): ShareHandle {
    return {
      read: async (offset, length) => {
        const buf = new Uint8Array(length);
        let got = 0;
        try {
          while (got < length) {
            const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
        } catch (e) {
          throw ShareError.from(e, 'read');
        }
        return got === length ? buf : buf.subarray(0, got);
      },
      write: async (offset, data) => {
        let done = 0;
        try {
          while (done < data.length) {
            const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
            done += bytesWritten;
          }
        } catch (e) {
          throw ShareError.from(e, 'write');
        }
        return done;
      },
      truncate: (size) => this.run('truncate', () => fh.truncate(size)),
      stat: () => this.run('stat', async () => shareStat(await fh.stat({ bigint: true }))),
      sync: () => this.run('fsync', () => fh.sync()),
      close: () => this.run('close', () => fh.close()),
    };
  }

  async mkdir(path: SharePath, mode: number): Promise<void> {
    this.writable('mkdir');
    const p = await this.resolve(path, 'mkdir');
    await this.run('mkdir', () => mkdir(p, { mode: mode & 0o7777 }));
  }

  async symlink(path: SharePath, target: string): Promise<void> {
    this.writable('symlink');
    const p = await this.resolve(path, 'symlink');
    await this.run('symlink', () => symlink(target, p));
  }

  async readlink(path: SharePath): Promise<string> {
    const p = await this.resolve(path, 'readlink');
    return this.run('readlink', () => readlink(p));
  }

  async remove(path: SharePath, dir: boolean): Promise<void> {
    this.writable('remove');
    if (path.length === 0) throw new ShareError('EBUSY', 'remove: the share\'s root');
    const p = await this.resolve(path, 'remove');
    await this.run(dir ? 'rmdir' : 'unlink', () => (dir ? rmdir(p) : unlink(p)));
  }

  async rename(from: SharePath, to: SharePath): Promise<void> {
    this.writable('rename');
    if (from.length === 0 || to.length === 0) throw new ShareError('EBUSY', 'rename: the share\'s root');
    const a = await this.resolve(from, 'rename');
    const b = await this.resolve(to, 'rename');
    await this.run('rename', () => rename(a, b));
  }

  async setattr(path: SharePath, changes: ShareAttrChanges): Promise<void> {
    this.writable('setattr');
    const p = await this.resolve(path, 'setattr');
    await this.run('setattr', async () => {
      const st = await lstat(p, { bigint: true });
      const now = BigInt(Date.now()) * 1_000_000n;
      const time = (t: bigint | 'now' | undefined, kept: bigint) => nsToSeconds(t === undefined ? kept : t === 'now' ? now : t);
      const times = changes.atimeNs !== undefined || changes.mtimeNs !== undefined;
      if (st.isSymbolicLink()) {
        if (changes.mode !== undefined) throw new ShareError('EOPNOTSUPP', 'chmod: a symbolic link has no mode of its own');
        if (changes.size !== undefined) throw new ShareError('EINVAL', 'truncate: a symbolic link');
        if (times) await lutimes(p, time(changes.atimeNs, st.atimeNs), time(changes.mtimeNs, st.mtimeNs));
        return;
      }
      if (!st.isFile() && !st.isDirectory()) throw new ShareError('EACCES', 'setattr: a special file');
      // Changed through a descriptor opened without following, checked to be what was looked at.
      const fh = await open(p, (changes.size !== undefined ? O_WRONLY : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK);
      try {
        const now2 = await fh.stat({ bigint: true });
        if (now2.ino !== st.ino || now2.dev !== st.dev) throw new ShareError('EAGAIN', 'setattr: the file changed while it was opened');
        if (changes.mode !== undefined) await fh.chmod(changes.mode & 0o7777);
        if (changes.size !== undefined) await fh.truncate(changes.size);
        if (times) await fh.utimes(time(changes.atimeNs, st.atimeNs), time(changes.mtimeNs, st.mtimeNs));
      } finally {
        await fh.close();
      }
    });
  }

  async statfs(): Promise<ShareFsStat> {
    return this.run('statfs', async () => {
      const s = await statfs(this.root);
      return { blockSize: s.bsize, blocks: s.blocks, blocksFree: s.bavail, files: s.files, filesFree: s.ffree };
    });
  }
}
