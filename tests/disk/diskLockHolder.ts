// Another process holding a DiskLock, for the tests of locks across processes.
// holdDiskLock() starts one; run directly it is that process:
//   node --import tsx tests/disk/diskLockHolder.ts PATH read|write
// which prints "locked" once it holds the lock (or "refused PID" and exits 2), then holds
// it until its stdin ends (a normal exit) or a signal ends it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskLock, DiskLockError, type DiskLockMode } from '../../src/disk/node.ts';

const SELF = fileURLToPath(import.meta.url);

export interface LockHolder {
  child: ChildProcessWithoutNullStreams;
  /** "locked", or "refused PID". */
  said: string;
  /** Ends it the normal way (stdin closed) or by `signal`, and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a process holding `mode` on `path`; resolves once it has the lock (or was refused). */
export async function holdDiskLock(path: string, mode: DiskLockMode): Promise<LockHolder> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, path, mode]);
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const said = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited ${code} before locking: ${out}${err}`)));
  });
  const stop = (signal?: NodeJS.Signals): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.on('exit', () => resolve());
      if (signal) child.kill(signal);
      else child.stdin.end();
    });
  return { child, said, stop };
}

if (process.argv[1] === SELF) {
  const [path, mode] = process.argv.slice(2) as [string, DiskLockMode];
  try {
    await DiskLock.acquire(path, mode);
  } catch (e) {
    if (!(e instanceof DiskLockError)) throw e;
    process.stdout.write(`refused ${e.pid}\n`);
    process.exit(2);
  }
  process.stdout.write('locked\n');
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
}
