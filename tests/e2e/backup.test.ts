/**
 * Backup and Restore of the whole server, the way a user meets them: a server with three
 * VMs, each with a file of its own written on its disk (one also in its shared folder, one
 * left suspended with a command half typed), backed up with the Storage panel's button;
 * the archive restored into a NEW browser profile: the same three VMs, which boot (or
 * resume) with their files. A damaged archive is refused with a message and nothing of it
 * is stored; restoring over existing VMs asks, and skips unless told to replace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { runCli } from '../boot/runCli.ts';
import { atPrompt, launchPersistent, newVmAtShell, powerOn, resultsDir, shot, startAndWaitForShell, startEnv, typeInVm, vmState, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
const dirs: string[] = [];
const contexts: BrowserContext[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

before(async () => {
  env = await startEnv();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await env?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openProfile(dir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await launchPersistent(dir);
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(env.url);
  await powerOn(page);
  return { context, page };
}

/** Runs a shell line in a VM and waits for `marker` and the prompt after it. */
async function sh(page: Page, vm: string, line: string, marker: string | RegExp, timeout = 30_000): Promise<string> {
  await typeInVm(page, vm, `${line}\n`);
  return waitForConsole(page, vm, (t) => (typeof marker === 'string' ? t.includes(marker) : marker.test(t)) && atPrompt(t), timeout);
}

