/**
 * A shared folder held in memory: the backend of the unit tests and the fuzzer, and of the
 * page's per-VM folder while its VM runs (loaded from and saved to the browser's store).
 * Bounded in total bytes and in objects, so a guest filling it gets ENOSPC, never the host's
 * memory. Symbolic links are stored text and nothing here ever follows one.
 */
import { checkName, type ShareAttrChanges, type ShareBackend, type ShareDirEntry, type ShareFsStat, type ShareHandle, type ShareKind, type ShareOpenMode, type SharePath, type ShareStat } from './ShareBackend.ts';
import { ShareError } from './ShareError.ts';

interface Node {
  readonly id: bigint;
  readonly kind: Exclude<ShareKind, 'other'>;
  mode: number;
  /** A file's bytes: `data.subarray(0, size)`; capacity grows by doubling. */
  data: Uint8Array;
  size: number;
  children: Map<string, Node> | undefined;
  target: string;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Links from directories (0 once removed). */
  links: number;
  /** Open handles: an unlinked file keeps its bytes until the last one is closed. */
  opens: number;
}

export interface MemoryShareOptions {
  /** File bytes the share holds at most (default 256 MiB); beyond, ENOSPC. */
  maxBytes?: number;
  /** Objects at most, the root included (default 10,000); beyond, ENOSPC. */
  maxObjects?: number;
  /** Nanoseconds since the epoch for new times (default the host clock). */
  now?: () => bigint;
  readOnly?: boolean;
}

/** A file or symbolic link as `MemoryShare.entries()` lists it and `MemoryShare.load()` takes it. */
export interface MemoryShareEntry {
  /** `/`-separated path under the root. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeNs: bigint;
  /** A file's bytes. */
  data?: Uint8Array;
  /** A symbolic link's text. */
  target?: string;
}

const BLOCK = 4096;

/** A `/`-separated path of file names (EINVAL for an empty name, `.`, `..` or NUL). */
function splitPath(path: string): string[] {
  const names = path.split('/');
  for (const name of names) checkName(name, `"${path}"`);
  return names;
}

export class MemoryShare implements ShareBackend {
  readonly readOnly: boolean;
  readonly maxBytes: number;
  readonly maxObjects: number;
  private readonly now: () => bigint;
  private nextId = 1n;
  private bytes = 0;
  private objects = 0;
  private readonly root: Node;
  /** Bumped by every change, so a saver knows when there is something new. */
  generation = 0;
  /**
   * What a file's sync (the guest's fsync) waits for: the page's folder saves itself here, so
   * an fsync returns once the folder is in IndexedDB. Rejecting fails the fsync.
   */
  onSync: (() => Promise<void>) | undefined;

  constructor(opts: MemoryShareOptions = {}) {
    this.readOnly = opts.readOnly ?? false;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.maxObjects = opts.maxObjects ?? 10_000;
    this.now = opts.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.root = this.node('dir', 0o755);
    this.root.links = 1;
  }

  /** Bytes of file data held. */
  get usedBytes(): number {
    return this.bytes;
  }
  get objectCount(): number {
    return this.objects;
  }

  private node(kind: Node['kind'], mode: number): Node {
    if (this.objects >= this.maxObjects) throw new ShareError('ENOSPC', `the shared folder holds ${this.objects} objects, its limit`);
    this.objects++;
    const t = this.now();
    return {
      id: this.nextId++,
      kind,
      mode,
      data: new Uint8Array(0),
      size: 0,
      children: kind === 'dir' ? new Map() : undefined,
      target: '',
      atimeNs: t,
      mtimeNs: t,
      ctimeNs: t,
      links: 0,
      opens: 0,
    };
  }

  private changed(): void {
    this.generation++;
  }

  private writable(what: string): void {
    if (this.readOnly) throw new ShareError('EROFS', `${what}: the shared folder is read-only`);
  }

  private lookup(path: SharePath, what: string): Node {
    let n = this.root;
    for (const [i, name] of path.entries()) {
      if (n.kind !== 'dir') throw new ShareError('ENOTDIR', `${what}: "${path.slice(0, i).join('/')}" is not a directory`);
      const next = n.children!.get(name);
      if (!next) throw new ShareError('ENOENT', `${what}: "${path.slice(0, i + 1).join('/')}" does not exist`);
      n = next;
    }
    return n;
  }

  /** The directory holding `path`'s last name, and that name. */
  private parent(path: SharePath, what: string): [Map<string, Node>, string, Node] {
    if (path.length === 0) throw new ShareError('EBUSY', `${what}: the share's root`);
    const dir = this.lookup(path.slice(0, -1), what);
    if (dir.kind !== 'dir') throw new ShareError('ENOTDIR', `${what}: "${path.slice(0, -1).join('/')}" is not a directory`);
    return [dir.children!, path[path.length - 1]!, dir];
  }

