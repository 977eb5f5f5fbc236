import { CodedError } from '../errors/CodedError.ts';
import type { ByteSource } from './ByteSource.ts';

/**
 * A window `[start, start + size)` of another source, e.g. one partition of a disk.
 * Reads outside the window throw a RangeError-free `SliceError`, so a corrupt file
 * system can never read a neighbouring partition.
 */
export class ByteSlice implements ByteSource {
  constructor(
    private readonly source: ByteSource,
    readonly start: number,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 0 || size < 0 || start + size > source.size) {
      throw new SliceError(`slice [${start}, +${size}) does not fit in a source of ${source.size} bytes`, start);
    }
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      return Promise.reject(new SliceError(`read of ${length} bytes at 0x${offset.toString(16)} is outside a slice of ${this.size} bytes`, offset));
    }
    return this.source.read(this.start + offset, length);
  }
}

export class SliceError extends CodedError<'out-of-range'> {
  override readonly name = 'SliceError';
  constructor(message: string, readonly offset: number) {
    super('out-of-range', message);
  }
}
