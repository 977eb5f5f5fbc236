/**
 * Suspend and Resume on a VM card, the way a user meets them: a shell command half typed,
 * Suspend, a reload of the page, Resume, the rest of the command typed: the shell that
 * took the first half runs it (a VM that booted again would not know `lo`). And a state
 * whose disk was written while the VM was suspended is discarded, said so on the console,
 * and the VM boots from its disk. The same without the button: the page closed with the VM
 * running (pagehide) and a new page opened; and when the machine could not be saved then,
 * the new page's card says why and the VM boots.
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

/** A second page of the same browser profile after `page` closed; the server powers on by itself. */
async function closeAndReopen(page: Page): Promise<Page> {
  const context = page.context();
  await page.close();
  const next = await newPage(env, context);
  await waitForHvConsole(next, (t) => t.includes('romvisor>'), 30_000);
  return next;
}

/** Clicks Suspend on a running VM's card and waits until the card says it is suspended. */
async function suspend(page: Page, vm: string): Promise<void> {
  await page.click(`[data-vm="${vm}"] [data-action="suspend"]`);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 60_000 });
  assert.equal(await page.textContent(`[data-vm="${vm}"] .vm-state`), 'suspended');
}

/** Reloads the page; the server powers on by itself and the VM is still suspended. */
async function reload(page: Page, vm: string): Promise<void> {
  await page.reload();
  await waitForHvConsole(page, (t) => t.includes('romvisor>'), 30_000);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 30_000 });
}

/** A new base VM at its shell with `echo hel` typed, suspended, and the page reloaded. */
async function halfTypedThenSuspended(): Promise<{ page: Page; vm: string }> {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');
  await typeInVm(page, vm, 'echo hel');
  await waitForConsole(page, vm, (t) => t.trimEnd().endsWith('echo hel'));
  await suspend(page, vm);
  await reload(page, vm);
  return { page, vm };
}

test('a half-typed command, Suspend, a reload, Resume: the command finishes in the same shell, with the screen as it was', async () => {
  const { page, vm } = await halfTypedThenSuspended();
  assert.equal(await page.textContent(`[data-vm="${vm}"] [data-action="start"]`), 'Resume');

  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  // The screen before the suspend, replayed: the prompt with the half command last, one boot on it.
  const screen = await waitForConsole(page, vm, (t) => t.trimEnd().endsWith('echo hel'), 10_000);
  assert.equal(count(screen, '[romvisor] powering on'), 1, 'the console shows one power-on: the resumed VM did not boot');
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-suspended'), 'false');

  await typeInVm(page, vm, 'lo\n');
  const text = await waitForConsole(page, vm, (t) => /\nhello\r?\n/.test(t) && atPrompt(t), 30_000);
  assert.match(text, /echo hello\r?\nhello\r?\n/, 'the shell ran the command whose first half it took before the suspend');
  assert.equal(count(text, '[romvisor] powering on'), 1);
  // The guest goes on working: its disk and shared folder mount answer.
  await typeInVm(page, vm, 'echo ok-$((40+2)) > /root/after; cat /root/after; ls /mnt/host >/dev/null && echo share-$((1+1))\n');
  await waitForConsole(page, vm, (t) => t.includes('ok-42') && t.includes('share-2'), 30_000);
  await page.close();
});

test('a suspended VM whose disk was written since is not resumed: its state is discarded with a message and it boots', async () => {
  const { page, vm } = await halfTypedThenSuspended();

  // Something else writes the VM's disk while it is suspended: one sector written back
  // with the bytes it had, so the file system is unharmed but the disk has a new write.
  const writes = await page.evaluate(async (name) => {
    const imageId = (globalThis as any).__romvisor.hypervisor().vm(name).record.diskImageId as string;
    const { ImageStore } = await import('/src/store/index.ts' as string);
    const store = await ImageStore.open(undefined, { removeAbandoned: false });
    const before = (await store.diskIdentity(imageId)).writes as number;
    const disk = await store.openDisk(imageId);
    await disk.write(0, await disk.read(0, 512));
    await disk.flush();
    await disk.dispose();
    const after = (await store.diskIdentity(imageId)).writes as number;
    store.dispose();
    return { before, after };
  }, vm);
  assert.ok(writes.after > writes.before, `the disk's write count moved (${writes.before} → ${writes.after})`);

  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  const text = await waitForConsole(page, vm, (t) => t.includes('[romvisor] powering on') && atPrompt(t), 90_000);
  // The terminal wraps the message at its width.
  assert.match(text.replace(/\n/g, ''), /the suspended state of \S+ is discarded: its disk was written since it was suspended/);
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-suspended'), 'false');
  // A fresh shell: the half command of before is gone.
  await typeInVm(page, vm, 'lo\n');
  await waitForConsole(page, vm, (t) => /lo: not found/.test(t), 30_000);
  assert.equal(count(await consoleText(page, vm), '# echo hel'), 0, 'the old screen is not replayed');
  await page.close();
});

