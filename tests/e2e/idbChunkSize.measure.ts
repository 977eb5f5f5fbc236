/**
 * How big should IdbChunkBackend's chunks be? Runs the backend in Chromium at several
 * chunk sizes over three workloads and prints JSON and a table:
 *   seq-write   16 MiB in 256 KiB writes, then one flush (an import, a big file copy)
 *   rand-4k     1,000 4 KiB writes at random places in 64 MiB, flush every 50
 *               (a guest's scattered ext4 data and metadata writes with periodic syncs)
 *   cold-read   the 16 MiB read back in 64 KiB reads through a fresh backend (boot reads)
 * Not part of `npm test` (a timing is not an assertion):
 *   node --import tsx tests/e2e/idbChunkSize.measure.ts
 */
import { newPage, startEnv } from './harness.ts';

const SIZES = [4096, 16384, 65536, 262144, 1048576];

const env = await startEnv();
try {
  const page = await newPage(env);
  const results = await page.evaluate(async (sizes) => {
    const { IdbChunkBackend } = await import('/src/store/IdbChunkBackend.ts' as string);
    const { openImageDb, IMAGES } = await import('/src/store/imageDb.ts' as string);
    const db: IDBDatabase = await openImageDb('romvisor-chunk-measure');
    const put = (record: object) =>
      new Promise<void>((resolve, reject) => {
        const tx = db.transaction(IMAGES, 'readwrite');
        tx.objectStore(IMAGES).put(record);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const out = [];
    for (const chunkSize of sizes) {
      const id = `measure-${chunkSize}`;
      await put({ id, kind: 'base', origin: 'imported', name: id, size: 0, chunkSize, virtualSize: 0, vhdUuid: '', state: 'ready', createdAt: 0 });
      const data = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + 1) & 0xff);
      let b = await IdbChunkBackend.open(db, id);
      let t = performance.now();
      for (let off = 0; off < 16 << 20; off += data.length) await b.write(off, data);
      await b.flush();
      const seqWrite = performance.now() - t;
      const small = new Uint8Array(4096).fill(0x5a);
      t = performance.now();
      for (let i = 0; i < 1000; i++) {
        await b.write(Math.floor(rand() * 16384) * 4096, small);
        if (i % 50 === 49) await b.flush();
      }
      await b.flush();
      const rand4k = performance.now() - t;
      await b.dispose();
      b = await IdbChunkBackend.open(db, id, { readOnly: true });
      t = performance.now();
      for (let off = 0; off < 16 << 20; off += 65536) await b.read(off, 65536);
      const coldRead = performance.now() - t;
      await b.dispose();
      out.push({ chunkSize, seqWriteMs: Math.round(seqWrite), rand4kMs: Math.round(rand4k), coldReadMs: Math.round(coldRead) });
    }
    db.close();
    await new Promise((r) => {
      const req = indexedDB.deleteDatabase('romvisor-chunk-measure');
      req.onsuccess = req.onerror = r;
    });
    return out;
  }, SIZES);
  console.log(JSON.stringify(results));
  console.log('chunk      seq-write  rand-4k  cold-read   (ms)');
  for (const r of results) console.log(`${String(r.chunkSize / 1024).padStart(5)} KiB ${String(r.seqWriteMs).padStart(10)} ${String(r.rand4kMs).padStart(8)} ${String(r.coldReadMs).padStart(10)}`);
} finally {
  await env.close();
}
