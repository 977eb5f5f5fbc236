// Node-only: imported through src/disk/node.ts, never through index.ts, so the browser
// bundle does not pull in `fs`.
import { open, type FileHandle } from 'node:fs/promises';
import { BackendError } from './BackendError.ts';
import type { BlockBackend } from './BlockBackend.ts';

/** A `BlockBackend` over one file, through a `fs/promises` FileHandle. */
export class FileBackend implements BlockBackend {
  private disposed = false;

  private constructor(
    private readonly handle: FileHandle,
    private length: number,
    readonly readOnly: boolean,
    /** The path it was opened from, for messages and for resolving relative parents. */
    readonly path: string,
  ) {}

  /** Opens an existing file; `readOnly` opens it with O_RDONLY (base images). */
  static async open(path: string, opts: { readOnly?: boolean } = {}): Promise<FileBackend> {
    const readOnly = opts.readOnly ?? false;
    const handle = await open(path, readOnly ? 'r' : 'r+');
    const { size } = await handle.stat();
    return new FileBackend(handle, size, readOnly, path);
  }

  /** Creates (or truncates) a file for writing. */
  static async create(path: string): Promise<FileBackend> {
    const handle = await open(path, 'w+');
    return new FileBackend(handle, 0, false, path);
  }

  get size(): number {
    return this.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkLive();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.length) {
      throw new BackendError('out-of-range', `${this.path}: read of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.length} bytes`, offset);
    }
    const out = new Uint8Array(length);
    let done = 0;
    // read() may return fewer bytes than asked (large requests); loop until full.
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new BackendError('io', `${this.path}: file ended at 0x${(offset + done).toString(16)} while reading (changed underneath?)`, offset + done);
      }
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkLive();
    if (this.readOnly) throw new BackendError('read-only', `${this.path}: write at 0x${offset.toString(16)} refused, opened read-only`, offset);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BackendError('out-of-range', `${this.path}: write offset ${offset} is not a non-negative integer`, offset);
    }
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    if (offset + data.length > this.length) this.length = offset + data.length;
  }

  /** A completed `write` is in the OS's page cache already: it outlives this process. */
  async settle(): Promise<void> {
    this.checkLive();
  }

  async flush(): Promise<void> {
    this.checkLive();
    if (!this.readOnly) await this.handle.sync();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.handle.close();
  }

  private checkLive(): void {
    if (this.disposed) throw new BackendError('disposed', `${this.path}: used after dispose()`);
  }
}
