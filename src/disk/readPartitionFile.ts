import type { ByteSource } from './ByteSource.ts';
import { Ext2Reader } from './Ext2Reader.ts';
import { MbrPartitionTable } from './MbrPartitionTable.ts';

/**
 * Reads a file from the ext2/3/4 file system on an MBR partition of a disk (a VhdDisk
 * or any byte source): how the boot sequence loads `Image`, `initrd` and
 * `appliance.json` from an appliance's boot partition (partition 1 by default).
 */
export async function readPartitionFile(disk: ByteSource, path: string, opts: { partition?: number; maxBytes?: number } = {}): Promise<Uint8Array> {
  const fs = await openPartitionFileSystem(disk, opts.partition ?? 1);
  return fs.readFile(path, { maxBytes: opts.maxBytes });
}

/** The ext2/3/4 reader over partition `number` of `disk`. */
export async function openPartitionFileSystem(disk: ByteSource, number = 1): Promise<Ext2Reader> {
  const table = await MbrPartitionTable.read(disk);
  return Ext2Reader.open(table.partition(disk, number));
}
