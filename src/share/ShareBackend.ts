/**
 * The contract between the 9P2000.L server (NinePServer) and where a shared folder's files
 * live: a host directory (HostDirShare, node), memory (MemoryShare: tests, the page's folder
 * while a VM runs). The server has already checked every name; the backend's part of the
 * confinement is to never follow a symbolic link of its own store and to act only inside
 * its root, whatever the path says.
 */
import { ShareError } from './ShareError.ts';

/**
 * A file's place under the share's root, one name per level: `[]` is the root itself.
 * Every name is non-empty, at most 255 bytes of UTF-8, and none is `.`, `..` or holds `/`
 * or NUL (NinePServer refuses those before a backend sees them).
 */
export type SharePath = readonly string[];

/**
 * A name as a SharePath may hold one: refused (EINVAL) when empty, `.`, `..`, or holding `/`
 * or NUL, which could step out of its directory on the host. NinePServer checks a guest's
 * names with it; HostDirShare again, as a second lock; MemoryShare the page's paths.
 */
export function checkName(name: string, what: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new ShareError('EINVAL', `${what}: ${JSON.stringify(name)} is not a file name (empty, "." or "..", or holds "/" or NUL)`);
  }
}

/** What an object is: regular file, directory, symbolic link, or anything else (fifo, device, socket). */
export type ShareKind = 'file' | 'dir' | 'symlink' | 'other';

/** An object's attributes, as lstat(2) gives them (a symbolic link's own, never its target's). */
export interface ShareStat {
  kind: ShareKind;
  /** Unique among the share's objects while this one exists (an inode number): the qid path. */
  id: bigint;
  /** Permission bits, 0o7777 at most (the type is `kind`). */
  mode: number;
  /** Bytes: a file's length, a symbolic link's text length. */
  size: number;
  nlink: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface ShareDirEntry {
  name: string;
  stat: ShareStat;
}

/** An open regular file. Reads and writes go to the object opened, even after a rename or unlink. */
export interface ShareHandle {
  /** Up to `length` bytes at `offset`; fewer at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes all of `data` at `offset`; returns the bytes written. */
  write(offset: number, data: Uint8Array): Promise<number>;
  truncate(size: number): Promise<void>;
  stat(): Promise<ShareStat>;
  /** Makes what was written durable in the backend's store. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** How a regular file is opened. */
export interface ShareOpenMode {
  read: boolean;
  write: boolean;
  /** Cut it to zero length (open with O_TRUNC). */
  truncate: boolean;
}

/** Attribute changes of setattr; absent fields stay. Times: nanoseconds since the epoch, or 'now'. */
export interface ShareAttrChanges {
  mode?: number;
  size?: number;
  atimeNs?: bigint | 'now';
  mtimeNs?: bigint | 'now';
}

/** statfs(2) of the store, in `blockSize` units. */
export interface ShareFsStat {
  blockSize: number;
  blocks: number;
  blocksFree: number;
  files: number;
  filesFree: number;
}

export interface ShareBackend {
  /** Refuses every change with EROFS when true. */
  readonly readOnly: boolean;
  /** The object at `path`, its last name not followed if it is a symbolic link. */
  stat(path: SharePath): Promise<ShareStat>;
  /** The entries of the directory `path`, without `.` and `..`. */
  list(path: SharePath): Promise<ShareDirEntry[]>;
  /** Opens the regular file `path`; a symbolic link, directory or special file is refused. */
  open(path: SharePath, mode: ShareOpenMode): Promise<ShareHandle>;
  /**
   * Creates the regular file `path` with permissions `mode` and opens it for reading and
   * writing; an existing object there is opened instead unless `exclusive` (EEXIST), and a
   * symbolic link there is refused (ELOOP), never followed.
   */
  create(path: SharePath, mode: number, exclusive: boolean): Promise<ShareHandle>;
  mkdir(path: SharePath, mode: number): Promise<void>;
  /** A symbolic link at `path` holding `target` as text: the guest resolves it, never the backend. */
  symlink(path: SharePath, target: string): Promise<void>;
  readlink(path: SharePath): Promise<string>;
  /** Removes a directory (`dir`, which must be empty) or any other object (not a directory). */
  remove(path: SharePath, dir: boolean): Promise<void>;
  /** Moves `from` to `to`, replacing what `to` held as rename(2) does. */
  rename(from: SharePath, to: SharePath): Promise<void>;
  /** Changes attributes of `path`; a symbolic link's mode and size cannot change (EOPNOTSUPP / EINVAL). */
  setattr(path: SharePath, changes: ShareAttrChanges): Promise<void>;
  statfs(): Promise<ShareFsStat>;
}