  private statOf(n: Node): ShareStat {
    const size = n.kind === 'dir' ? BLOCK : n.kind === 'symlink' ? new TextEncoder().encode(n.target).length : n.size;
    return {
      kind: n.kind,
      id: n.id,
      mode: n.mode,
      size,
      nlink: n.kind === 'dir' ? 2 + [...n.children!.values()].filter((c) => c.kind === 'dir').length : n.links,
      blocks: Math.ceil(size / 512),
      atimeNs: n.atimeNs,
      mtimeNs: n.mtimeNs,
      ctimeNs: n.ctimeNs,
    };
  }

  async stat(path: SharePath): Promise<ShareStat> {
    return this.statOf(this.lookup(path, 'stat'));
  }

  async list(path: SharePath): Promise<ShareDirEntry[]> {
    const n = this.lookup(path, 'list');
    if (n.kind !== 'dir') throw new ShareError('ENOTDIR', `list: "${path.join('/')}" is not a directory`);
    return [...n.children!].map(([name, c]) => ({ name, stat: this.statOf(c) }));
  }

  async open(path: SharePath, mode: ShareOpenMode): Promise<ShareHandle> {
    const n = this.lookup(path, 'open');
    if (n.kind === 'symlink') throw new ShareError('ELOOP', `open: "${path.join('/')}" is a symbolic link`);
    if (n.kind === 'dir') throw new ShareError('EISDIR', `open: "${path.join('/')}" is a directory`);
    if (mode.write) this.writable('open');
    if (mode.truncate) this.resize(n, 0);
    return this.handle(n, mode);
  }

  async create(path: SharePath, mode: number, exclusive: boolean): Promise<ShareHandle> {
    this.writable('create');
    const [dir, name, parent] = this.parent(path, 'create');
    const existing = dir.get(name);
    if (existing) {
      if (exclusive) throw new ShareError('EEXIST', `create: "${path.join('/')}" exists`);
      return this.open(path, { read: true, write: true, truncate: false });
    }
    const n = this.node('file', mode);
    this.link(dir, name, n, parent);
    return this.handle(n, { read: true, write: true, truncate: false });
  }

  private link(dir: Map<string, Node>, name: string, n: Node, parent: Node): void {
    dir.set(name, n);
    n.links++;
    parent.mtimeNs = parent.ctimeNs = this.now();
    this.changed();
  }

  private handle(n: Node, mode: ShareOpenMode): ShareHandle {
    let closed = false;
    n.opens++;
    const live = (what: string) => {
      if (closed) throw new ShareError('EBADF', `${what}: the file was closed`);
    };
    return {
      read: async (offset, length) => {
        live('read');
        if (!mode.read) throw new ShareError('EBADF', 'read: the file is open for writing only');
        n.atimeNs = this.now();
        return n.data.slice(Math.min(offset, n.size), Math.min(offset + length, n.size));
      },
      write: async (offset, data) => {
        live('write');
        if (!mode.write) throw new ShareError('EBADF', 'write: the file is open for reading only');
        const end = offset + data.length;
        if (end > n.size) this.resize(n, end);
        n.data.set(data, offset);
        n.mtimeNs = n.ctimeNs = this.now();
        this.changed();
        return data.length;
      },
      truncate: async (size) => {
        live('truncate');
        this.writable('truncate');
        this.resize(n, size);
      },
      stat: async () => this.statOf(n),
      sync: async () => {
        live('sync');
        await this.onSync?.();
      },
      close: async () => {
        if (closed) return;
        closed = true;
        n.opens--;
        this.release(n);
      },
    };
  }

  /** Sets a file's length, within the share's byte budget (ENOSPC beyond). */
  private resize(n: Node, size: number): void {
    const grow = size - n.size;
    if (grow > 0 && this.bytes + grow > this.maxBytes) {
      throw new ShareError('ENOSPC', `the shared folder holds ${this.bytes} of ${this.maxBytes} bytes; ${grow} more do not fit`);
    }
    if (size > n.data.length) {
      const bigger = new Uint8Array(Math.max(size, Math.min(n.data.length * 2, this.maxBytes)));
      bigger.set(n.data.subarray(0, n.size));
      n.data = bigger;
    } else if (size < n.size) {
      n.data.fill(0, size, n.size);
    }
    this.bytes += grow;
    n.size = size;
    n.mtimeNs = n.ctimeNs = this.now();
    this.changed();
  }

  /** A node no directory links to and no handle holds open gives its bytes back. */
  private release(n: Node): void {
    if (n.links > 0 || n.opens > 0) return;
    if (n.kind === 'file' && n.size > 0) {
      this.bytes -= n.size;
      n.size = 0;
      n.data = new Uint8Array(0);
    }
  }

