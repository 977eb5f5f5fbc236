/**
 * The image store's snapshots of a VM with a data disk (/dev/vdb, /data), in Chromium below
 * the page: a snapshot freezes the data disk with the system disk, a revert puts both back,
 * a delete merges both chains, machine states (suspended, a snapshot's) fit only while both
 * disks are as they were, and a store reopened keeps the data disk's child. Then the schema
 * upgrade: a version 3 database with such records in it opens at version 4 with every
 * record kept, and the snapshots and states it made before data disks were frozen are
 * handled honestly (a revert keeps today's /data and drops the machine that would not fit).
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

/** In the page: disk sizes, scribbling with a model of the bytes, comparing (as globalThis.__h). */
async function installHelpers(): Promise<void> {
  await page.evaluate(() => {
    const SIZE = 4 * 1024 * 1024;
    const DATA = 6 * 1024 * 1024;
    let seed = 11;
    const rnd = (n: number) => {
      // Math.imul: a plain product loses the low bits past 2^53. An LCG's low bits repeat
      // quickly (its low byte every 256 steps): the high ones are used.
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 12) % n;
    };
    const scribble = async (d: { write(o: number, b: Uint8Array): Promise<void> }, into: Uint8Array, runs: number) => {
      for (let i = 0; i < runs; i++) {
        const n = 1 + rnd(200);
        const at = rnd(into.length / 512 - n) * 512;
        const data = new Uint8Array(n * 512).map(() => rnd(256));
        await d.write(at, data);
        into.set(data, at);
      }
    };
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    (globalThis as unknown as { __h: unknown }).__h = { SIZE, DATA, scribble, same };
  });
}

test('a snapshot freezes the data disk too: revert puts /data back, delete merges both chains, states need both disks', async () => {
  await installHelpers();
  const r = await page.evaluate(async () => {
    const { ImageStore, sameDisks } = await import('/src/store/ImageStore.ts' as string);
    const { MemoryBackend, VhdDisk } = await import('/src/disk/index.ts' as string);
    const h = (globalThis as any).__h;
    const mem = new MemoryBackend();
    await (await VhdDisk.createDynamic(mem, h.SIZE)).flush();
    const name = 'romvisor-snapshot-data-test';
    let store = await ImageStore.open(name);
    const base = await store.importFile(new Blob([mem.bytes()]), 'base.vhd');
    const blank = await store.addBlankDisk('d data', h.DATA);
    const vm = await store.addVm({ id: 'vm-d', name: 'd', applianceId: 'x', memoryMiB: 64, createdAt: 0, dataImageId: blank.id }, base.id);
    const rec = async () => (await store.vm(vm.id)) as { diskImageId: string; dataImageId: string };
    const read = async (id: string, size: number) => {
      const d = await store.openDisk(id, { readOnly: true });
      const bytes = await d.read(0, size);
      await d.dispose();
      return bytes;
    };
    const write = async (id: string, into: Uint8Array, runs: number) => {
      const d = await store.openDisk(id);
      await h.scribble(d, into, runs);
      await d.flush();
      await d.dispose();
    };
    const out: Record<string, unknown> = {};
    const state = (tag: string) => new TextEncoder().encode(tag);

    // "one": taken with a suspended state that stands on both disks: it goes with the snapshot.
    const s1 = new Uint8Array(h.SIZE);
    const d1 = new Uint8Array(h.DATA);
    await write((await rec()).diskImageId, s1, 20);
    await write((await rec()).dataImageId, d1, 30);
    await store.putSuspended({ vmId: vm.id, state: state('s1'), ...(await store.vmDiskIdentities(await rec())), console: new Uint8Array(0), takenAt: 0 });
    const one = (await store.takeSnapshot(vm.id, 'one')).snapshot;
    const afterOne = await rec();
    out.one = [one.dataImageId === blank.id, one.withState, afterOne.dataImageId !== blank.id, (await store.image(blank.id)).origin, (await store.image(afterOne.dataImageId)).parentId === blank.id];
    out.suspendedFollows = sameDisks(await store.suspended(vm.id), await store.vmDiskIdentities(afterOne));

    // A suspended state whose data disk was written since: it is no longer the VM's machine.
    const d1b = d1.slice();
    await write(afterOne.dataImageId, d1b, 3);
    out.suspendedStaleAfterDataWrite = sameDisks(await store.suspended(vm.id), await store.vmDiskIdentities(afterOne));
    await store.deleteSuspended(vm.id);

    // "two" with a running VM's state, then more writes to both disks.
    const s2 = s1.slice();
    const d2 = d1b.slice();
    await write(afterOne.diskImageId, s2, 20);
    await write(afterOne.dataImageId, d2, 30);
    const two = (await store.takeSnapshot(vm.id, 'two', { state: state('s2'), console: new Uint8Array(0) })).snapshot;
    const s3 = s2.slice();
    const d3 = d2.slice();
    await write((await rec()).diskImageId, s3, 10);
    await write((await rec()).dataImageId, d3, 30);

    // The store opened again (a reload): the data disk's current child is no orphan.
    store.dispose();
    store = await ImageStore.open(name);
    const now3 = await rec();
    out.reopened = [h.same(await read(now3.dataImageId, h.DATA), d3), h.same(await read(now3.diskImageId, h.SIZE), s3)];

    // Revert to "one": /data as it was then (not as written since), the system disk too, and its machine.
    const rev1 = await store.revertToSnapshot(vm.id, one.id);
    const at1 = await rec();
    out.rev1 = [rev1.outcome, h.same(await read(at1.dataImageId, h.DATA), d1), h.same(d1, d1b), h.same(await read(at1.diskImageId, h.SIZE), s1), (await store.image(now3.dataImageId)) === undefined];
    // Revert to "two": its machine resumes, on the data disk as it was at the snapshot.
    const rev2 = await store.revertToSnapshot(vm.id, two.id);
    const at2 = await rec();
    out.rev2 = [rev2.outcome, new TextDecoder().decode((await store.suspended(vm.id)).state), h.same(await read(at2.dataImageId, h.DATA), d2), sameDisks(await store.suspended(vm.id), await store.vmDiskIdentities(at2))];
    const d4 = d2.slice();
    await write(at2.dataImageId, d4, 10);

    // Delete "two": both its disks merge into what grew from them; everything reads the same.
    await store.deleteSnapshot(two.id);
    const at2b = await rec();
    out.deleteTwo = [h.same(await read(at2b.dataImageId, h.DATA), d4), h.same(await read(at2b.diskImageId, h.SIZE), s2), (await store.image(two.dataImageId)) === undefined, (await store.image(two.imageId)) === undefined, (await store.image(at2b.dataImageId)).parentId === one.dataImageId];
    // Delete "one": its data disk is the blank disk the VM was made with, the chain's root:
    // it stays (no snapshot's any more), the system side merges; /data reads the same.
    await store.deleteSnapshot(one.id);
    const at2c = await rec();
    out.deleteOne = [h.same(await read(at2c.dataImageId, h.DATA), d4), h.same(await read(at2c.diskImageId, h.SIZE), s2), (await store.image(blank.id))?.parentId === undefined, (await store.image(one.imageId)) === undefined, (await store.snapshotTree(vm.id)).nodes.length];

    // A snapshot's state whose data disk was changed behind the store's back is stale.
    const three = (await store.takeSnapshot(vm.id, 'three', { state: state('s3'), console: new Uint8Array(0) })).snapshot;
    const d = await store.openDisk(three.dataImageId);
    await d.write(0, await d.read(0, 512));
    await d.flush();
    await d.dispose();
    out.staleOnData = (await store.revertToSnapshot(vm.id, three.id)).outcome;

    await store.deleteVm(vm.id);
    out.left = (await store.images()).map((i: { id: string }) => i.id).filter((id: string) => id !== base.id);
    store.dispose();
    return out;
  });
  assert.deepEqual(r, {
    one: [true, true, true, 'snapshot', true],
    suspendedFollows: true,
    suspendedStaleAfterDataWrite: false,
    reopened: [true, true],
    rev1: ['state', true, false, true, true],
    rev2: ['state', 's2', true, true],
    deleteTwo: [true, true, true, true, true],
    deleteOne: [true, true, true, true, 0],
    staleOnData: 'state-stale',
    left: [],
  });
});

