// The lazy remote disk's backend against an in-memory "server" (a fetch function over a
// byte array): what it asks for, what it hands out, and what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemoteChunkBackend, type ChunkStore } from '../../src/repo/RemoteChunkBackend.ts';
import { RepoError } from '../../src/repo/RepoError.ts';
import { CS, FILE, MapStore, server, sha, VERSION } from './memoryRepoServer.ts';

const open = (s: ReturnType<typeof server>, store?: ChunkStore) => new RemoteChunkBackend({ url: new URL('http://repo.test/disk.vhd'), version: VERSION, fetch: s.fetch, store });

describe('a lazy remote disk', () => {
  it('fetches only the chunks a read touches, neighbours in one request, and hands out the right bytes', async () => {
    const s = server(FILE);
    const b = open(s);
    assert.deepEqual(await b.read(3 * CS + 5, 3 * CS), FILE.subarray(3 * CS + 5, 6 * CS + 5));
    assert.deepEqual(s.log, [`bytes=${3 * CS}-${7 * CS - 1}`]);
    // Again, and inside what was fetched: no request.
    assert.deepEqual(await b.read(4 * CS, 100), FILE.subarray(4 * CS, 4 * CS + 100));
    assert.equal(s.log.length, 1);
    // The short last chunk.
    assert.deepEqual(await b.read(FILE.length - 10, 10), FILE.subarray(FILE.length - 10));
    assert.deepEqual(s.log.at(-1), `bytes=${40 * CS}-${FILE.length - 1}`);
    assert.equal(b.stats.fetchedBytes, 4 * CS + 1000);
  });

  it('shares one request among reads of the same chunk, and keeps at most 4 requests in flight', async () => {
    const s = server(FILE);
    const b = open(s);
    await Promise.all([b.read(0, 10), b.read(100, 10), b.read(CS - 1, 1)]);
    assert.equal(s.log.length, 1);
    await Promise.all(Array.from({ length: 12 }, (_, i) => b.read((2 + 3 * i) * CS, 10)));
    assert.equal(s.log.length, 13);
    assert.ok(s.stats.maxAtOnce <= 4, `${s.stats.maxAtOnce} requests at once`);
  });

  it('downloads the whole file once, verified, when the server ignores Range', async () => {
    const s = server(FILE, false);
    const b = open(s);
    assert.deepEqual(await b.read(10 * CS, 2 * CS), FILE.subarray(10 * CS, 12 * CS));
    assert.deepEqual(await b.read(0, FILE.length), FILE);
    assert.equal(s.log.length, 1);
    assert.equal(b.stats.fullDownload, true);
    assert.equal(b.stats.fetchedChunks, VERSION.chunks.length);
  });

  it('refuses a chunk whose bytes changed on the server, naming it and its sha256, and hands out nothing after', async () => {
    for (const ranges of [true, false]) {
      const changed = FILE.slice();
      changed[7 * CS + 3] ^= 1;
      const s = server(changed, ranges);
      const b = open(s);
      // By range, the chunks before the change verify; the one download without Range is
      // all or nothing.
      if (ranges) assert.deepEqual(await b.read(0, CS), FILE.subarray(0, CS));
      await assert.rejects(b.read(ranges ? 7 * CS : 0, 16), (e: unknown) => {
        assert.ok(e instanceof RepoError && e.code === 'sha256-mismatch');
        assert.match(e.message, new RegExp(`^chunk 7 \\(bytes ${7 * CS}-${8 * CS - 1}\\) of disk\\.vhd at http://repo\\.test/disk\\.vhd: sha256 is ${sha(changed.subarray(7 * CS, 8 * CS))}, the repository index expects ${VERSION.chunks[7]}`));
        return true;
      });
      // The VM stops on the first failure: no read succeeds after it, even of good chunks.
      await assert.rejects(b.read(0, 10), /chunk 7/);
      assert.ok(b.failure);
    }
  });

  it('keeps verified chunks in the store for the next disk, and refetches a damaged one', async () => {
    const store = new MapStore();
    const first = server(FILE);
    await open(first, store).read(5 * CS, 2 * CS);
    const second = server(FILE);
    const again = open(second, store);
    assert.deepEqual(await again.read(5 * CS, 2 * CS), FILE.subarray(5 * CS, 7 * CS));
    assert.equal(second.log.length, 0);
    assert.equal(again.stats.storeChunks, 2);
    store.map.get(VERSION.chunks[6]!)![0] ^= 0xff;
    const third = server(FILE);
    assert.deepEqual(await open(third, store).read(5 * CS, 2 * CS), FILE.subarray(5 * CS, 7 * CS));
    assert.deepEqual(third.log, [`bytes=${6 * CS}-${7 * CS - 1}`]);
  });

  it('tries a request again after a failed connection or a 5xx answer, and gives up after three tries naming why', async () => {
    const s = server(FILE);
    let failures = 2;
    const flaky = async (url: string, init?: RequestInit) => {
      if (failures-- > 0) {
        if (failures === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
        return new Response('busy', { status: 503, statusText: 'Service Unavailable' });
      }
      return s.fetch(url, init);
    };
    const b = new RemoteChunkBackend({ url: new URL('http://repo.test/disk.vhd'), version: VERSION, fetch: flaky });
    assert.deepEqual(await b.read(0, 100), FILE.subarray(0, 100));
    assert.equal(b.stats.requests, 3);
    const down = new RemoteChunkBackend({ url: new URL('http://repo.test/disk.vhd'), version: VERSION, fetch: async () => new Response('', { status: 502, statusText: 'Bad Gateway' }) });
    await assert.rejects(down.read(0, 1), /http:\/\/repo\.test\/disk\.vhd: cannot reach repo\.test \(HTTP 502 Bad Gateway; tried 3 times\)/);
    // A 4xx is an answer, not a hiccup: no second try.
    const gone = new RemoteChunkBackend({ url: new URL('http://repo.test/disk.vhd'), version: VERSION, fetch: async () => new Response('', { status: 404, statusText: 'Not Found' }) });
    await assert.rejects(gone.read(0, 1), /HTTP 404 Not Found for bytes 0-65535/);
    assert.equal(gone.stats.requests, 1);
  });

  it('is read-only, and refuses reads past its end', async () => {
    const b = open(server(FILE));
    await assert.rejects(b.write(0, new Uint8Array(1)), /read-only/);
    await assert.rejects(b.read(FILE.length - 1, 2), /outside its/);
  });
});