  async mkdir(path: SharePath, mode: number): Promise<void> {
    this.writable('mkdir');
    const [dir, name, parent] = this.parent(path, 'mkdir');
    if (dir.has(name)) throw new ShareError('EEXIST', `mkdir: "${path.join('/')}" exists`);
    this.link(dir, name, this.node('dir', mode), parent);
  }

  async symlink(path: SharePath, target: string): Promise<void> {
    this.writable('symlink');
    const [dir, name, parent] = this.parent(path, 'symlink');
    if (dir.has(name)) throw new ShareError('EEXIST', `symlink: "${path.join('/')}" exists`);
    const n = this.node('symlink', 0o777);
    n.target = target;
    this.link(dir, name, n, parent);
  }

  async readlink(path: SharePath): Promise<string> {
    const n = this.lookup(path, 'readlink');
    if (n.kind !== 'symlink') throw new ShareError('EINVAL', `readlink: "${path.join('/')}" is not a symbolic link`);
    return n.target;
  }

  async remove(path: SharePath, dir: boolean): Promise<void> {
    this.writable('remove');
    const [children, name, parent] = this.parent(path, 'remove');
    const n = children.get(name);
    if (!n) throw new ShareError('ENOENT', `remove: "${path.join('/')}" does not exist`);
    if (dir && n.kind !== 'dir') throw new ShareError('ENOTDIR', `rmdir: "${path.join('/')}" is not a directory`);
    if (!dir && n.kind === 'dir') throw new ShareError('EISDIR', `unlink: "${path.join('/')}" is a directory`);
    if (n.kind === 'dir' && n.children!.size > 0) throw new ShareError('ENOTEMPTY', `rmdir: "${path.join('/')}" is not empty`);
    this.unlink(children, name, n, parent);
  }

  private unlink(children: Map<string, Node>, name: string, n: Node, parent: Node): void {
    children.delete(name);
    n.links--;
    this.objects--;
    parent.mtimeNs = parent.ctimeNs = this.now();
    this.release(n);
    this.changed();
  }

  async rename(from: SharePath, to: SharePath): Promise<void> {
    this.writable('rename');
    const [fromDir, fromName, fromParent] = this.parent(from, 'rename');
    const n = fromDir.get(fromName);
    if (!n) throw new ShareError('ENOENT', `rename: "${from.join('/')}" does not exist`);
    const [toDir, toName, toParent] = this.parent(to, 'rename');
    // Into its own subtree: the lookup of `to`'s parent passed through `n`.
    if (n.kind === 'dir' && to.length > from.length && from.every((x, i) => to[i] === x)) {
      throw new ShareError('EINVAL', `rename: "${from.join('/')}" into itself`);
    }
    const old = toDir.get(toName);
    if (old === n) return;
    if (old) {
      if (n.kind === 'dir' && old.kind !== 'dir') throw new ShareError('ENOTDIR', `rename: "${to.join('/')}" is not a directory`);
      if (n.kind !== 'dir' && old.kind === 'dir') throw new ShareError('EISDIR', `rename: "${to.join('/')}" is a directory`);
      if (old.kind === 'dir' && old.children!.size > 0) throw new ShareError('ENOTEMPTY', `rename: "${to.join('/')}" is not empty`);
      this.unlink(toDir, toName, old, toParent);
    }
    fromDir.delete(fromName);
    toDir.set(toName, n);
    const t = this.now();
    fromParent.mtimeNs = fromParent.ctimeNs = toParent.mtimeNs = toParent.ctimeNs = n.ctimeNs = t;
    this.changed();
  }

  async setattr(path: SharePath, changes: ShareAttrChanges): Promise<void> {
    this.writable('setattr');
    const n = this.lookup(path, 'setattr');
    if (n.kind === 'symlink' && changes.mode !== undefined) throw new ShareError('EOPNOTSUPP', `chmod: "${path.join('/')}" is a symbolic link`);
    if (changes.size !== undefined) {
      if (n.kind === 'dir') throw new ShareError('EISDIR', `truncate: "${path.join('/')}" is a directory`);
      if (n.kind === 'symlink') throw new ShareError('EINVAL', `truncate: "${path.join('/')}" is a symbolic link`);
      this.resize(n, changes.size);
    }
    const t = this.now();
    if (changes.mode !== undefined) n.mode = changes.mode & 0o7777;
    if (changes.atimeNs !== undefined) n.atimeNs = changes.atimeNs === 'now' ? t : changes.atimeNs;
    if (changes.mtimeNs !== undefined) n.mtimeNs = changes.mtimeNs === 'now' ? t : changes.mtimeNs;
    n.ctimeNs = t;
    this.changed();
  }