test('a machine that cannot be saved now (a file of its shared folder open) is not suspended: the card says why and it runs on', async () => {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');
  // The shell holds a file of /mnt/host open: its handle lives in the page's 9P server.
  await typeInVm(page, vm, 'exec 3>/mnt/host/held; echo opened-$((2+2))\n');
  await waitForConsole(page, vm, (t) => t.includes('opened-4') && atPrompt(t));
  await page.click(`[data-vm="${vm}"] [data-action="suspend"]`);
  await page.waitForSelector(`[data-vm="${vm}"] .vm-banner:not([hidden]):has-text("not suspended")`, { timeout: 30_000 });
  assert.match((await page.textContent(`[data-vm="${vm}"] .vm-banner`)) ?? '', /1 file of the shared folder open/);
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-state'), 'running');
  assert.equal(await page.getAttribute(`[data-vm="${vm}"]`, 'data-suspended'), 'false');
  // Nothing was lost: the same shell answers, and once the file is closed Suspend works.
  await typeInVm(page, vm, 'exec 3>&-; echo closed-$((3+3))\n');
  await waitForConsole(page, vm, (t) => t.includes('closed-6') && atPrompt(t));
  await suspend(page, vm);
  await page.close();
});

test('a half-typed command, the page closed: a new page resumes the VM (suspended on pagehide) and the command finishes', async () => {
  const first = await newPage(env, await env.browser.newContext({ viewport: { width: 1280, height: 800 } }));
  await powerOn(first);
  const vm = await newVmAtShell(first, 'base');
  await typeInVm(first, vm, 'echo hel');
  await waitForConsole(first, vm, (t) => t.trimEnd().endsWith('echo hel'));
  const page = await closeAndReopen(first);
  // How the closing page's wait went (Chromium gives a closing tab about 0.5 s).
  const report = JSON.parse((await page.evaluate(() => localStorage.getItem('romvisor:last-pagehide'))) ?? '{}');
  console.log(`pagehide: ${JSON.stringify(report)}`);
  assert.deepEqual(report.saved, [vm]);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 30_000 });
  assert.equal(await page.textContent(`[data-vm="${vm}"] [data-action="start"]`), 'Resume');
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  await waitForConsole(page, vm, (t) => t.trimEnd().endsWith('echo hel'), 10_000);
  await typeInVm(page, vm, 'lo\n');
  const text = await waitForConsole(page, vm, (t) => /\nhello\r?\n/.test(t) && atPrompt(t), 30_000);
  assert.match(text, /echo hello\r?\nhello\r?\n/);
  assert.equal(count(text, '[romvisor] powering on'), 1, 'resumed, not booted');
  await page.context().close();
});

test('a VM that cannot be saved as the page closes (a shared-folder file open): the new page says why on its card, and it boots', async () => {
  const first = await newPage(env, await env.browser.newContext({ viewport: { width: 1280, height: 800 } }));
  await powerOn(first);
  const vm = await newVmAtShell(first, 'base');
  await typeInVm(first, vm, 'exec 3>/mnt/host/held; echo opened-$((2+2))\n');
  await waitForConsole(first, vm, (t) => t.includes('opened-4') && atPrompt(t));
  const page = await closeAndReopen(first);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="false"] .vm-banner:not([hidden])`, { timeout: 30_000 });
  assert.match((await page.textContent(`[data-vm="${vm}"] .vm-banner`)) ?? '', /was running when the page closed and could not be suspended \(.*file of the shared folder open.*\); it boots from its disk/);
  assert.equal(await page.textContent(`[data-vm="${vm}"] [data-action="start"]`), 'Start');
  await page.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(page, vm, 'running');
  await waitForConsole(page, vm, (t) => count(t, '[romvisor] powering on') === 1 && atPrompt(t), 90_000);
  // Nothing holds it now: the next reload suspends it, and the old note is not repeated.
  await page.reload();
  await waitForHvConsole(page, (t) => t.includes('romvisor>'), 30_000);
  await page.waitForSelector(`[data-vm="${vm}"][data-state="stopped"][data-suspended="true"]`, { timeout: 30_000 });
  assert.doesNotMatch((await page.textContent(`[data-vm="${vm}"] .vm-banner`)) ?? '', /could not be suspended/);
  await page.context().close();
});
