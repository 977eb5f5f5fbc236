/**
 * Backup and restore of a VM with a data disk (/dev/vdb, /data), in Chromium below the page:
 * the page's archive carries the data disk's chain (the blank disk it was made with, frozen
 * by a snapshot, and its current child) as `disk` entries, and restoring it gives the VM its
 * own data disk again, reading the same bytes, with the snapshot's frozen one linked. Over a
 * server that has the VM already: Copy makes a second data disk with VHD unique ids of its
 * own (never the original's shared), Replace puts the archive's /data in place of today's and
 * leaves none of the old data disks behind, Skip writes nothing.
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

test('a data disk travels in the archive: restored into an empty store, then as Copy, Replace and Skip over its VM', async () => {
  const r = await page.evaluate(async () => {
    const { ImageStore, ShareStore } = await import('/src/store/index.ts' as string);
    const { MemoryBackend, VhdDisk } = await import('/src/disk/index.ts' as string);
    const { collectStoreServer, writeBackupArchive, StoreRestore, BackupArchive } = await import('/src/backup/index.ts' as string);
    const SIZE = 2 * 1024 * 1024;
    const DATA = 3 * 1024 * 1024;
    const mem = new MemoryBackend();
    await (await VhdDisk.createDynamic(mem, SIZE)).flush();
    const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

    const store = await ImageStore.open('romvisor-backup-data-a');
    const shares = await ShareStore.open('romvisor-backup-data-a-shares');
    const base = await store.importFile(new Blob([mem.bytes()]), 'base.vhd');
    const blank = await store.addBlankDisk('d data', DATA);
    await store.addVm({ id: 'vm-d', name: 'd', applianceId: 'x', memoryMiB: 64, createdAt: 0, dataImageId: blank.id }, base.id);
    const writeData = async (s: typeof store, vmId: string, at: number, bytes: Uint8Array) => {
      const d = await s.openDisk(((await s.vm(vmId)) as { dataImageId: string }).dataImageId);
      await d.write(at, bytes);
      await d.flush();
      await d.dispose();
    };
    const readData = async (s: typeof store, vmId: string) => {
      const d = await s.openDisk(((await s.vm(vmId)) as { dataImageId: string }).dataImageId, { readOnly: true });
      const b = await d.read(0, DATA);
      await d.dispose();
      return b;
    };
    const sum = async (b: Uint8Array) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)), (x) => x.toString(16).padStart(2, '0')).join('').slice(0, 16);
    // /data before the snapshot, the snapshot (freezing it), /data after.
    await writeData(store, 'vm-d', 4096, fill(8192, 0x41));
    const snap = (await store.takeSnapshot('vm-d', 'first')).snapshot;
    await writeData(store, 'vm-d', 1024 * 1024, fill(4096, 0x42));
    const original = await readData(store, 'vm-d');

    const { server, sources } = await collectStoreServer(store, shares);
    const parts: Uint8Array[] = [];
    for await (const p of writeBackupArchive(server, sources, { createdBy: 'test' })) parts.push(p.slice());
    const archive = new Blob(parts as BlobPart[]);
    const bytes = new Uint8Array(await archive.arrayBuffer());
    const opened = await BackupArchive.open(new MemoryBackend(bytes, { readOnly: true }));
    const vmRec = opened.server.stores.vms![0]!.value as { dataImageId: string };
    const dataImg = opened.server.images.find((i: { id: string }) => i.id === vmRec.dataImageId);
    const out: Record<string, unknown> = {
      inArchive: [dataImg !== undefined, opened.entries.find((e: { name: string }) => e.name === dataImg?.entry)?.kind, opened.server.images.some((i: { id: string; entry?: string }) => i.id === blank.id && i.entry !== undefined)],
    };
    const noBase = async () => {
      throw new Error('no base is named by reference here');
    };
    const freeName = (n: string, taken: ReadonlySet<string>) => {
      for (let i = 2; ; i++) if (!taken.has(`${n}-${i}`)) return `${n}-${i}`;
    };
    const restore = async (s: typeof store, sh: typeof shares, choices: Map<string, string>) => {
      const plan = await StoreRestore.open(new MemoryBackend(bytes.slice(), { readOnly: true }), s);
      return plan.apply(s, sh, choices, noBase, freeName);
    };

    // Into an empty store (another browser): the VM's /data reads as it did; its snapshot's data disk is linked.
    const b = await ImageStore.open('romvisor-backup-data-b');
    const bShares = await ShareStore.open('romvisor-backup-data-b-shares');
    await restore(b, bShares, new Map());
    const bVm = (await b.vm('vm-d')) as { dataImageId: string; diskImageId: string };
    const bSnap = (await b.snapshotTree('vm-d')).nodes[0];
    out.fresh = [await sum(await readData(b, 'vm-d')) === (await sum(original)), (await b.image(bVm.dataImageId))?.parentId === bSnap?.dataImageId, (await b.image(bSnap.dataImageId))?.origin];
    // Revert there goes back to /data as it was at the snapshot.
    await b.revertToSnapshot('vm-d', bSnap.id);
    const atSnap = await readData(b, 'vm-d');
    out.revertThere = [atSnap[4096] === 0x41, atSnap[1024 * 1024] === 0];
    b.dispose();

    // Over the VM itself: Copy gives a second VM with a data disk of its own.
    await writeData(store, 'vm-d', 0, fill(512, 0x43));
    const today = await sum(await readData(store, 'vm-d'));
    const copy = await restore(store, shares, new Map([['vm-d', 'copy']]));
    const copyId = copy.restored[0];
    const c = (await store.vm(copyId)) as { name: string; dataImageId: string };
    const d = (await store.vm('vm-d')) as { dataImageId: string };
    const chain = async (top: string, field: 'vhdUuid' | 'id') => {
      const out2: string[] = [];
      for (let r = await store.image(top); r; r = r.parentId ? await store.image(r.parentId) : undefined) out2.push(r[field]);
      return out2;
    };
    const chainUuids = (top: string) => chain(top, 'vhdUuid');
    const cu = await chainUuids(c.dataImageId);
    const du = await chainUuids(d.dataImageId);
    out.copy = [c.name, c.dataImageId !== d.dataImageId, cu.length, cu.filter((u) => du.includes(u)).length, await sum(await readData(store, copyId)) === (await sum(original)), await sum(await readData(store, 'vm-d')) === today];
    // The copy's data disk is written apart from the original's.
    await writeData(store, copyId, 0, fill(512, 0x44));
    out.apart = (await readData(store, 'vm-d'))[0] === 0x43;

    // Replace: the archive's /data comes back in place of today's; the old data disks go.
    const oldData = await chain(d.dataImageId, 'id');
    const before = (await store.images()).length;
    await restore(store, shares, new Map([['vm-d', 'replace'], [copyId, 'skip']]));
    const e = (await store.vm('vm-d')) as { dataImageId: string };
    const left = (await store.images()).filter((i: { id: string }) => oldData.includes(i.id)).length;
    out.replace = [await sum(await readData(store, 'vm-d')) === (await sum(original)), left, (await store.images()).length === before];

    // Skip: nothing written.
    const n = (await store.images()).length;
    const vms = (await store.vms()).length;
    const plan = await StoreRestore.open(new MemoryBackend(bytes.slice(), { readOnly: true }), store);
    await plan.apply(store, shares, new Map(plan.vms.map((v: { id: string }) => [v.id, 'skip'])), noBase, freeName);
    out.skip = [(await store.images()).length === n, (await store.vms()).length === vms];
    out.replaceIds = (await chain(e.dataImageId, 'id')).filter((id) => oldData.includes(id)).length;
    store.dispose();
    return out;
  });
  assert.deepEqual(r, {
    inArchive: [true, 'disk', true],
    fresh: [true, true, 'snapshot'],
    revertThere: [true, true],
    copy: ['d-2', true, 2, 0, true, true],
    apart: true,
    replace: [true, 0, true],
    replaceIds: 0,
    skip: [true, true],
  });
});
