/**
 * Node-only: `romvisor appliance diff OLD.vhd NEW.vhd -o PATCH.vhd`, a new version of an
 * appliance as a patch: a differencing VHD whose parent is OLD and which holds exactly the
 * sectors where NEW differs from OLD, so OLD + PATCH reads as NEW (qemu-img takes OLD as
 * its backing file and `qemu-img compare PATCH.vhd NEW.vhd` finds them identical).
 *
 * The patch's blocks are small (64 KiB by default, where whole images use 2 MiB): a VHD
 * block present in a differencing disk takes its full size in the file whatever few
 * sectors of it are set, and a one-file update touches a handful of sectors scattered over
 * the disk (the file's data, its inode, a bitmap, appliance.json on the boot partition).
 * Its unique id is a hash of OLD's and NEW's, so the same two images give the same patch.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { VhdDisk } from '../disk/index.ts';
import { FileBackend, fileParentResolver } from '../disk/node.ts';
import { RepoError } from './RepoError.ts';

/** The patch's VHD block size unless asked otherwise. */
export const PATCH_BLOCK_SIZE = 64 * 1024;
const SECTOR = 512;
/** How much of both disks is compared at once. */
const STEP = 1024 * 1024;

export interface DiffResult {
  path: string;
  /** Bytes of the patch file. */
  size: number;
  /** Sectors where NEW differs from OLD. */
  changedSectors: number;
  /** Bytes of NEW as a whole VHD, for comparison. */
  newFileSize: number;
}

export async function diffAppliance(oldPath: string, newPath: string, output: string, blockSize = PATCH_BLOCK_SIZE): Promise<DiffResult> {
  if (!Number.isInteger(blockSize) || blockSize < SECTOR || blockSize > 2 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RepoError('bad-input', `block size ${blockSize} is not a power of two from 512 bytes to 2 MiB`, 'block-size');
  }
  for (const [flag, path] of [['OLD', oldPath], ['NEW', newPath]] as const) {
    if (/\.gz$/i.test(path)) throw new RepoError('bad-input', `${flag} ${path}: a patch names its parent by file; gunzip it first`, path);
  }
  const older = await openVhd(oldPath, 'OLD');
  let newer: VhdDisk;
  try {
    newer = await openVhd(newPath, 'NEW');
  } catch (e) {
    await older.dispose();
    throw e;
  }
  const newFileSize = (await stat(newPath)).size;
  const temp = `${output}.${process.pid}.tmp`;
  let patch: VhdDisk | undefined;
  let changedSectors = 0;
  try {
    if (older.virtualSize !== newer.virtualSize) {
      throw new RepoError('bad-input', `NEW ${newPath} is a ${newer.virtualSize}-byte disk and OLD ${oldPath} a ${older.virtualSize}-byte one: a patch keeps the disk's size; publish NEW whole`, newPath);
    }
    if (older.uuid === newer.uuid) throw new RepoError('bad-input', `OLD and NEW are the same disk (unique id ${older.uuid})`, newPath);
    await mkdir(dirname(resolve(output)), { recursive: true });
    const uniqueId = new Uint8Array(createHash('sha256').update(`romvisor-patch/${older.uuid}/${newer.uuid}`).digest().subarray(0, 16));
    // The patch owns `older` from here: disposing the patch disposes it.
    patch = await VhdDisk.createDifferencing(await FileBackend.create(temp), older, {
      blockSize,
      uniqueId,
      timeStamp: newer.footer.timeStamp,
      parentRelativePath: relative(dirname(resolve(output)), resolve(oldPath)) || basename(oldPath),
      parentAbsolutePath: resolve(oldPath),
    });
    for (let at = 0; at < newer.virtualSize; at += STEP) {
      const length = Math.min(STEP, newer.virtualSize - at);
      const a = await older.read(at, length);
      const b = await newer.read(at, length);
      // Runs of differing sectors, each written as one piece.
      let run = -1;
      for (let s = 0; s <= length; s += SECTOR) {
        const differs = s < length && !sameSector(a, b, s);
        if (differs) {
          changedSectors++;
          if (run < 0) run = s;
        } else if (run >= 0) {
          await patch.write(at + run, b.subarray(run, s));
          run = -1;
        }
      }
    }
    await patch.flush();
    await patch.dispose();
    patch = undefined;
    await rename(temp, output);
    return { path: output, size: (await stat(output)).size, changedSectors, newFileSize };
  } catch (e) {
    if (patch) await patch.dispose();
    else await older.dispose();
    await rm(temp, { force: true });
    throw e;
  } finally {
    await newer.dispose();
  }
}

function sameSector(a: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + SECTOR; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function openVhd(path: string, flag: string): Promise<VhdDisk> {
  const backend = await FileBackend.open(path, { readOnly: true }).catch((e: NodeJS.ErrnoException) => {
    throw new RepoError('bad-input', `${flag} ${path}: ${e.code ?? e.message}`, path);
  });
  try {
    return await VhdDisk.open(backend, { readOnly: true, parentResolver: fileParentResolver() });
  } catch (e) {
    await backend.dispose();
    throw new RepoError('bad-input', `${flag} ${path}: not a VHD romvisor opens: ${(e as Error).message}`, path);
  }
}
