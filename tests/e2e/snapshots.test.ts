/**
 * Snapshots from a VM card's Snapshots dialog, the way a user meets them: files written,
 * a snapshot, the files destroyed (`rm -rf /root/*`), Revert, the files back. Snapshots with
 * the machine: a middle one deleted (its disk merged into the ones grown from it) and the
 * others still revert to the right files, read from the disk, not the guest's cache; the tree
 * survives a reload. A screenshot of the tree goes to test-results/snapshot-tree.png.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { atPrompt, consoleText, newPage, newVmAtShell, powerOn, startEnv, typeInVm, vmState, waitForConsole, waitForHvConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

const count = (text: string, what: string) => text.split(what).length - 1;
const dialog = (vm: string) => `dialog[data-snapshots-of="${vm}"]`;

async function openSnapshots(page: Page, vm: string): Promise<void> {
  await page.click(`[data-vm="${vm}"] details.menu summary`);
  await page.click(`[data-vm="${vm}"] [data-action="snapshots"]`);
  await page.waitForSelector(`${dialog(vm)} [data-snapshot-tree] [data-current]`);
}

async function closeSnapshots(page: Page, vm: string): Promise<void> {
  await page.click(`${dialog(vm)} [data-action="close-snapshots"]`);
  await page.waitForSelector(dialog(vm), { state: 'detached' });
}

/** Types a shell line and waits for its marker line (echoed by the command itself) and the prompt. */
async function sh(page: Page, vm: string, line: string, marker: string): Promise<string> {
  const before = await consoleText(page, vm);
  await typeInVm(page, vm, `${line}; echo ${marker}-$((1+1))\n`);
  const text = await waitForConsole(page, vm, (t) => t.length > before.length && t.slice(before.length).includes(`${marker}-2`) && atPrompt(t), 30_000);
  return text.slice(before.length);
}

async function takeSnapshot(page: Page, vm: string, name: string, withState: boolean, shotName?: string): Promise<void> {
  await openSnapshots(page, vm);
  const n = await page.locator(`${dialog(vm)} [data-snapshot-id]`).count();
  await page.fill(`${dialog(vm)} [data-field="snapshot-name"]`, name);
  await page.setChecked(`${dialog(vm)} [data-field="snapshot-with-state"]`, withState);
  if (shotName) await page.locator(dialog(vm)).screenshot({ path: `test-results/${shotName}.png` });
  await page.click(`${dialog(vm)} [data-action="take-snapshot"]`);
  await page.waitForSelector(`${dialog(vm)} [data-snapshot-name="${name}"]`, { timeout: 60_000 });
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-id]`).count(), n + 1);
  // The VM stands on the new snapshot: "you are here" hangs right under it.
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-name="${name}"] > ul > [data-current]`).count(), 1);
  await closeSnapshots(page, vm);
}

async function snapshotAction(page: Page, vm: string, name: string, action: 'revert-snapshot' | 'delete-snapshot'): Promise<void> {
  await openSnapshots(page, vm);
  await page.click(`${dialog(vm)} [data-snapshot-name="${name}"] > .snap-row [data-action="${action}"]`);
  await page.click('dialog.confirm:not(.snapshots) [data-confirm="yes"]');
}

/** Reads files from the disk itself: the guest's page cache is dropped first. */
async function filesOnDisk(page: Page, vm: string, marker: string): Promise<string> {
  return sh(page, vm, 'sync; echo 3 > /proc/sys/vm/drop_caches; for f in a b c; do echo "$f=$(cat /root/$f 2>/dev/null || echo none)"; done', marker);
}

test('a snapshot, rm -rf /root/*, Revert: the VM boots with its files back', async () => {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');
  await sh(page, vm, 'mkdir -p /root/dir && echo first-file > /root/a && echo nested-file > /root/dir/b && sync', 'written');
  await takeSnapshot(page, vm, 'files in place', false);
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-state'), 'running', 'a snapshot does not stop the VM');
  const gone = await sh(page, vm, 'rm -rf /root/* && sync && ls /root | wc -l', 'destroyed');
  assert.match(gone, /\n0\r?\n/, 'the files are gone');

  await snapshotAction(page, vm, 'files in place', 'revert-snapshot');
  await vmState(page, vm, 'stopped', 60_000);
  await page.waitForSelector(`${dialog(vm)} [data-snapshot-name="files in place"] > ul > [data-current]`);
  await closeSnapshots(page, vm);
  assert.equal(await page.textContent(`[data-vm="${vm}"] [data-action="start"]`), 'Start', 'a disk-only snapshot boots');

  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  await waitForConsole(page, vm, (t) => count(t, '[romvisor] powering on') === 2 && atPrompt(t), 90_000);
  const back = await sh(page, vm, 'cat /root/a /root/dir/b', 'read');
  assert.match(back, /first-file\r?\nnested-file\r?\n/, 'the files are back');
  await page.close();
});

