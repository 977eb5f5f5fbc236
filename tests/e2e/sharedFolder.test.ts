/**
 * A VM's shared folder in Chromium, the way a user meets it: a file dropped on the VM's card
 * is read in the guest from /mnt/host with the same bytes; a file the guest writes there
 * shows on the card and downloads with the same bytes; after a reload both are still in the
 * folder, listed while the VM is off and read again by the guest once it is started.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { backToShell, newPage, newVmAtShell, powerOn, startEnv, typeInVm, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Runs a command in the guest and gives what it printed between two markers. */
async function inGuest(p: Page, vm: string, command: string): Promise<string> {
  const tag = `m${Math.floor(Math.random() * 1e9)}`;
  await typeInVm(p, vm, `echo ${tag}-$((0+1)); ${command}; echo ${tag}-$((0+2))\n`);
  const text = await waitForConsole(p, vm, (t) => t.includes(`${tag}-2`), 60_000);
  return text.slice(text.lastIndexOf(`${tag}-1`) + tag.length + 2, text.lastIndexOf(`${tag}-2`));
}

/** Drops files on the VM's card as the browser would from the desktop. */
async function drop(p: Page, vm: string, files: { name: string; base64: string }[]): Promise<void> {
  await p.evaluate(
    ({ vm, files }) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
      const card = document.querySelector(`[data-vm="${vm}"]`)!;
      card.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      card.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { vm, files },
  );
  // A drop opens the folder's list once the files are stored; a test that clicked the summary
  // before then would close it again.
  await p.waitForSelector(`[data-vm="${vm}"] .vm-share[open]`, { timeout: 30_000 });
}

/** The folder's file button on the card, its list opened. */
async function fileButton(p: Page, vm: string, path: string, timeout = 30_000) {
  const share = `[data-vm="${vm}"] .vm-share`;
  if (!(await p.$eval(share, (d) => (d as HTMLDetailsElement).open))) await p.click(`${share} summary`);
  return p.waitForSelector(`${share} [data-share-file="${path}"]`, { timeout });
}

test('a dropped file is read in the guest, a guest file downloads with its bytes, and both survive a reload', async () => {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');

  const dropped = randomBytes(200_000);
  await drop(page, vm, [{ name: 'dropped.bin', base64: dropped.toString('base64') }, { name: 'note.txt', base64: Buffer.from('dropped on the card\n').toString('base64') }]);
  await fileButton(page, vm, 'dropped.bin');
  assert.match(await inGuest(page, vm, 'cat /mnt/host/note.txt'), /dropped on the card/);
  assert.match(await inGuest(page, vm, 'md5sum /mnt/host/dropped.bin'), new RegExp(`${md5(dropped)}  /mnt/host/dropped.bin`));

  // The guest writes a file; it shows on the card once the worker has saved the folder.
  // Written with an fsync at the end: it returns once the folder is saved in IndexedDB.
  const sums = await inGuest(page, vm, 'head -c 300000 /dev/urandom | dd of=/mnt/host/from-guest.bin bs=4096 conv=fsync 2>/dev/null; md5sum /mnt/host/from-guest.bin');
  const guestSum = /([0-9a-f]{32})  \/mnt\/host\/from-guest\.bin/.exec(sums)?.[1];
  assert.ok(guestSum, sums);
  const button = await fileButton(page, vm, 'from-guest.bin');
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  assert.equal(download.suggestedFilename(), 'from-guest.bin');
  const downloaded = readFileSync((await download.path())!);
  assert.equal(downloaded.length, 300_000);
  assert.equal(md5(downloaded), guestSum, 'the download has the bytes the guest wrote');

  // A reload at once (the fsync saved the folder): it is listed while the VM is off, and the guest reads both files again.
  await page.reload();
  await backToShell(page, vm);
  await fileButton(page, vm, 'dropped.bin');
  await fileButton(page, vm, 'from-guest.bin');
  assert.match(await inGuest(page, vm, 'md5sum /mnt/host/dropped.bin /mnt/host/from-guest.bin'), new RegExp(`${md5(dropped)}  /mnt/host/dropped.bin\\s+${guestSum}  /mnt/host/from-guest.bin`));
  await page.close();
});
