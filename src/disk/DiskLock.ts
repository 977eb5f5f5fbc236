// Node-only (exported from node.ts): locks that keep two romvisor processes from writing
// one disk file at once, and from writing a file that others read as a base image.
//
// The lock of a disk file F is a directory beside it, F.lock, holding one file per
// holder: "write-PID-N" or "read-PID-N", each created with O_EXCL and holding the PID.
// Readers share; a writer excludes everyone. A holder first creates its own entry, then
// looks at the others: of two processes that race, at least the later one sees the
// earlier one, so two conflicting holders never both succeed. Entries of dead processes
// (process.kill(pid, 0) fails with ESRCH: a run that was SIGKILLed) are removed on sight.
// Locks are released on dispose, on process exit and on SIGINT/SIGTERM/SIGHUP.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { resolveLinks } from './sameFile.ts';
import { CodedError } from '../errors/CodedError.ts';

export type DiskLockMode = 'read' | 'write';

/** 'in-use': another process (`pid`) holds a conflicting lock. 'unlockable': no lock could be made. */
export type DiskLockErrorCode = 'in-use' | 'unlockable';

export class DiskLockError extends CodedError<DiskLockErrorCode> {
  override readonly name = 'DiskLockError';
  constructor(
    code: DiskLockErrorCode,
    message: string,
    /** The disk file, as the caller named it. */
    readonly path: string,
    /** The process holding the conflicting lock, for 'in-use'. */
    readonly pid?: number,
  ) {
    super(code, message);
  }
}

/** Two processes that create their entries at the same moment both back off; they retry. */
const ATTEMPTS = 4;
const ENTRY = /^(read|write)-(\d+)-(\d+)$/;
/** Errors that say the lock directory cannot be written (a read-only image directory). */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Entry names this process holds, so its own entries are told from a dead namesake's. */
const held = new Map<string, DiskLock>();
let sequence = 0;

/**
 * Whether a process runs; EPERM means it does, under another user. A zombie (killed, not
 * yet reaped by its parent) answers kill(pid, 0) too, but holds nothing: on Linux its
 * state in /proc says so.
 */
function isAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux), or the process just ended: ask again next time
  }
}

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** An advisory lock on one disk file, shared ('read') or exclusive ('write'). */
export class DiskLock {
  private released = false;

  private constructor(
    /** The disk file, as the caller named it. */
    readonly path: string,
    /** The file `path` names, symlinks resolved (where the lock directory sits beside). */
    readonly target: string,
    readonly mode: DiskLockMode,
    /** The lock directory, or undefined for a read lock where none can be made. */
    private readonly dir: string | undefined,
    /** This holder's file in `dir`. */
    private readonly entryPath: string,
  ) {}