  async statfs(): Promise<ShareFsStat> {
    const blocks = Math.ceil(this.maxBytes / BLOCK);
    return {
      blockSize: BLOCK,
      blocks,
      blocksFree: Math.max(0, blocks - Math.ceil(this.bytes / BLOCK)),
      files: this.maxObjects,
      filesFree: this.maxObjects - this.objects,
    };
  }

  /** Every object but the root with its `/`-separated path, parents before children, names in order. */
  private *walk(dir = this.root, prefix = ''): Generator<[string, Node]> {
    for (const [name, n] of [...dir.children!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      yield [prefix + name, n];
      if (n.kind === 'dir') yield* this.walk(n, `${prefix}${name}/`);
    }
  }

  /** Every object but the root, parents before children: what a saver stores. */
  entries(): MemoryShareEntry[] {
    return [...this.walk()].map(([path, n]) => {
      const e: MemoryShareEntry = { path, kind: n.kind, mode: n.mode, mtimeNs: n.mtimeNs };
      if (n.kind === 'file') e.data = n.data.slice(0, n.size);
      if (n.kind === 'symlink') e.target = n.target;
      return e;
    });
  }

  /**
   * Files and links with their sizes, directories too, without their bytes: what a page lists
   * (walked directly, not through entries(), which copies every file's bytes).
   */
  summary(): { path: string; kind: MemoryShareEntry['kind']; size: number }[] {
    return [...this.walk()].map(([path, n]) => ({ path, kind: n.kind, size: n.kind === 'file' ? n.size : 0 }));
  }

  /** A file's bytes by `/`-separated path (ENOENT, EISDIR, ELOOP as for the guest). */
  readFile(path: string): Uint8Array {
    const n = this.lookup(splitPath(path), `read "${path}"`);
    if (n.kind !== 'file') throw new ShareError(n.kind === 'dir' ? 'EISDIR' : 'ELOOP', `read "${path}": not a regular file`);
    return n.data.slice(0, n.size);
  }

  /**
   * Puts a file at `/`-separated `path` (a file dropped on the page): its directories are made
   * as needed and a file already there is replaced. Limits apply (ENOSPC); nothing changes then.
   */
  putFile(path: string, data: Uint8Array, mtimeNs = this.now()): void {
    this.writable('put');
    const names = splitPath(path);
    const [dir, name, parent] = this.makeParents(names, path);
    const old = dir.get(name);
    if (old && old.kind !== 'file') throw new ShareError('EEXIST', `put "${path}": a ${old.kind === 'dir' ? 'directory' : 'symbolic link'} is there`);
    const grow = data.length - (old?.size ?? 0);
    if (grow > 0 && this.bytes + grow > this.maxBytes) throw new ShareError('ENOSPC', `put "${path}": ${data.length} bytes do not fit (${this.bytes} of ${this.maxBytes} used)`);
    const n = old ?? this.node('file', 0o644);
    if (!old) this.link(dir, name, n, parent);
    this.resize(n, data.length);
    n.data.set(data);
    n.mtimeNs = mtimeNs;
  }

  private makeParents(names: string[], path: string): [Map<string, Node>, string, Node] {
    let dir = this.root;
    for (const name of names.slice(0, -1)) {
      let next = dir.children!.get(name);
      if (!next) {
        next = this.node('dir', 0o755);
        this.link(dir.children!, name, next, dir);
      }
      if (next.kind !== 'dir') throw new ShareError('ENOTDIR', `put "${path}": "${name}" is not a directory`);
      dir = next;
    }
    return [dir.children!, names[names.length - 1]!, dir];
  }

  /**
   * Adds `entries` (parents before children, as `entries()` gives them) to the share: how a
   * saved folder is restored and how the page adds dropped files. Names are checked as the
   * server checks a guest's; limits apply (ENOSPC).
   */
  load(entries: readonly MemoryShareEntry[]): void {
    // Times are set after every entry is in: adding a child moves its directory's mtime.
    const times: [Node, bigint][] = [];
    for (const e of entries) {
      const path = splitPath(e.path);
      const [dir, name, parent] = this.parent(path, `load "${e.path}"`);
      if (dir.has(name)) throw new ShareError('EEXIST', `load: "${e.path}" exists`);
      const n = this.node(e.kind, e.mode & 0o7777);
      if (e.kind === 'symlink') n.target = e.target ?? '';
      this.link(dir, name, n, parent);
      if (e.kind === 'file' && e.data) {
        this.resize(n, e.data.length);
        n.data.set(e.data);
      }
      times.push([n, e.mtimeNs]);
    }
    for (const [n, t] of times) n.mtimeNs = t;
  }
}
