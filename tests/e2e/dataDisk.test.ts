/**
 * A VM's data disk (/dev/vdb, mounted on /data by the appliance's init) in snapshots and
 * backups, the way a user meets them, with a repository appliance that has one (the update
 * tests' version 1, served locally):
 *  - a file in /data, a snapshot with the machine, the file changed and another added, Revert:
 *    the resumed machine reads /data from the disk (caches dropped) as it was at the snapshot,
 *    and the kernel logs no ext4 error (a machine paired with a newer /data would);
 *  - a server whose VM keeps a file in /data and is suspended with a command half typed,
 *    backed up with the Storage panel's button and restored into a NEW browser profile: the
 *    restore adds the repository the VM came from, the VM resumes (its state fits both disks)
 *    and finishes the command with the file in /data, and boots with it after (its blank
 *    data disk is not made again nor formatted).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildRepository } from '../../src/repo/node.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { startRepoServer, type RepoServer } from '../repo/repoServer.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE as NAME } from '../repo/updateFixture.ts';
import { atPrompt, consoleText, launchPersistent, newPage, newVmAtShell, powerOn, startAndWaitForShell, startEnv, typeInVm, vmState, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let cleanup: () => void;
let server: RepoServer;
const dirs: string[] = [];
const contexts: BrowserContext[] = [];

before(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir('e2e-data-disk'));
  const upd = await makeUpdateRepository(dir);
  const published = join(dir, 'published');
  mkdirSync(published);
  copyFileSync(join(upd.dir, `${NAME}-1.vhd`), join(published, `${NAME}-1.vhd`));
  await buildRepository(published, { name: 'Data disk test' });
  server = await startRepoServer(published, { cors: true });
  env = await startEnv();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await env?.close();
  await server?.close();
  cleanup?.();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Types a shell line ending in a marker it prints itself, and waits for the marker and the prompt. */
async function sh(page: Page, vm: string, line: string, marker: string): Promise<string> {
  const before = await consoleText(page, vm);
  await typeInVm(page, vm, `${line}; echo ${marker}-$((1+1))\n`);
  const text = await waitForConsole(page, vm, (t) => t.length > before.length && t.slice(before.length).includes(`${marker}-2`) && atPrompt(t), 60_000);
  return text.slice(before.length);
}

async function addRepository(page: Page): Promise<void> {
  await page.fill('.repo-url', server.url);
  await page.click('[data-action="add-repo"]');
  await page.waitForSelector(`[data-appliance="${NAME}"]`, { timeout: 30_000 });
}

/** /data as the disk holds it: written out, the page cache dropped, then read. */
const READ_DATA = 'sync; echo 3 > /proc/sys/vm/drop_caches; for f in note extra; do echo "$f=$(cat /data/$f 2>/dev/null || echo none)"; done; dmesg | grep -ci "ext4.*error" | sed "s/^/ext4-errors=/"';

test('a snapshot with the machine, /data changed, Revert: the resumed machine reads /data as it was at the snapshot', { timeout: 600_000 }, async () => {
  const page = await newPage(env);
  await powerOn(page);
  await addRepository(page);
  const vm = await newVmAtShell(page, NAME);
  await sh(page, vm, 'echo at-snapshot > /data/note; sync', 'wrote');
  assert.match(await consoleText(page, vm), /data: formatting the blank data disk \/dev\/vdb/);
  const taken = await page.evaluate(async (n) => {
    const snap = await (globalThis as any).__romvisor.hypervisor().vm(n).takeSnapshot('data-at-snapshot', { withState: true });
    return { withState: snap.withState, froze: typeof snap.dataImageId === 'string' };
  }, vm);
  assert.deepEqual(taken, { withState: true, froze: true });
  assert.match(await sh(page, vm, 'echo changed-after > /data/note; echo added-after > /data/extra; sync; cat /data/note', 'changed'), /changed-after/);

  const outcome = await page.evaluate(async (n) => {
    const v = (globalThis as any).__romvisor.hypervisor().vm(n);
    const node = (await v.snapshots()).nodes.find((x: { name: string }) => x.name === 'data-at-snapshot');
    return v.revertToSnapshot(node.id);
  }, vm);
  assert.equal(outcome, 'state', 'the snapshot machine is resumable: both its disks are as it saw them');
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  const after = await sh(page, vm, READ_DATA, 'read');
  assert.match(after, /note=at-snapshot\r?\nextra=none\r?\next4-errors=0\r?\n/);
  assert.equal((await consoleText(page, vm)).split('[romvisor] powering on').length - 1, 1, 'resumed, not booted');
  // And after a clean reboot the file system still checks out: the same /data, mounted again.
  await typeInVm(page, vm, 'poweroff\n');
  await vmState(page, vm, 'stopped', 60_000);
  await startAndWaitForShell(page, vm);
  const rebooted = await sh(page, vm, READ_DATA, 'again');
  assert.match(rebooted, /note=at-snapshot\r?\nextra=none\r?\next4-errors=0\r?\n/);
  await page.close();
});

