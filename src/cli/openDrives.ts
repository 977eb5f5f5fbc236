/**
 * Opens the `--drive` disks of `romvisor boot` on the host's file system, QEMU's way: a
 * raw image is written in place, a VHD through its own format, and with `--snapshot` (or
 * `readonly`) the file is never written (a snapshot keeps the guest's writes in memory
 * until the run ends). A drive that is written is locked for writing (DiskLock), one only
 * read is locked shared, so two runs never write one image and nobody writes an image that
 * another run reads.
 */
import { VhdDisk, CopyOnWriteDisk } from '../disk/index.ts';
import { DiskLockSet, FileBackend, fileParentResolver } from '../disk/node.ts';
import type { VmDisk } from '../machine/Vm.ts';
import type { DriveSpec } from './driveSpec.ts';

export interface OpenDrives {
  /** For VmConfig.disks, in the order given. */
  readonly disks: VmDisk[];
  /** Flushes what was written, closes the files and releases the locks. Idempotent. */
  dispose(): Promise<void>;
}

export async function openDrives(specs: readonly DriveSpec[], snapshot: boolean): Promise<OpenDrives> {
  const locks = new DiskLockSet();
  const closers: (() => Promise<void>)[] = [];
  const disks: VmDisk[] = [];
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    try {
      for (const close of closers.reverse()) await close();
    } finally {
      locks.release();
    }
  };
  try {
    for (const spec of specs) {
      const writeInPlace = !spec.readOnly && !snapshot;
      await locks.add(spec.path, writeInPlace ? 'write' : 'read');
      const file = await FileBackend.open(spec.path, { readOnly: !writeInPlace });
      closers.push(() => file.dispose());
      let disk: VmDisk['disk'];
      if (spec.format === 'vhd') {
        const vhd = await VhdDisk.open(file, { readOnly: !writeInPlace, parentResolver: fileParentResolver() });
        closers.push(async () => {
          if (writeInPlace) await vhd.flush();
          await vhd.dispose();
        });
        disk = vhd;
      } else {
        disk = file;
        if (writeInPlace) closers.push(() => file.flush());
      }
      if (snapshot && !spec.readOnly) disk = new CopyOnWriteDisk(disk, spec.path);
      disks.push({ disk, readOnly: spec.readOnly, slot: spec.slot, serial: spec.path.split('/').pop()!.slice(0, 20) });
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { disks, dispose };
}
