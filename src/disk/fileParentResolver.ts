// Node-only (exported from node.ts): finds a differencing disk's parent on the file system.
import { access } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { BlockBackend } from './BlockBackend.ts';
import { FileBackend } from './FileBackend.ts';
import type { ParentReference, ParentResolver } from './VhdDisk.ts';

/**
 * A `ParentResolver` for a chain of files: tries the relative locators (W2ru) against
 * the child's directory, then absolute ones (W2ku), then the parent's unicode name next
 * to the child. Parents open read-only. VhdDisk checks the unique id of what we return.
 */
export function fileParentResolver(): ParentResolver {
  return async (ref: ParentReference, child: BlockBackend): Promise<BlockBackend | undefined> => {
    // Non-file children (memory, IndexedDB) have no directory; use the working directory.
    const childPath = child instanceof FileBackend ? child.path : './child.vhd';
    for (const candidate of parentCandidates(childPath, ref)) {
      try {
        await access(candidate);
      } catch {
        continue;
      }
      return FileBackend.open(candidate, { readOnly: true });
    }
    return undefined;
  };
}

/** Where to look, in order. Windows separators are turned into '/' (images cross OSes). */
export function parentCandidates(childPath: string, ref: ParentReference): string[] {
  const base = dirname(childPath);
  const out: string[] = [];
  const norm = (p: string): string => p.replace(/\\/g, '/');
  for (const l of ref.locators) if (l.platform === 'W2ru' || l.platform === 'Wi2r') out.push(resolve(base, norm(l.path)));
  for (const l of ref.locators) {
    const p = norm(l.path);
    if (l.platform !== 'W2ru' && l.platform !== 'Wi2r') out.push(isAbsolute(p) ? p : resolve(base, p));
  }
  if (ref.unicodeName) out.push(resolve(base, norm(ref.unicodeName).split('/').pop()!));
  return [...new Set(out)];
}
