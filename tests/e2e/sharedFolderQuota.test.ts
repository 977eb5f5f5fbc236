// A full storage quota, as a VM's shared folder meets it: the origin refuses every
// read-write IndexedDB transaction inside the VM's worker (as Chromium does when the quota is
// spent) while the guest writes into /mnt/host. The guest goes on reading its file (the worker
// keeps the folder in memory), the card says the folder is not saved and why, Stop refuses
// rather than drop it, and once space is back Stop saves it, and it survives a reload.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { hvCommand, newPage, powerOn, setQuotaFull, startEnv, startInWorker, typeInVm, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.close();
});

const VM = 'sharequota-1';


const summary = (p: Page) => p.$eval(`[data-vm="${VM}"] [data-share-summary]`, (e) => e.textContent ?? '');

it('keeps the folder in memory while storage is full, refuses to stop without it, and Stop saves it once space is back', async () => {
  const page = await newPage(env);
  await powerOn(page);
  // The RAM appliance: no disk, so only the shared folder meets the quota.
  await hvCommand(page, `new initramfs ${VM}`);
  await page.waitForSelector(`[data-vm="${VM}"]`);
  const worker = await startInWorker(page, VM);

  await setQuotaFull(worker, true);
  await typeInVm(page, VM, 'echo kept-$((6*7)) > /mnt/host/q.txt && echo wrote-$((1+1))\n');
  await waitForConsole(page, VM, (t) => t.includes('wrote-2'), 30_000);
  await waitFor('the card to say the folder is not saved', async () => /not saved: storage is full/.test(await summary(page)), 30_000);
  await typeInVm(page, VM, 'cat /mnt/host/q.txt\n');
  await waitForConsole(page, VM, (t) => /^kept-42\r?$/m.test(t), 30_000);

  // Stop would drop what only memory holds: it is refused, and the VM stays with its folder.
  const stop = await page.evaluate(async (name) => {
    const vm = (globalThis as any).__romvisor.hypervisor().vm(name);
    try {
      await vm.stop();
      return `stopped (${vm.state})`;
    } catch (e) {
      return `refused: ${(e as Error).message} (${vm.state})`;
    }
  }, VM);
  assert.match(stop, /^refused: storage is full.*\((paused|running)\)$/);

  // Space is back: Stop again saves the folder, then stops (as for a disk's held writes).
  await setQuotaFull(worker, false);
  await page.evaluate((name) => (globalThis as any).__romvisor.hypervisor().vm(name).stop(), VM);
  await page.waitForSelector(`[data-vm="${VM}"][data-state="stopped"]`, { timeout: 30_000 });

  await page.reload();
  await page.waitForSelector(`[data-vm="${VM}"]`, { timeout: 30_000 });
  await page.click(`[data-vm="${VM}"] .vm-share summary`);
  await page.waitForSelector(`[data-vm="${VM}"] [data-share-file="q.txt"]`, { timeout: 30_000 });
  const data = await page.evaluate((name) => (globalThis as any).__romvisor.hypervisor().vm(name).readSharedFile('q.txt').then((b: Uint8Array) => new TextDecoder().decode(b)), VM);
  assert.equal(data, 'kept-42\n');
  await page.close();
});
