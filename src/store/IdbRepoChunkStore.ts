/**
 * The page's store of a repository base's verified chunks (RemoteChunkBackend's
 * ChunkStore): kept in the image store's chunk table under the base image's own id, by the
 * chunk's number in the repository's index, so deleting the base image deletes them too. A
 * chunk whose bytes repeat elsewhere in the file (all-zero ones, say) is kept once, under
 * the first number that has its sha256.
 */
import type { ChunkStore, RepositoryVersion } from '../repo/index.ts';
import { CHUNKS, chunkKey, imageChunkRange } from './imageDb.ts';
import { requestResult, transactionDone } from './idbRequests.ts';

export class IdbRepoChunkStore implements ChunkStore {
  private readonly firstIndex = new Map<string, number>();

  constructor(
    private readonly db: IDBDatabase,
    private readonly imageId: string,
    version: RepositoryVersion,
  ) {
    version.chunks.forEach((sha, i) => {
      if (!this.firstIndex.has(sha)) this.firstIndex.set(sha, i);
    });
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const i = this.firstIndex.get(sha256);
    if (i === undefined) return undefined;
    const tx = this.db.transaction(CHUNKS, 'readonly');
    const v = (await requestResult(tx.objectStore(CHUNKS).get(chunkKey(this.imageId, i)))) as Uint8Array | undefined;
    return v ? new Uint8Array(v) : undefined;
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const i = this.firstIndex.get(sha256);
    if (i === undefined) return;
    const tx = this.db.transaction(CHUNKS, 'readwrite');
    tx.objectStore(CHUNKS).put(bytes, chunkKey(this.imageId, i));
    await transactionDone(tx);
  }

  /** Chunks kept of the file's distinct ones: each distinct chunk is kept once, under its first number. */
  async coverage(): Promise<{ kept: number; of: number }> {
    const tx = this.db.transaction(CHUNKS, 'readonly');
    const kept = await requestResult(tx.objectStore(CHUNKS).count(imageChunkRange(this.imageId)));
    return { kept, of: this.firstIndex.size };
  }
}
