// A full storage quota, as a VM meets it: the origin refuses every read-write IndexedDB
// transaction (patched inside the VM's own worker, the way Chromium refuses them when the
// quota is spent), the guest syncs a file, and the VM pauses with a clear message; the
// guest's requests wait instead of failing, so once space is back, Resume commits them, the
// guest never sees an I/O error, and the file survives a reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { atPrompt, hvCommand, newPage, powerOn, setQuotaFull, shot, startEnv, startInWorker, typeInVm, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.close();
});

const VM = 'quota-1';

describe('a full storage quota', () => {
  it('pauses the VM with a clear message, loses nothing, and commits on Resume', async () => {
    const page = await newPage(env);
    await powerOn(page);
    await hvCommand(page, `new base ${VM}`);
    await page.waitForSelector(`[data-vm="${VM}"]`);
    const worker = await startInWorker(page, VM);

    await setQuotaFull(worker, true);
    await typeInVm(page, VM, 'echo quota-$((6*7)) > /root/q && sync && echo synced-ok\n');
    const card = await page.waitForSelector(`[data-vm="${VM}"][data-state="paused"]`, { timeout: 60_000 });
    const banner = await card.$eval('.vm-banner', (e) => e.textContent ?? '');
    assert.match(banner, /storage is full/);
    await shot(page, 'quota-paused');

    await setQuotaFull(worker, false);
    await page.click(`[data-vm="${VM}"] [data-action="pause"]`); // the button reads Resume while paused
    await page.waitForSelector(`[data-vm="${VM}"][data-state="running"]`, { timeout: 30_000 });
    // The guest never saw an error: its sync succeeded once space was back.
    const afterSync = await waitForConsole(page, VM, (t) => /synced-ok/.test(t), 60_000);
    assert.doesNotMatch(afterSync, /I\/O error|EXT4-fs error|Buffer I\/O/);

    // Power the guest off cleanly, reload the page, boot the same VM: the file is there.
    await typeInVm(page, VM, 'poweroff\n');
    await page.waitForSelector(`[data-vm="${VM}"][data-state="stopped"]`, { timeout: 60_000 });
    await page.reload();
    await page.waitForSelector(`[data-vm="${VM}"]`, { timeout: 30_000 });
    await page.click(`[data-vm="${VM}"] [data-action="start"]`);
    await waitForConsole(page, VM, atPrompt, 90_000);
    await typeInVm(page, VM, 'cat /root/q\n');
    const text = await waitForConsole(page, VM, (t) => /^quota-42\r?$/m.test(t), 30_000);
    assert.match(text, /^quota-42\r?$/m);
    await shot(page, 'quota-after-reload');
  });
});