  /**
   * Locks `path` (which need not exist yet: an output is locked before it is written).
   * Throws DiskLockError 'in-use' naming the holder's PID when another process holds a
   * conflicting lock. A read lock where the directory is not writable (an image on a
   * read-only mount) is granted without a lock file: nobody can write-lock it there either.
   */
  static async acquire(path: string, mode: DiskLockMode): Promise<DiskLock> {
    let target: string;
    try {
      target = resolveLinks(path);
    } catch (e) {
      throw new DiskLockError('unlockable', `cannot lock ${path}: ${(e as Error).message}`, path);
    }
    for (let attempt = 1; ; attempt++) {
      const result = DiskLock.tryAcquire(path, target, mode);
      if (result instanceof DiskLock) return result;
      if (attempt === ATTEMPTS) throw new DiskLockError('in-use', `${path} is in use by process ${result}`, path, result);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }

  /** Releases every lock this process holds (exit and signal handlers; tests). */
  static releaseAll(): void {
    for (const lock of [...held.values()]) lock.release();
  }

  /** The lock, or the PID of a process holding a conflicting one. */
  private static tryAcquire(path: string, target: string, mode: DiskLockMode): DiskLock | number {
    const dir = `${target}.lock`;
    let created: { entry: string } | { pid: number };
    try {
      created = DiskLock.createEntry(mode, dir);
    } catch (e) {
      if (mode === 'read' && NOT_WRITABLE.has(errorCode(e) ?? '')) return DiskLock.hold(new DiskLock(path, target, mode, undefined, ''));
      throw new DiskLockError('unlockable', `cannot lock ${path}: ${(e as Error).message}`, path);
    }
    if ('pid' in created) return created.pid;
    const mine = join(dir, created.entry);
    for (const other of readdirSync(dir)) {
      const m = ENTRY.exec(other);
      if (other === created.entry || !m) continue;
      const pid = Number(m[2]);
      const stale = pid === process.pid ? !held.has(join(dir, other)) : !isAlive(pid);
      if (stale) {
        rmSync(join(dir, other), { force: true });
        continue;
      }
      if (mode === 'write' || m[1] === 'write') {
        rmSync(mine, { force: true });
        return pid;
      }
    }
    return DiskLock.hold(new DiskLock(path, target, mode, dir, mine));
  }

  /**
   * Makes the lock directory if needed and creates this holder's entry in it, or finds
   * the live PID in a plain lock file where the directory belongs.
   */
  private static createEntry(mode: DiskLockMode, dir: string): { entry: string } | { pid: number } {
    for (let tries = 0; ; tries++) {
      try {
        mkdirSync(dir);
      } catch (e) {
        if (errorCode(e) !== 'EEXIST') throw e;
        if (!lstatSync(dir).isDirectory()) {
          const pid = DiskLock.clearLockFile(dir);
          if (pid !== undefined) return { pid };
          continue;
        }
      }
      const entry = `${mode}-${process.pid}-${++sequence}`;
      try {
        writeFileSync(join(dir, entry), `${process.pid}\n`, { flag: 'wx' });
        return { entry };
      } catch (e) {
        // ENOENT: the last holder removed the directory in between. EEXIST: a dead
        // process of our PID left this very name; the next sequence number is free.
        if ((errorCode(e) === 'ENOENT' || errorCode(e) === 'EEXIST') && tries < 8) continue;
        throw e;
      }
    }
  }

  /**
   * A plain file where the lock directory belongs: a lock written by hand or by another
   * tool, holding a PID. Returns that PID while its process lives; else removes the file.
   */
  private static clearLockFile(dir: string): number | undefined {
    let text: string;
    try {
      text = readFileSync(dir, 'latin1');
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return undefined;
      throw e;
    }
    const pid = Number(/\d+/.exec(text)?.[0]);
    if (pid !== process.pid && isAlive(pid)) return pid;
    rmSync(dir, { force: true });
    return undefined;
  }

  private static hold(lock: DiskLock): DiskLock {
    if (held.size === 0) installHandlers();
    held.set(lock.dir ? lock.entryPath : `unlocked:${++sequence}`, lock);
    return lock;
  }

  /**
   * Where the holder of a write lock builds the file's new contents, to rename them over
   * the file once complete: `FILE.PID.tmp` beside it. Temporary files that writers killed
   * half way left there are removed: a live writer of this file would hold the lock.
   */
  temporaryPath(): string {
    if (this.mode !== 'write' || this.released) throw new Error(`${this.path}: a temporary file needs a held write lock`);
    const dir = dirname(this.target);
    const prefix = `${basename(this.target)}.`;
    for (const name of readdirSync(dir)) {
      const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? name.slice(prefix.length, -'.tmp'.length) : '';
      if (/^\d+$/.test(pid) && Number(pid) !== process.pid && !isAlive(Number(pid))) rmSync(join(dir, name), { force: true });
    }
    return join(dir, `${prefix}${process.pid}.tmp`);
  }

  /** Removes this holder's entry, and the lock directory if it was the last. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const [key, lock] of held) if (lock === this) held.delete(key);
    if (this.dir) {
      try {
        rmSync(this.entryPath, { force: true });
        rmdirSync(this.dir);
      } catch {
        // Other holders remain (ENOTEMPTY), or someone removed the directory already.
      }
    }
    if (held.size === 0) removeHandlers();
  }
}

/**
 * Several locks taken together and released together: a command's inputs (shared) and
 * its output (exclusive). If one cannot be taken, those already taken are released.
 */
export class DiskLockSet {
  private readonly locks: DiskLock[] = [];

  async add(path: string, mode: DiskLockMode): Promise<DiskLock> {
    try {
      const lock = await DiskLock.acquire(path, mode);
      this.locks.push(lock);
      return lock;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  release(): void {
    for (const lock of this.locks.splice(0).reverse()) lock.release();
  }
}

// ------------------------------------------------------------- process end

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onExit(): void {
  DiskLock.releaseAll();
}

/**
 * Releases the locks, then lets the signal do what it would have done: with no other
 * listener left, raising it again ends the process the default way (exit status of a
 * signal death, as a shell expects).
 */
function onSignal(signal: NodeJS.Signals): void {
  DiskLock.releaseAll();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHandlers(): void {
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function removeHandlers(): void {
  process.off('exit', onExit);
  for (const s of SIGNALS) process.off(s, onSignal);
}
