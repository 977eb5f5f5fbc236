/**
 * The image store's snapshots in Chromium, below the page and without a guest: what each
 * disk reads after takes, reverts and deletes (against models of the bytes written), which
 * machine states stay resumable (a suspended VM's state goes with its snapshot; a merge keeps
 * the states on the disks it rewrites; a snapshot disk changed behind the store's back makes
 * its state stale), and that a revert leaves no disk behind.
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

test('ImageStore snapshots: take, revert, delete with merges; states follow their disks', async () => {
  const r = await page.evaluate(async () => {
    const { ImageStore, sameDisk } = await import('/src/store/ImageStore.ts' as string);
    const { MemoryBackend, VhdDisk } = await import('/src/disk/index.ts' as string);
    const SIZE = 8 * 1024 * 1024;
    const mem = new MemoryBackend();
    const b = await VhdDisk.createDynamic(mem, SIZE);
    const model = new Uint8Array(SIZE);
    let seed = 7;
    const rnd = (n: number) => {
      // Math.imul: a plain product past 2^53 loses its low bits, and the generator collapsed
      // into runs of a sector or two; the high bits, as the low ones of an LCG repeat quickly.
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 12) % n;
    };
    // Runs of sectors across the disk, some across 2 MiB block edges.
    const scribble = async (d: { write(o: number, b: Uint8Array): Promise<void> }, into: Uint8Array, runs: number) => {
      for (let i = 0; i < runs; i++) {
        const n = 1 + rnd(300);
        const at = rnd(SIZE / 512 - n) * 512;
        const data = new Uint8Array(n * 512).map(() => rnd(256));
        await d.write(at, data);
        into.set(data, at);
      }
    };
    await scribble(b, model, 30);
    await b.flush();
    const store = await ImageStore.open('romvisor-snapshot-store-test');
    const base = await store.importFile(new Blob([mem.bytes()]), 'base.vhd');
    const vm = await store.addVm({ id: 'vm-s', name: 's', applianceId: 'x', memoryMiB: 64, createdAt: 0 }, base.id);
    const onDisk = async (imageId: string) => {
      const d = await store.openDisk(imageId, { readOnly: true });
      const bytes = await d.read(0, SIZE);
      await d.dispose();
      return bytes;
    };
    const current = async () => (await store.vms()).find((v: { id: string }) => v.id === vm.id).diskImageId as string;
    const writeCurrent = async (into: Uint8Array, runs: number) => {
      const d = await store.openDisk(await current());
      await scribble(d, into, runs);
      await d.flush();
      await d.dispose();
    };
    const same = (a: Uint8Array, b2: Uint8Array) => a.length === b2.length && a.every((v, i) => v === b2[i]);
    const out: Record<string, unknown> = {};
    const state = (tag: string) => new TextEncoder().encode(tag);

    // "one": a suspended VM's snapshot carries its state, which stays resumable on the new disk.
    const m1 = model.slice();
    await writeCurrent(m1, 40);
    await store.putSuspended({ vmId: vm.id, state: state('s1'), disk: await store.diskIdentity(await current()), console: new Uint8Array(0), takenAt: 0 });
    const one = (await store.takeSnapshot(vm.id, 'one')).snapshot;
    out.oneWithState = one.withState;
    out.suspendedFollows = sameDisk((await store.suspended(vm.id)).disk, await store.diskIdentity(await current()));
    await store.deleteSuspended(vm.id);

    // "two" without state, "three" with one given (a running VM's), then the current disk.
    const m2 = m1.slice();
    await writeCurrent(m2, 40);
    const two = (await store.takeSnapshot(vm.id, 'two')).snapshot;
    const m3 = m2.slice();
    await writeCurrent(m3, 40);
    const three = (await store.takeSnapshot(vm.id, 'three', { state: state('s3'), console: new Uint8Array(0) })).snapshot;
    const m4 = m3.slice();
    await writeCurrent(m4, 20);
    const tree = await store.snapshotTree(vm.id);
    out.tree = tree.nodes.map((n: { name: string; parentSnapshotId?: string }) => `${n.name}<${tree.nodes.find((p: { id: string }) => p.id === n.parentSnapshotId)?.name ?? 'base'}`);
    out.hereUnderThree = tree.current === three.id;

    // Deleting the middle one merges it into "three"'s disk: every disk reads as before.
    await store.deleteSnapshot(two.id);
    out.afterDelete = [same(await onDisk(one.imageId), m1), same(await onDisk(three.imageId), m3), same(await onDisk(await current()), m4)];
    const tree2 = await store.snapshotTree(vm.id);
    out.threeUnderOne = tree2.nodes.find((n: { id: string }) => n.id === three.id).parentSnapshotId === one.id;

    // Revert to "three": its state is resumable (the merge kept it), the old current disk is gone.
    const before = await current();
    const rev3 = await store.revertToSnapshot(vm.id, three.id);
    out.rev3 = [rev3.outcome, new TextDecoder().decode((await store.suspended(vm.id)).state), same(await onDisk(await current()), m3), (await store.image(before)) === undefined];

    // Revert to "one", then delete it: its disk merges into "three"'s and the current one.
    await store.revertToSnapshot(vm.id, one.id);
    const m5 = m1.slice();
    await writeCurrent(m5, 20);
    await store.deleteSnapshot(one.id);
    out.afterDeleteOne = [same(await onDisk(three.imageId), m3), same(await onDisk(await current()), m5), (await store.image(one.imageId)) === undefined];
    out.rev3again = (await store.revertToSnapshot(vm.id, three.id)).outcome;

    // A snapshot disk written behind the store's back: its state no longer fits.
    const d = await store.openDisk(three.imageId);
    await d.write(0, await d.read(0, 512));
    await d.flush();
    await d.dispose();
    out.stale = (await store.revertToSnapshot(vm.id, three.id)).outcome;
    out.noSuspendedAfterStale = (await store.suspended(vm.id)) === undefined;

    await store.deleteVm(vm.id);
    const left = (await store.images()).filter((i: { id: string }) => i.id !== base.id).length;
    out.left = [left, (await store.snapshotTree(vm.id)).nodes.length];
    store.dispose();
    return out;
  });
  assert.deepEqual(r, {
    oneWithState: true,
    suspendedFollows: true,
    tree: ['one<base', 'two<one', 'three<two'],
    hereUnderThree: true,
    afterDelete: [true, true, true],
    threeUnderOne: true,
    rev3: ['state', 's3', true, true],
    afterDeleteOne: [true, true, true],
    rev3again: 'state',
    stale: 'state-stale',
    noSuspendedAfterStale: true,
    left: [0, 0],
  });
});