test('schema 3 → 4: a database with VMs, a data disk, a snapshot and a suspended state in it opens with every record kept; its old snapshot and state never pair a machine with another /data', async () => {
  await installHelpers();
  const r = await page.evaluate(async () => {
    const { ImageStore, sameDisks } = await import('/src/store/ImageStore.ts' as string);
    const { MemoryBackend, VhdDisk } = await import('/src/disk/index.ts' as string);
    const h = (globalThis as any).__h;
    const req = <T>(q: IDBRequest<T>) => new Promise<T>((ok, no) => ((q.onsuccess = () => ok(q.result)), (q.onerror = () => no(q.error))));
    const done = (tx: IDBTransaction) => new Promise<void>((ok, no) => ((tx.oncomplete = () => ok()), (tx.onerror = () => no(tx.error))));

    // Real images and records, made by the store of today in a scratch database...
    const mem = new MemoryBackend();
    await (await VhdDisk.createDynamic(mem, h.SIZE)).flush();
    const scratch = await ImageStore.open('romvisor-upgrade-scratch');
    const base = await scratch.importFile(new Blob([mem.bytes()]), 'base.vhd');
    const blank = await scratch.addBlankDisk('old data', h.DATA);
    const vm = await scratch.addVm({ id: 'vm-old', name: 'old', applianceId: 'x', memoryMiB: 64, createdAt: 0, dataImageId: blank.id }, base.id);
    const dataModel = new Uint8Array(h.DATA);
    const dd = await scratch.openDisk(blank.id);
    await h.scribble(dd, dataModel, 20);
    await dd.flush();
    await dd.dispose();
    const snap = (await scratch.takeSnapshot(vm.id, 'before-4', { state: new TextEncoder().encode('old-state'), console: new Uint8Array(0) })).snapshot;
    const now = (await scratch.vm(vm.id)) as { diskImageId: string; dataImageId: string };
    const all: Record<string, { keys: IDBValidKey[]; values: unknown[] }> = {};
    for (const s of [...scratch.db.objectStoreNames]) {
      const os = scratch.db.transaction(s).objectStore(s);
      all[s] = { keys: await req(os.getAllKeys()), values: await req(os.getAll()) };
    }
    scratch.dispose();
    // ...written into a database of version 3 as that version's code kept them: a snapshot
    // that did not freeze the data disk (the VM on the data disk it always had), a snapshot
    // state and a suspended state naming the system disk alone.
    const oldSnap = { ...snap } as Record<string, unknown>;
    delete oldSnap.dataImageId;
    const vmRec = { ...(all.vms!.values[0] as Record<string, unknown>), dataImageId: blank.id };
    const stripData = (v: Record<string, unknown>) => {
      const o = { ...v };
      delete o.dataDisk;
      return o;
    };
    const images = (all.images!.values as { id: string; origin: string }[]).filter((i) => i.id !== now.dataImageId).map((i) => (i.id === blank.id ? { ...i, origin: 'vm' } : i));
    const name = 'romvisor-upgrade-test';
    await new Promise<void>((ok, no) => {
      const q = indexedDB.deleteDatabase(name);
      q.onsuccess = () => ok();
      q.onerror = () => no(q.error);
    });
    const open3 = indexedDB.open(name, 3);
    open3.onupgradeneeded = () => {
      const db = open3.result;
      db.createObjectStore('images', { keyPath: 'id' });
      db.createObjectStore('chunks');
      db.createObjectStore('vms', { keyPath: 'id' });
      db.createObjectStore('suspended', { keyPath: 'vmId' });
      db.createObjectStore('snapshots', { keyPath: 'id' }).createIndex('vmId', 'vmId');
      db.createObjectStore('snapshotStates', { keyPath: 'snapshotId' });
    };
    const db3 = await req(open3);
    const tx = db3.transaction(['images', 'chunks', 'vms', 'suspended', 'snapshots', 'snapshotStates'], 'readwrite');
    for (const i of images) tx.objectStore('images').put(i);
    all.chunks!.keys.forEach((k, i) => {
      if ((k as [string])[0] !== now.dataImageId) tx.objectStore('chunks').put(all.chunks!.values[i], k);
    });
    tx.objectStore('vms').put(vmRec);
    tx.objectStore('snapshots').put(oldSnap);
    tx.objectStore('snapshotStates').put(stripData(all.snapshotStates!.values[0] as Record<string, unknown>));
    tx.objectStore('suspended').put({ vmId: vm.id, state: new TextEncoder().encode('suspended-old'), disk: (all.snapshotStates!.values[0] as { disk: unknown }).disk, console: new Uint8Array(0), takenAt: 0 });
    await done(tx);
    const counts3 = Object.fromEntries(await Promise.all(['images', 'chunks', 'vms', 'suspended', 'snapshots', 'snapshotStates'].map(async (s) => [s, await req(db3.transaction(s).objectStore(s).count())])));
    db3.close();

    // Today's store opens it: version 4, nothing lost (not even the data disk, which a
    // version-3 sweep of unnamed VM disks must not take for an orphan).
    const store = await ImageStore.open(name);
    const counts4 = Object.fromEntries(await Promise.all(['images', 'chunks', 'vms', 'suspended', 'snapshots', 'snapshotStates'].map(async (s) => [s, await req(store.db.transaction(s).objectStore(s).count())])));
    const out: Record<string, unknown> = { version: store.db.version, kept: JSON.stringify(counts3) === JSON.stringify(counts4), counts: counts4 };
    const v = (await store.vm(vm.id)) as { diskImageId: string; dataImageId: string };
    const readData = async () => {
      const d = await store.openDisk(v.dataImageId, { readOnly: true });
      const b = await d.read(0, h.DATA);
      await d.dispose();
      return b;
    };
    out.dataReads = h.same(await readData(), dataModel);
    // The old suspended state knows nothing of the data disk: never resumed on it.
    out.oldSuspendedFits = sameDisks(await store.suspended(vm.id), await store.vmDiskIdentities(v));
    // Reverting to the old snapshot keeps today's /data and drops its machine.
    const rev = await store.revertToSnapshot(vm.id, snap.id);
    out.revert = [rev.outcome, rev.vm.dataImageId === blank.id, (await store.suspended(vm.id)) === undefined];
    out.dataAfterRevert = h.same(await readData(), dataModel);
    // A snapshot taken now freezes it.
    out.newSnapFreezes = (await store.takeSnapshot(vm.id, 'after-4')).snapshot.dataImageId === blank.id;
    store.dispose();
    return out;
  });
  assert.equal(r.version, 4);
  assert.ok(r.kept, `every record kept: ${JSON.stringify(r.counts)}`);
  assert.deepEqual({ ...r, counts: undefined, version: undefined, kept: undefined }, {
    counts: undefined,
    version: undefined,
    kept: undefined,
    dataReads: true,
    oldSuspendedFits: false,
    revert: ['state-stale', true, true],
    dataAfterRevert: true,
    newSnapFreezes: true,
  });
});