test('a suspended VM with a file in /data, backed up and restored into a new browser profile: it resumes and boots with the file', { timeout: 900_000 }, async () => {
  const tmp = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  const open = async (profile: string) => {
    const context = await launchPersistent(profile);
    contexts.push(context);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(env.url);
    await powerOn(page);
    return { context, page };
  };
  const stamp = Date.now().toString(36);
  let { context, page } = await open(tmp('romvisor-data-a-'));
  await addRepository(page);
  const vm = await newVmAtShell(page, NAME);
  await sh(page, vm, `echo kept-${stamp} > /data/note; sync`, 'wrote');
  // Suspended with a command half typed: the state stands on both disks, which travel with it.
  await typeInVm(page, vm, 'cat /data/no');
  await waitForConsole(page, vm, (t) => t.trimEnd().endsWith('cat /data/no'));
  await page.click(`[data-vm="${vm}"] [data-action="suspend"]`);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="backup"]')]);
  const archive = join(tmp('romvisor-data-files-'), download.suggestedFilename());
  await download.saveAs(archive);
  await context.close();

  ({ context, page } = await open(tmp('romvisor-data-b-')));
  await page.setInputFiles('[data-backup-file]', archive);
  await page.waitForSelector('dialog.confirm', { timeout: 120_000 });
  await page.click('dialog.confirm [data-confirm="yes"]');
  await waitFor('the restore', async () => {
    const error = page.locator('[data-backup-error]:not([hidden])');
    if (await error.count()) throw new Error(`refused: ${await error.textContent()}`);
    return ((await page.textContent('[data-backup-status]')) ?? '').includes('restored 1 VM');
  }, 180_000, 250);
  await page.waitForSelector(`[data-vm="${vm}"]`);
  // The restore added the repository the VM came from: its appliance is in the catalog again.
  await page.waitForSelector(`[data-appliance="${NAME}"]`, { timeout: 30_000 });
  // Its machine resumes (neither disk changed on the way), the half command finishes.
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-suspended'), 'true');
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  await waitForConsole(page, vm, (t) => t.trimEnd().endsWith('cat /data/no'), 20_000);
  await typeInVm(page, vm, 'te\n');
  await waitForConsole(page, vm, (t) => t.includes(`kept-${stamp}`) && atPrompt(t), 30_000);
  assert.doesNotMatch(await consoleText(page, vm), /is discarded/, 'the suspended state was resumed, not discarded');
  // And from the disk itself, after a reboot: the data disk is the one written, not a new blank one.
  await typeInVm(page, vm, 'poweroff\n');
  await vmState(page, vm, 'stopped', 60_000);
  await startAndWaitForShell(page, vm);
  assert.match(await sh(page, vm, 'cat /data/note', 'read'), new RegExp(`kept-${stamp}`));
  // (The screen resumed above replays the first boot's, which formatted the disk then.)
  const reboot = await consoleText(page, vm);
  assert.doesNotMatch(reboot.slice(reboot.lastIndexOf('[romvisor] powering on')), /formatting the blank data disk/);
  await context.close();
});

test('a suspended VM whose data disk was written since: its state is discarded with the message, and it boots', { timeout: 600_000 }, async () => {
  const page = await newPage(env);
  await powerOn(page);
  await addRepository(page);
  const vm = await newVmAtShell(page, NAME);
  await sh(page, vm, 'echo before-suspend > /data/note; sync', 'wrote');
  await page.click(`[data-vm="${vm}"] [data-action="suspend"]`);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  // The data disk written behind the suspended machine's back (a sector rewritten as it was:
  // the bytes are the same, the write is counted), its system disk untouched.
  await page.evaluate(async (n) => {
    const hv = (globalThis as any).__romvisor.hypervisor();
    const d = await hv.store.openDisk(hv.vm(n).record.dataImageId);
    await d.write(0, await d.read(0, 512));
    await d.flush();
    await d.dispose();
  }, vm);
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  const text = await waitForConsole(page, vm, (t) => t.split('[romvisor] powering on').length === 3 && atPrompt(t), 90_000);
  assert.match(text.replace(/\n/g, ''), /the suspended state of \S+ is discarded: its data disk \(\/data\) was written since it was suspended/);
  assert.match(await sh(page, vm, 'cat /data/note', 'read'), /before-suspend/);
  await page.close();
});
