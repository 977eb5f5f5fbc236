// An in-memory repository "server" for the lazy remote disk's tests: a fetch function over
// a byte array (with or without Range), and a chunk store in a Map.
import { createHash } from 'node:crypto';
import type { ChunkStore } from '../../src/repo/RemoteChunkBackend.ts';
import type { RepositoryVersion } from '../../src/repo/RepositoryIndex.ts';
import { pattern } from '../disk/diskFixtures.ts';

export const CS = 64 * 1024;
export const FILE = pattern(40 * CS + 1000, 7); // the last chunk is short
export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const VERSION: RepositoryVersion = {
  version: '1',
  url: 'disk.vhd',
  size: FILE.length,
  virtualSize: FILE.length,
  sha256: sha(FILE),
  chunkSize: CS,
  chunks: Array.from({ length: Math.ceil(FILE.length / CS) }, (_, i) => sha(FILE.subarray(i * CS, (i + 1) * CS))),
};

/** A server over `file`: with or without Range, counting requests and the most at once. */
export function server(file: Uint8Array, ranges = true) {
  const log: string[] = [];
  let now = 0;
  const stats = { maxAtOnce: 0, bytes: 0 };
  const fetch = async (_url: string, init?: RequestInit): Promise<Response> => {
    const range = (init?.headers as Record<string, string> | undefined)?.Range ?? '';
    log.push(range);
    now++;
    stats.maxAtOnce = Math.max(stats.maxAtOnce, now);
    await new Promise((r) => setTimeout(r, 2));
    now--;
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (ranges && m) {
      const body = file.slice(Number(m[1]), Number(m[2]) + 1);
      stats.bytes += body.length;
      return new Response(body, { status: 206, headers: { 'content-range': `bytes ${m[1]}-${m[2]}/${file.length}` } });
    }
    stats.bytes += file.length;
    return new Response(file.slice(), { status: 200 });
  };
  return { fetch, log, stats };
}

export class MapStore implements ChunkStore {
  readonly map = new Map<string, Uint8Array>();
  async get(s: string) {
    return this.map.get(s)?.slice();
  }
  async put(s: string, b: Uint8Array) {
    this.map.set(s, b.slice());
  }
}
