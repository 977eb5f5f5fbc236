/**
 * A read-only `BlockBackend` over a `Blob` (a picked or dropped file): lets VhdDisk.open
 * validate an import before a single byte of it is written to the store.
 */
import { BackendError, type BlockBackend } from '../disk/index.ts';

export class BlobBackend implements BlockBackend {
  readonly readOnly = true;
  private disposed = false;

  constructor(private readonly blob: Blob) {}

  get size(): number {
    return this.blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.disposed) throw new BackendError('disposed', 'file backend: used after dispose()');
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.blob.size) {
      throw new BackendError('out-of-range', `file: read of ${length} bytes at 0x${offset.toString(16)} is outside its ${this.blob.size} bytes`, offset);
    }
    return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
  }

  async write(offset: number): Promise<void> {
    throw new BackendError('read-only', `file: write at 0x${offset.toString(16)} refused, an import source is read-only`, offset);
  }

  async settle(): Promise<void> {}
  async flush(): Promise<void> {}

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