/** What the page's stores hold: VM names, ready images, shared folder objects. */
function storeContents(page: Page): Promise<{ vms: string[]; images: number; shares: number }> {
  return page.evaluate(async () => {
    const { ImageStore } = await import('/src/store/index.ts' as string);
    const store = await ImageStore.open(undefined, { removeAbandoned: false });
    const vms = ((await store.vms()) as { name: string }[]).map((v) => v.name).sort();
    const all = await new Promise<unknown[]>((res, rej) => {
      const r = store.db.transaction('images').objectStore('images').getAll();
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    store.dispose();
    // Opened only if it exists: opening creates it, without its store, under the page's feet.
    const exists = (await indexedDB.databases()).some((d) => d.name === 'romvisor-shares');
    const shares = !exists ? 0 : await new Promise<number>((res, rej) => {
      const o = indexedDB.open('romvisor-shares');
      o.onsuccess = () => {
        const db = o.result;
        if (!db.objectStoreNames.contains('files')) return res(0);
        const c = db.transaction('files').objectStore('files').count();
        c.onsuccess = () => (res(c.result), db.close());
        c.onerror = () => rej(c.error);
      };
      o.onerror = () => rej(o.error);
    });
    return { vms, images: all.length, shares };
  });
}

async function restoreFile(page: Page, path: string): Promise<void> {
  await page.setInputFiles('[data-backup-file]', path);
}

/** Waits for the status line to say `text`; a refusal shown meanwhile fails with its message. */
async function statusSays(page: Page, text: string): Promise<void> {
  await waitFor(`the backup status "${text}"`, async () => {
    const error = page.locator('[data-backup-error]:not([hidden])');
    if (await error.count()) throw new Error(`refused instead: ${await error.textContent()}`);
    return ((await page.textContent('[data-backup-status]')) ?? '').includes(text);
  }, 180_000, 250);
}

test('three VMs backed up, restored into a new browser profile: each boots or resumes with its files; a damaged archive is refused with nothing stored', { timeout: 900_000 }, async () => {
  const stamp = Date.now().toString(36);
  const profileA = tmp('romvisor-backup-a-');
  const out = tmp('romvisor-backup-files-');
  let { context, page } = await openProfile(profileA);

  // Three VMs, each writing a file of its own; the first two power off, the third is suspended.
  const vms: string[] = [];
  for (let i = 0; i < 3; i++) {
    const vm = await newVmAtShell(page, 'base');
    vms.push(vm);
    await sh(page, vm, `echo file-${i}-${stamp} > /root/mine.txt; sync; echo wrote-$((${i}+100))`, `wrote-${i + 100}`);
    if (i === 1) await sh(page, vm, `echo shared-${stamp} > /mnt/host/note.txt; sync; echo put-$((7*6))`, 'put-42');
    if (i === 0) {
      // A named snapshot (snap's store): the disk frozen here, then one more file after it.
      await page.evaluate((n) => (globalThis as any).__romvisor.hypervisor().vm(n).takeSnapshot('before-later'), vm);
      await sh(page, vm, `echo later > /root/later.txt; sync; echo later-$((5*5))`, 'later-25');
    }
    if (i < 2) {
      await typeInVm(page, vm, 'poweroff\n');
      await vmState(page, vm, 'stopped', 60_000);
    }
  }
  const [vmA, vmB, vmC] = vms as [string, string, string];
  await typeInVm(page, vmC, 'echo hal');
  await waitForConsole(page, vmC, (t) => t.trimEnd().endsWith('echo hal'));
  await page.click(`[data-vm="${vmC}"] [data-action="suspend"]`);
  await page.waitForSelector(`[data-vm="${vmC}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  // The shared folder is saved by the worker when its VM stops; wait until it is in the store.
  const before = await storeContents(page);
  assert.deepEqual(before.vms, [...vms].sort());
  assert.ok(before.shares >= 1, `the shared folder holds note.txt (${before.shares} objects)`);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="backup"]')]);
  const archive = join(out, download.suggestedFilename());
  await download.saveAs(archive);
  assert.match(download.suggestedFilename(), /^romvisor-.*\.rvbackup$/);
  await statusSays(page, 'backed up 3 VMs');
  await page.locator('.storage-panel').scrollIntoViewIfNeeded();
  await shot(page, 'backup-panel');
  await context.close();

  const bytes = readFileSync(archive);
  writeFileSync(`${resultsDir}/backup-e2e.rvbackup`, bytes);
  assert.equal(bytes.subarray(0, 8).toString('latin1'), 'ROMVBKUP');
  // A damaged copy: one byte of the last entry changed.
  const damaged = join(out, 'damaged.rvbackup');
  const bad = Buffer.from(bytes);
  bad[bad.length - 100] ^= 0x20;
  writeFileSync(damaged, bad);

  // Through the command line and back: restored into a server directory, made into an
  // archive again, untouched; that one is what the new profile restores (and resumes from).
  const cliDir = join(tmp('romvisor-backup-cli-'), 'server');
  const viaCli = join(out, 'via-cli.rvbackup');
  const toDir = await runCli(['backup', 'restore', archive, cliDir]);
  assert.equal(toDir.code, 0, toDir.stderr);
  const fromDir = await runCli(['backup', 'create', cliDir, viaCli]);
  assert.equal(fromDir.code, 0, fromDir.stderr);

  ({ context, page } = await openProfile(tmp('romvisor-backup-b-')));
  await restoreFile(page, damaged);
  const error = await page.waitForSelector('[data-backup-error]:not([hidden])', { timeout: 120_000 });
  assert.match((await error.textContent()) ?? '', /restore of damaged\.rvbackup refused: backup archive: entry "[^"]+" \(\d+ bytes at 0x[0-9a-f]+\) has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
  assert.deepEqual(await storeContents(page), { vms: [], images: 0, shares: 0 }, 'nothing of the damaged archive was stored');
  assert.equal(await page.locator('[data-vm]').count(), 0);

  // Storage that fills up when the VMs are to be committed (the bytes of their disks, three
  // and the snapshot's, are in by then): the restore is refused and what it wrote is taken out again.
  await page.evaluate(() => {
    const real = IDBDatabase.prototype.transaction;
    (globalThis as any).__realTransaction = real;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, opts?: IDBTransactionOptions) {
      if (mode === 'readwrite' && [stores].flat().includes('vms')) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return real.call(this, stores, mode, opts);
    };
  });
  await restoreFile(page, viaCli);
  await page.waitForSelector('dialog.confirm', { timeout: 120_000 });
  await page.click('dialog.confirm [data-confirm="yes"]');
  const full = await page.waitForSelector('[data-backup-error]:not([hidden])', { timeout: 120_000 });
  assert.match((await full.textContent()) ?? '', /refused: storage is full: restoring 4 disk image\(s\) needs more space than the browser grants this site \(nothing was kept\)/);
  await page.evaluate(() => (IDBDatabase.prototype.transaction = (globalThis as any).__realTransaction));
  const afterFull = await storeContents(page);
  assert.deepEqual(afterFull, { vms: [], images: 1, shares: 0 }, 'only the built-in base fetched for it is stored, no VM, no disk');

  await restoreFile(page, viaCli);
  await page.waitForSelector('dialog.confirm', { timeout: 120_000 });
  assert.match((await page.textContent('dialog.confirm')) ?? '', /3 VM\(s\) in via-cli\.rvbackup, checked whole\. None meets a VM of this server\./);
  await shot(page, 'backup-restore-dialog');
  await page.click('dialog.confirm [data-confirm="yes"]');
  await statusSays(page, 'restored 3 VMs');
  assert.deepEqual((await storeContents(page)).vms, [...vms].sort());
  for (const vm of vms) await page.waitForSelector(`[data-vm="${vm}"]`);
  assert.equal(await page.getAttribute(`[data-vm="${vmC}"]`, 'data-suspended'), 'true', 'the suspended VM is still suspended');

  // The two that were off boot with their files, the shared folder too.
  await startAndWaitForShell(page, vmA);
  await sh(page, vmA, 'cat /root/mine.txt /root/later.txt', new RegExp(`file-0-${stamp}\\r?\\nlater`));
  await typeInVm(page, vmA, 'poweroff\n');
  await vmState(page, vmA, 'stopped', 60_000);
  // Its snapshot came along: reverting to it takes the disk back to before later.txt.
  const snap = await page.evaluate(async (n) => {
    const vm = (globalThis as any).__romvisor.hypervisor().vm(n);
    const tree = await vm.snapshots();
    const node = tree.nodes.find((x: { name: string }) => x.name === 'before-later');
    if (node) await vm.revertToSnapshot(node.id);
    return { names: tree.nodes.map((x: { name: string }) => x.name), current: tree.current === node?.id };
  }, vmA);
  assert.deepEqual(snap, { names: ['before-later'], current: true });
  await startAndWaitForShell(page, vmA);
  await sh(page, vmA, 'cat /root/mine.txt; ls /root/later.txt', /No such file or directory/);
  await typeInVm(page, vmA, 'poweroff\n');
  await vmState(page, vmA, 'stopped', 60_000);
  await startAndWaitForShell(page, vmB);
  await sh(page, vmB, 'cat /root/mine.txt /mnt/host/note.txt', new RegExp(`file-1-${stamp}\\r?\\nshared-${stamp}`));
  await typeInVm(page, vmB, 'poweroff\n');
  await vmState(page, vmB, 'stopped', 60_000);
  // The suspended one resumes where it was: its half-typed command finishes in the same shell.
  assert.equal(await page.textContent(`[data-vm="${vmC}"] [data-action="start"]`), 'Resume');
  await page.click(`[data-vm="${vmC}"] [data-action="start"]`);
  await vmState(page, vmC, 'running');
  await waitForConsole(page, vmC, (t) => t.trimEnd().endsWith('echo hal'), 20_000);
  await typeInVm(page, vmC, 't-$((2*21))\n');
  const resumed = await waitForConsole(page, vmC, (t) => t.includes('halt-42') && atPrompt(t), 30_000);
  assert.equal(resumed.split('[romvisor] powering on').length - 1, 1, 'the resumed VM did not boot again');
  await sh(page, vmC, 'cat /root/mine.txt', `file-2-${stamp}`);
  await page.click(`[data-vm="${vmC}"] [data-action="stop"]`);
  await vmState(page, vmC, 'stopped', 60_000);

  // The same archive again: every VM meets itself. Skip is the default; Replace is asked for.
  await restoreFile(page, archive);
  await page.waitForSelector('dialog.confirm select', { timeout: 120_000 });
  assert.match((await page.textContent('dialog.confirm')) ?? '', /3 meet a VM of this server\. Nothing is overwritten unless you choose Replace\./);
  assert.equal(await page.locator('dialog.confirm select').count(), 3);
  await page.selectOption(`dialog.confirm [data-restore-choice="${vmA}"]`, 'replace');
  await page.selectOption(`dialog.confirm [data-restore-choice="${vmB}"]`, 'copy');
  await shot(page, 'backup-restore-conflicts');
  await page.click('dialog.confirm [data-confirm="yes"]');
  await statusSays(page, 'restored 2 VMs from');
  assert.match((await page.textContent('[data-backup-status]')) ?? '', /\(1 replaced\)/);
  const copy = `${vmB}-2`;
  assert.deepEqual((await storeContents(page)).vms, [...vms, copy].sort(), 'one replaced, one copied beside itself, one skipped');
  // The copy is a VM of its own (its disk has a unique id of its own) with the original's files.
  await startAndWaitForShell(page, copy);
  await sh(page, copy, 'cat /root/mine.txt /mnt/host/note.txt; echo copy-only > /root/copy.txt; sync', new RegExp(`file-1-${stamp}\\r?\\nshared-${stamp}`));
  await typeInVm(page, copy, 'poweroff\n');
  await vmState(page, copy, 'stopped', 60_000);
  await startAndWaitForShell(page, vmB);
  await sh(page, vmB, 'cat /root/mine.txt; ls /root', `file-1-${stamp}`);
  assert.ok(!(await page.evaluate((n) => (globalThis as any).__romvisor.consoleText(n), vmB)).includes('copy.txt'), 'what the copy wrote is not on the original');
  await context.close();
});