test('snapshots with the machine: a middle one deleted, the others still revert to their own files; the tree survives a reload', async () => {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');
  await sh(page, vm, 'echo 1 > /root/a && sync', 's1');
  await takeSnapshot(page, vm, 'one', true);
  await sh(page, vm, 'echo 2 > /root/a && echo 2 > /root/b && sync', 's2');
  await takeSnapshot(page, vm, 'two', true);
  await sh(page, vm, 'echo 3 > /root/a && echo 3 > /root/c && sync', 's3');
  await takeSnapshot(page, vm, 'three', true, 'snapshot-take-running');
  await sh(page, vm, 'rm -rf /root/* && sync', 'rm');

  // "two" lies under the running disk: deleting it is refused until the VM is off.
  await snapshotAction(page, vm, 'two', 'delete-snapshot');
  await page.waitForSelector(`${dialog(vm)} [data-snapshot-error]:not([hidden])`, { timeout: 30_000 });
  assert.match((await page.textContent(`${dialog(vm)} [data-snapshot-error]`)) ?? '', /stop it first/);
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-name="two"]`).count(), 1, 'not deleted while the VM runs on it');
  await closeSnapshots(page, vm);
  await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
  await vmState(page, vm, 'stopped', 30_000);

  await snapshotAction(page, vm, 'two', 'delete-snapshot');
  await page.waitForSelector(`${dialog(vm)} [data-snapshot-name="two"]`, { state: 'detached', timeout: 60_000 });
  // "three" grew from "two": it now hangs under "one".
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-name="one"] > ul > [data-snapshot-name="three"]`).count(), 1);
  await closeSnapshots(page, vm);

  // Back to "three": the machine resumes (no boot), and its disk holds b, written before "two".
  await snapshotAction(page, vm, 'three', 'revert-snapshot');
  await page.waitForSelector(`[data-vm="${vm}"][data-suspended="true"]`, { timeout: 60_000 });
  await closeSnapshots(page, vm);
  assert.equal(await page.textContent(`[data-vm="${vm}"] [data-action="start"]`), 'Resume');
  // The console shows the screen of the snapshot: the prompt it was taken at, not what came after.
  const screen = await waitForConsole(page, vm, (t) => t.includes('s3-2') && !t.includes('rm -rf'), 10_000);
  assert.ok(atPrompt(screen), 'the snapshot was taken at the prompt');
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  assert.match(await filesOnDisk(page, vm, 'at3'), /a=3\r?\nb=2\r?\nc=3\r?\n/);

  await snapshotAction(page, vm, 'one', 'revert-snapshot');
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  await closeSnapshots(page, vm);
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  assert.match(await filesOnDisk(page, vm, 'at1'), /a=1\r?\nb=none\r?\nc=none\r?\n/);
  assert.equal(count(await consoleText(page, vm), '[romvisor] powering on'), 1, 'every revert resumed; nothing booted');

  await page.reload();
  await waitForHvConsole(page, (t) => t.includes('romvisor>'), 30_000);
  await page.waitForSelector(`[data-vm="${vm}"]`);
  await openSnapshots(page, vm);
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-name="one"] > ul > [data-snapshot-name="three"]`).count(), 1);
  assert.equal(await page.locator(`${dialog(vm)} [data-snapshot-name="one"] > ul > [data-current]`).count(), 1, 'the VM stands on "one"');
  const shotBytes = await page.locator(dialog(vm)).screenshot({ path: 'test-results/snapshot-tree.png' });
  assert.ok(shotBytes.length > 1000);
  await closeSnapshots(page, vm);

  // Deleting the VM takes its snapshots' disks and records with it.
  const left = await page.evaluate(async (name) => {
    const hv = (globalThis as any).__romvisor.hypervisor();
    const v = hv.vm(name);
    const tree = await v.snapshots();
    const ids: string[] = [v.record.diskImageId, ...tree.nodes.map((n: { imageId: string }) => n.imageId)];
    await hv.deleteVm(name);
    const images = await hv.store.images();
    return { had: ids.length, images: images.filter((r: { id: string }) => ids.includes(r.id)).length, snapshots: (await hv.store.snapshotTree(v.id)).nodes.length };
  }, vm);
  assert.deepEqual(left, { had: 3, images: 0, snapshots: 0 });
  await page.close();
});
