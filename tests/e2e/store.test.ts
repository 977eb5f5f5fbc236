/**
 * The IndexedDB image store in Chromium, below the page: chunked reads and writes,
 * holes, flush as one committed transaction, and a full quota that loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newPage, startEnv, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let page: Page;

before(async () => {
  env = await startEnv();
  page = await newPage(env);
});

after(async () => {
  await env?.close();
});

test('IdbChunkBackend: writes across chunks read back, holes read as zeros, a fresh connection sees a flush', async () => {
  const r = await page.evaluate(async () => {
    const { IdbChunkBackend } = await import('/src/store/IdbChunkBackend.ts' as string);
    const { openImageDb, IMAGES } = await import('/src/store/imageDb.ts' as string);
    const db: IDBDatabase = await openImageDb('romvisor-store-test-1');
    await new Promise<void>((res, rej) => {
      const tx = db.transaction(IMAGES, 'readwrite');
      tx.objectStore(IMAGES).put({ id: 'a', kind: 'base', origin: 'imported', name: 'a', size: 0, chunkSize: 65536, virtualSize: 0, vhdUuid: '', state: 'ready', createdAt: 0 });
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
    });
    const b = await IdbChunkBackend.open(db, 'a');
    const data = new Uint8Array(200_000).map((_, i) => (i % 251) + 1);
    await b.write(100_000, data); // spans four chunks, starts and ends mid-chunk
    await b.flush();
    const db2: IDBDatabase = await openImageDb('romvisor-store-test-1');
    const c = await IdbChunkBackend.open(db2, 'a', { readOnly: true });
    const back = await c.read(100_000, 200_000);
    const hole = await c.read(0, 100_000);
    return { size: c.size, same: back.every((v: number, i: number) => v === data[i]), zeros: hole.every((v: number) => v === 0), readOnlyRefused: await c.write(0, new Uint8Array(1)).then(() => false, (e: Error & { code?: string }) => e.code === 'read-only') };
  });
  assert.deepEqual(r, { size: 300_000, same: true, zeros: true, readOnlyRefused: true });
});

test('IdbChunkBackend: settle commits without a flush, and writes in flight together share one transaction', async () => {
  const r = await page.evaluate(async () => {
    const { IdbChunkBackend } = await import('/src/store/IdbChunkBackend.ts' as string);
    const { openImageDb, IMAGES } = await import('/src/store/imageDb.ts' as string);
    const real: IDBDatabase = await openImageDb('romvisor-store-test-settle');
    await new Promise<void>((res) => {
      const tx = real.transaction(IMAGES, 'readwrite');
      tx.objectStore(IMAGES).put({ id: 's', kind: 'child', origin: 'vm', name: 's', size: 0, chunkSize: 65536, virtualSize: 0, vhdUuid: '', state: 'ready', createdAt: 0 });
      tx.oncomplete = () => res();
    });
    const durabilities: string[] = [];
    const db = new Proxy(real, {
      get(target, prop) {
        if (prop === 'transaction') {
          return (stores: string | string[], mode?: IDBTransactionMode, opts?: IDBTransactionOptions) => {
            if (mode === 'readwrite') durabilities.push(opts?.durability ?? 'default');
            return target.transaction(stores, mode, opts);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const b = await IdbChunkBackend.open(db, 's');
    // Eight writers, each settling its own write, as eight virtio requests in flight do.
    await Promise.all([...Array(8).keys()].map(async (k) => {
      await b.write(k * 65536, new Uint8Array(65536).fill(k + 1));
      await b.settle();
    }));
    const afterSettle = [...durabilities];
    const fresh = await IdbChunkBackend.open(real, 's', { readOnly: true });
    const seen = await Promise.all([...Array(8).keys()].map(async (k) => (await fresh.read(k * 65536, 65536)).every((v: number) => v === k + 1)));
    await b.flush();
    return { afterSettle, all: durabilities, seen, size: fresh.size };
  });
  assert.deepEqual(r.seen, Array(8).fill(true), 'a settled write is not in the database');
  assert.equal(r.size, 8 * 65536);
  assert.ok(r.afterSettle.length <= 2, `eight settles took ${r.afterSettle.length} transactions`);
  assert.ok(r.afterSettle.every((d: string) => d === 'relaxed'));
  assert.equal(r.all.at(-1), 'strict', 'flush is a strict transaction');
});

test('IdbChunkBackend: a flush refused for quota keeps every write, and a later flush commits them', async () => {
  const r = await page.evaluate(async () => {
    const { IdbChunkBackend } = await import('/src/store/IdbChunkBackend.ts' as string);
    const { openImageDb, IMAGES } = await import('/src/store/imageDb.ts' as string);
    const real: IDBDatabase = await openImageDb('romvisor-store-test-2');
    await new Promise<void>((res) => {
      const tx = real.transaction(IMAGES, 'readwrite');
      tx.objectStore(IMAGES).put({ id: 'q', kind: 'child', origin: 'vm', name: 'q', size: 0, chunkSize: 65536, virtualSize: 0, vhdUuid: '', state: 'ready', createdAt: 0 });
      tx.oncomplete = () => res();
    });
    // The origin is "full": every read-write transaction is refused the way Chromium refuses it.
    let full = true;
    const db = new Proxy(real, {
      get(target, prop) {
        if (prop === 'transaction') {
          return (stores: string | string[], mode?: IDBTransactionMode, opts?: IDBTransactionOptions) => {
            if (full && mode === 'readwrite') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
            return target.transaction(stores, mode, opts);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const b = await IdbChunkBackend.open(db, 'q');
    await b.write(0, new Uint8Array(70_000).fill(7));
    const err = await b.flush().then(() => undefined, (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }));
    const stillThere = (await b.read(0, 70_000)).every((v: number) => v === 7);
    const held = b.unflushedBytes;
    full = false;
    await b.flush();
    const fresh = await IdbChunkBackend.open(real, 'q', { readOnly: true });
    const committed = (await fresh.read(0, 70_000)).every((v: number) => v === 7);
    return { err, stillThere, held, committed, size: fresh.size };
  });
  assert.equal(r.err?.name, 'StoreError');
  assert.equal(r.err?.code, 'quota-exceeded');
  assert.match(r.err!.message, /storage is full/);
  assert.ok(r.stillThere, 'the writes vanished after the refused flush');
  assert.equal(r.held, 2 * 65536);
  assert.ok(r.committed, 'the retried flush did not commit');
  assert.equal(r.size, 70_000);
});
