/**
 * Anything that can hand out bytes by offset: a `BlockBackend`, a `VhdDisk`, a
 * partition inside a disk. Partition tables and file-system readers take this so they
 * work the same over a raw file, a VHD chain or a slice of either.
 */
export interface ByteSource {
  /** Length in bytes; reads must stay inside `[0, size)`. */
  readonly size: number;
  /** Exactly `length` bytes at `offset` (rejects rather than returning a short read). */
  read(offset: number, length: number): Promise<Uint8Array>;
}
