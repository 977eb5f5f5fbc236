// Node-only (exported from node.ts): which path names which file. Commands that write a
// disk compare files by device and inode, never by path strings, so an output that is a
// symlink or a hard link to one of their inputs is recognised as that input.
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileBackend } from './FileBackend.ts';
import type { VhdDisk } from './VhdDisk.ts';

/** Symbolic links followed before `resolveLinks` gives up (the kernel's own limit). */
const MAX_LINK_HOPS = 40;

/**
 * The absolute path of the file `path` names, with every symbolic link resolved: the
 * file itself when it exists, else the file a write to `path` would create (a dangling
 * link is followed to its target; a missing name resolves within its directory's real path).
 */
export function resolveLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
    try {
      return realpathSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    let link = false;
    try {
      link = lstatSync(p).isSymbolicLink();
    } catch {
      // p does not exist at all
    }
    if (link) {
      p = resolve(dirname(p), readlinkSync(p));
      continue;
    }
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      // No such directory either: the write fails on its own with a plain ENOENT.
      return p;
    }
  }
  return p;
}

/** Device and inode of the file at `path` (links followed), or undefined if there is none. */
export function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** The first of `candidates` that is the same file as `path` (same device and inode), if any. */
export function findSameFile<T extends { path: string }>(path: string, candidates: readonly T[]): T | undefined {
  const id = fileIdentity(path);
  if (!id) return undefined;
  return candidates.find((c) => {
    const other = fileIdentity(c.path);
    return other !== undefined && other.dev === id.dev && other.ino === id.ino;
  });
}

/**
 * The files of a VHD chain, child first, with a description each for messages
 * ("base.vhd, the parent of child.vhd"). Members not backed by a file are skipped.
 */
export function chainFiles(disk: VhdDisk): { path: string; what: string }[] {
  const out: { path: string; what: string }[] = [];
  const top = disk.backend instanceof FileBackend ? disk.backend.path : 'the disk';
  let depth = 0;
  for (let d: VhdDisk | undefined = disk; d; d = d.parent, depth++) {
    if (!(d.backend instanceof FileBackend)) continue;
    const path = d.backend.path;
    const what = depth === 0 ? path : `${path}, ${depth === 1 ? 'the parent' : `ancestor ${depth}`} of ${top}`;
    out.push({ path, what });
  }
  return out;
}
