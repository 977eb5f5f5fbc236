/**
 * The durability contract in Chromium, the way a user meets it: a file the guest was told
 * is on disk (`sync` returned) keeps its bytes across a reload, a stopped VM, a guest
 * poweroff, and a browser killed with SIGKILL. Every check reads the file's contents, not
 * its existence or size: a lost data block reads back as zeros of the right length.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { backToShell, killPersistentChromium, launchPersistent, newPage, newVmAtShell, powerOn, startAndWaitForShell, startEnv, typeInVm, vmState, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

/** Types a command and waits until its marker line shows, i.e. the command returned. */
async function run(p: Page, vm: string, command: string, marker: string): Promise<void> {
  await typeInVm(p, vm, `${command}; echo ${marker}-$((1+1))\n`);
  await waitForConsole(p, vm, (t) => t.includes(`${marker}-2`), 30_000);
}

/** `cat`s `path` in the guest between two markers and gives exactly what it printed. */
async function readBack(p: Page, vm: string, path: string): Promise<string> {
  const tag = `rb${Math.floor(Math.random() * 1e9)}`;
  // From the disk, not the guest's cache: after a reload the page may have resumed the
  // machine (suspended on pagehide) with the file still in its RAM.
  await typeInVm(p, vm, `echo 3 > /proc/sys/vm/drop_caches; echo ${tag}-$((0+1)); od -An -c ${path}; echo ${tag}-$((0+2))\n`);
  const text = await waitForConsole(p, vm, (t) => t.includes(`${tag}-2`), 30_000);
  const from = text.lastIndexOf(`${tag}-1`);
  return text.slice(from + `${tag}-1`.length, text.lastIndexOf(`${tag}-2`)).replace(/\s+/g, ' ').trim();
}

// `od -c` of "durable-42\n": what the guest must read back.
const DURABLE_42 = 'd u r a b l e - 4 2 \\n';

describe('what the guest synced survives', () => {
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await newPage(env, context);
    await powerOn(page);
  });

  after(async () => {
    await context?.close();
  });

  for (const waitMs of [1_000, 10_000]) {
    test(`one sync, then a reload ${waitMs / 1000} s later: the file's bytes are there`, async () => {
      const vm = await newVmAtShell(page);
      await run(page, vm, 'echo durable-$((6*7)) > /root/keep; sync', 'synced');
      await page.waitForTimeout(waitMs);
      await page.reload();
      await backToShell(page, vm);
      assert.equal(await readBack(page, vm, '/root/keep'), DURABLE_42);
      await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
      await vmState(page, vm, 'stopped');
    });
  }

  test('a sync, the Stop button, a second sync, a guest poweroff, then a reload: both files are there', async () => {
    const vm = await newVmAtShell(page);
    await run(page, vm, 'echo durable-$((6*7)) > /root/one; sync', 'one');
    await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
    await vmState(page, vm, 'stopped');
    await startAndWaitForShell(page, vm);
    await run(page, vm, 'echo durable-$((6*7)) > /root/two; sync', 'two');
    await typeInVm(page, vm, 'poweroff\n');
    await vmState(page, vm, 'stopped', 60_000);
    await page.reload();
    await backToShell(page, vm);
    assert.equal(await readBack(page, vm, '/root/one'), DURABLE_42);
    assert.equal(await readBack(page, vm, '/root/two'), DURABLE_42);
    await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
    await vmState(page, vm, 'stopped');
  });
});

describe('a browser killed right after sync returns', () => {
  let profile: string;

  before(() => {
    profile = mkdtempSync(join(tmpdir(), 'romvisor-profile-'));
  });

  after(() => {
    rmSync(profile, { recursive: true, force: true });
  });

  test('SIGKILL of every Chromium process, a new browser on the same profile: the file\'s bytes are there', async () => {
    let context = await launchPersistent(profile);
    let page = await newPage(env, context);
    await powerOn(page);
    const vm = await newVmAtShell(page);
    await run(page, vm, 'echo durable-$((6*7)) > /root/keep; sync', 'synced');
    killPersistentChromium(profile);
    await context.close().catch(() => {});

    context = await launchPersistent(profile);
    page = await newPage(env, context);
    await backToShell(page, vm);
    assert.equal(await readBack(page, vm, '/root/keep'), DURABLE_42);
    await context.close();
  });
});
