// Versions and updates in the page: a VM of a repository appliance with a data disk writes a
// file to /data (the page made the blank data disk, the guest's init formatted it) and one to
// its system disk; the repository then publishes version 2 as a patch; after a reload the
// catalog shows "update available" and the card offers Update, whose dialog says what changes,
// what downloads and that the system disk's changes are discarded while /data is kept. After
// it the guest has version 2's /etc/appliance-version and the same /data; Roll back returns
// to version 1 with /data intact.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRepository } from '../../src/repo/node.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { startRepoServer, type RepoServer } from '../repo/repoServer.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE as NAME, type UpdateRepository } from '../repo/updateFixture.ts';
import { atPrompt, hvCommand, newPage, newVmAtShell, powerOn, startAndWaitForShell, startEnv, typeInVm, vmState, waitForConsole, waitForHvConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let dir: string;
let cleanup: () => void;
let upd: UpdateRepository;
let published: string;
let server: RepoServer;
const BASE_VERSION = JSON.parse(readFileSync(new URL('../../appliances/manifest.json', import.meta.url), 'utf8')).appliances.base.version as string;

before(async () => {
  ({ dir, cleanup } = tempDir('e2e-update'));
  upd = await makeUpdateRepository(dir);
  // What the server publishes at first: version 1 only.
  published = join(dir, 'published');
  mkdirSync(published);
  copyFileSync(join(upd.dir, `${NAME}-1.vhd`), join(published, `${NAME}-1.vhd`));
  await buildRepository(published, { name: 'Update test' });
  server = await startRepoServer(published, { cors: true });
  env = await startEnv();
});
after(async () => {
  await env?.close();
  await server?.close();
  cleanup?.();
});

/** Runs `command` in the guest and waits for the prompt after `until` shows on its console. */
async function run(page: import('playwright-core').Page, vm: string, command: string, until: RegExp): Promise<string> {
  await typeInVm(page, vm, `${command}\n`);
  return waitForConsole(page, vm, (t) => until.test(t) && atPrompt(t), 60_000);
}

async function powerOff(page: import('playwright-core').Page, vm: string): Promise<void> {
  // Through init: rcK unmounts /data, so the data disk is clean.
  await typeInVm(page, vm, 'poweroff\n');
  await vmState(page, vm, 'stopped', 60_000);
}

describe('Update and Roll back in the page', () => {
  it('moves a VM from version 1 to 2 (a patch) and back, keeping /data and discarding the system disk\'s changes', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      await page.fill('.repo-url', server.url);
      await page.click('[data-action="add-repo"]');
      await page.waitForSelector(`[data-appliance="${NAME}"]`, { timeout: 30_000 });
      const vm = await newVmAtShell(page, NAME);
      const first = await run(page, vm, 'echo kept > /data/note; echo mine > /root/system-change; echo "system: $(cat /etc/appliance-version)"', /system: \S+\r?\n/);
      assert.match(first, /data: formatting the blank data disk \/dev\/vdb/);
      assert.match(first, new RegExp(`system: ${BASE_VERSION.replace(/\./g, '\\.')}\\r?\\n`));
      await powerOff(page, vm);
      assert.equal(await page.locator(`[data-vm="${vm}"] [data-action="update"]`).isHidden(), true, 'no Update while version 1 is the newest');

      // The repository publishes version 2 as a patch; the page reads its index at power on.
      copyFileSync(join(upd.dir, `${NAME}-2.vhd`), join(published, `${NAME}-2.vhd`));
      await buildRepository(published, { name: 'Update test' });
      await page.reload();
      await backToShellOff(page, vm);
      await page.waitForSelector(`[data-appliance="${NAME}"] .update-available`, { timeout: 30_000 });
      const update = page.locator(`[data-vm="${vm}"] [data-action="update"]`);
      await update.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal((await update.textContent())?.trim(), 'Update to 2');
      await update.click();
      const dialog = page.locator('dialog.confirm');
      const said = (await dialog.textContent()) ?? '';
      assert.match(said, new RegExp(`Update ${vm} from version 1 to 2\\?`));
      assert.match(said, /every change made to it since it was installed or last updated is discarded/);
      assert.match(said, /Its data disk \(\/data\) is kept/);
      assert.match(said, new RegExp(`downloads at most ${(upd.diff.size / 1024).toFixed(0)} KiB \\(a patch\\)`));
      server.reset();
      await dialog.locator('[data-confirm="yes"]').click();
      await page.locator(`[data-vm="${vm}"] [data-action="roll-back"]`).waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await update.isHidden(), true);

      await startAndWaitForShell(page, vm);
      const second = await run(page, vm, 'echo "data: $(cat /data/note)"; echo "system: $(cat /etc/appliance-version)"; ls /root', /system: \S+\r?\n[\s\S]*# ?$/);
      assert.match(second, /data: kept\r?\n/);
      assert.match(second, /system: 2\r?\n/);
      assert.doesNotMatch(second.slice(second.lastIndexOf('echo "data')), /system-change/);
      assert.ok((server.sent.get(`/${NAME}-2.vhd`) ?? 0) <= upd.diff.size, 'the patch is all of version 2 there is to fetch');
      await powerOff(page, vm);

      await page.click(`[data-vm="${vm}"] [data-action="roll-back"]`);
      const back = (await dialog.textContent()) ?? '';
      assert.match(back, new RegExp(`Roll ${vm} back from version 2 to 1\\?`));
      assert.match(back, /Nothing to download/);
      await dialog.locator('[data-confirm="yes"]').click();
      await update.waitFor({ state: 'visible', timeout: 30_000 });
      await startAndWaitForShell(page, vm);
      const third = await run(page, vm, 'echo "data: $(cat /data/note)"; echo "system: $(cat /etc/appliance-version)"', /system: \S+\r?\n/);
      assert.match(third.slice(third.lastIndexOf('echo "data')), new RegExp(`data: kept\\r?\\n[\\s\\S]*system: ${BASE_VERSION.replace(/\./g, '\\.')}\\r?\\n`));
      await powerOff(page, vm);

      // The management console does the same: update VM (to the newest), confirmed.
      await hvCommand(page, `update ${vm}`);
      const asked = await waitForHvConsole(page, (t) => t.includes('[y/N]'));
      // The question wraps at the console's width.
      assert.match(asked.replace(/\s+/g, ' '), new RegExp(`Move ${vm} from version 1 to 2\\? Every change made to its system disk is discarded; its data disk \\(/data\\) is kept`));
      await page.keyboard.type('y');
      await page.keyboard.press('Enter');
      await waitForHvConsole(page, (t) => t.includes(`${vm}: system disk on version 2`));
      await page.locator(`[data-vm="${vm}"] [data-action="roll-back"]`).waitFor({ state: 'visible', timeout: 30_000 });
    } finally {
      await context.close();
    }
  });
});

/** After a reload: the server powers on again (or is powered on) and the stopped VM's card is there. */
async function backToShellOff(page: import('playwright-core').Page, vm: string): Promise<void> {
  const hv = await waitForHvConsole(page, (t) => t.includes('romvisor>') || t.includes('server is off'), 30_000);
  if (!hv.includes('romvisor>')) await powerOn(page);
  await vmState(page, vm, 'stopped', 30_000);
}
