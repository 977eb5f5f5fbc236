/**
 * Node-only: the CLI's store of verified repository chunks, one file per chunk named by its
 * sha256 under $XDG_DATA_HOME/romvisor/chunks/ (two-hex-digit subfolders keep folders
 * small). Content-addressed, so versions and repositories that share a chunk store it
 * once. Files are written under a temporary name and renamed: a half-written chunk is
 * never found. What is read back is verified again by RemoteChunkBackend.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkStore } from './RemoteChunkBackend.ts';

export class FileChunkStore implements ChunkStore {
  constructor(readonly dir: string) {}

  private path(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(sha256)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(sha256);
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }
}
