// The meter behind a repository VM's streaming line: the figures of every backend its
// disk chain opened, told a few times a second at most and only when they changed, and
// "available offline" once the store keeps every chunk.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemoteChunkBackend } from '../../src/repo/RemoteChunkBackend.ts';
import { describeRemoteDisk, RemoteDiskMeter, type RemoteDiskReadout } from '../../src/repo/RemoteDiskMeter.ts';
import type { RepositoryVersion } from '../../src/repo/RepositoryIndex.ts';
import { CS, FILE, MapStore, server, VERSION } from './memoryRepoServer.ts';

/** A store that can say how much of VERSION it keeps, as the page's IndexedDB one does. */
class CountingStore extends MapStore {
  async coverage() {
    const distinct = new Set(VERSION.chunks);
    return { kept: [...distinct].filter((s) => this.map.has(s)).length, of: distinct.size };
  }
}

const URL_A = new URL('http://repo.test/disk.vhd');
const URL_B = new URL('http://repo.test/patch.vhd');
const open = (url: URL, s: ReturnType<typeof server>, store?: MapStore, version: RepositoryVersion = VERSION) => new RemoteChunkBackend({ url, version, fetch: s.fetch, store });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the remote disk meter', () => {
  it('sums every backend of the chain (a file reopened counts its size once) and tells at most one readout per interval, not one per chunk', async () => {
    const heard: RemoteDiskReadout[] = [];
    const meter = new RemoteDiskMeter((r) => heard.push(r), 40);
    try {
      const started = performance.now();
      const s = server(FILE);
      const store = new CountingStore();
      const base = open(URL_A, s, store);
      const patch = open(URL_B, s);
      meter.watch(base);
      meter.watch(patch);
      // 30 reads of one chunk each, far apart: 30 requests, 30 chunks.
      for (let i = 0; i < 30; i++) await base.read(i * CS, 10);
      await patch.read(0, CS);
      // A snapshot reopens the base: a second backend of the same file, reading from the store.
      const reopened = open(URL_A, server(FILE), store);
      meter.watch(reopened);
      await reopened.read(0, 3 * CS);
      meter.flush();
      const last = heard.at(-1)!;
      assert.equal(last.fetchedBytes, 31 * CS);
      assert.equal(last.requests, 31);
      assert.equal(last.storeChunks, 3);
      assert.equal(last.storeBytes, 3 * CS);
      assert.equal(last.imageBytes, 2 * FILE.length, 'each file once, however often it was opened');
      assert.equal(last.offline, false);
      // At most one per interval (and the flush), however many chunks arrived in between.
      const elapsed = performance.now() - started;
      assert.ok(heard.length <= Math.floor(elapsed / 40) + 2, `${heard.length} readouts in ${elapsed.toFixed(0)} ms for 34 chunks`);
      // Nothing changed: nothing more is told.
      const n = heard.length;
      await sleep(120);
      meter.flush();
      assert.equal(heard.length, n);
    } finally {
      meter.dispose();
    }
  });

  it('says "available offline" once the store keeps every chunk of every file, and nothing was fetched for a boot from the copy', async () => {
    const heard: RemoteDiskReadout[] = [];
    const meter = new RemoteDiskMeter((r) => heard.push(r), 20);
    try {
      const store = new CountingStore();
      const b = open(URL_A, server(FILE), store);
      meter.watch(b);
      await b.read(0, CS);
      await sleep(60);
      assert.equal(heard.at(-1)!.offline, false);
      await b.fetchAll();
      // The first tick after the fetch asks the store; a later one tells it.
      for (const until = Date.now() + 5000; !heard.at(-1)!.offline && Date.now() < until; ) await sleep(20);
      assert.equal(heard.at(-1)!.offline, true);
      assert.match(describeRemoteDisk(heard.at(-1)!), /fetched of .* · now available offline$/);
    } finally {
      meter.dispose();
    }
  });

  it('puts each case in words: streaming, all from the copy, offline, nothing yet, a server without Range', () => {
    const base: RemoteDiskReadout = { fetchedBytes: 0, requests: 0, storeChunks: 0, storeBytes: 0, imageBytes: 10 * 2 ** 20 + 2 ** 19, offline: false, fullDownload: false };
    assert.equal(describeRemoteDisk({ ...base, fetchedBytes: 3.9 * 2 ** 20, requests: 12 }), 'disk: 3.9 MiB fetched of 11 MiB (37 %), 12 requests');
    assert.equal(describeRemoteDisk({ ...base, fetchedBytes: 2 ** 20, requests: 1, storeBytes: 2 ** 19, storeChunks: 8 }), "disk: 1.0 MiB fetched of 11 MiB (10 %), 1 request · 512 KiB read from this browser's copy");
    assert.equal(describeRemoteDisk({ ...base, storeBytes: 3 * 2 ** 20, storeChunks: 48 }), "disk: all read from this browser's copy (3.0 MiB), nothing fetched");
    assert.equal(describeRemoteDisk({ ...base, storeBytes: 3 * 2 ** 20, storeChunks: 48, offline: true }), "disk: available offline, nothing fetched (3.0 MiB read from this browser's copy)");
    assert.equal(describeRemoteDisk(base), 'disk: nothing fetched yet (11 MiB on the server, read as the guest needs it)');
    assert.equal(describeRemoteDisk({ ...base, fetchedBytes: base.imageBytes, requests: 1, fullDownload: true }), 'disk: 11 MiB fetched of 11 MiB (100 %), 1 request · the server ignores Range: the whole file came at once');
  });
});
