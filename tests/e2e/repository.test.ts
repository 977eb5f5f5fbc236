// Appliance repositories in the page: one added by URL lists its appliance in the catalog,
// a VM of it boots to a shell from the VHD fetched through the chunk-verifying backend, the
// repository is still there after a reload; a bad URL, a server without CORS, an index
// that fails validation and plain http to another host are each refused with their own message.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRepository } from '../../src/repo/node.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { makeRepoAppliance } from '../repo/repoFixture.ts';
import { startRepoServer, type RepoServer } from '../repo/repoServer.ts';
import { newPage, newVmAtShell, powerOn, typeInVm, waitForConsole, waitForHvConsole, startEnv, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let dir: string;
let cleanup: () => void;
let good: RepoServer;
let noCors: RepoServer;
let invalid: RepoServer;

before(async () => {
  ({ dir, cleanup } = tempDir('e2e-repo'));
  const repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  await makeRepoAppliance(repoDir, 'mini', '1');
  await buildRepository(repoDir, { name: 'Test appliances' });
  const badDir = join(dir, 'bad');
  mkdirSync(badDir);
  const index = JSON.parse(readFileSync(join(repoDir, 'repository.json'), 'utf8'));
  index.appliances[0].versions[0].sha256 = 'not a hash';
  writeFileSync(join(badDir, 'repository.json'), JSON.stringify(index));
  good = await startRepoServer(repoDir, { cors: true });
  noCors = await startRepoServer(repoDir);
  invalid = await startRepoServer(badDir, { cors: true });
  env = await startEnv();
});
after(async () => {
  await env?.close();
  for (const s of [good, noCors, invalid]) await s?.close();
  cleanup?.();
});

async function addRepository(page: import('playwright-core').Page, url: string): Promise<void> {
  await page.fill('.repo-url', url);
  await page.click('[data-action="add-repo"]');
}

describe('a repository in the page', () => {
  it('lists its appliance, boots a VM of it to a shell, and is kept across a reload', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      await addRepository(page, good.url.replace(/\/$/, ''));
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
      assert.match(await page.textContent('[data-appliance="mini"]') ?? '', /from Test appliances, version 1/);
      const vm = await newVmAtShell(page, 'mini');
      await typeInVm(page, vm, 'cat /etc/appliance-version\n');
      await waitForConsole(page, vm, (t) => /cat \/etc\/appliance-version\r?\n1\r?\n/.test(t));
      // Every request for the VHD was a range: the verifying backend read it.
      assert.ok(good.requests.filter((r) => r.path === '/mini-1.vhd').every((r) => /^bytes=/.test(r.range)));

      await page.reload();
      const hv = await waitForHvConsole(page, (t) => t.includes('romvisor>') || t.includes('server is off'), 30_000);
      if (!hv.includes('romvisor>')) await powerOn(page);
      await page.waitForSelector(`[data-repo="${good.url}repository.json"]`, { timeout: 30_000 });
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
    } finally {
      await context.close();
    }
  });

  it('refuses a bad URL, a server without CORS, an invalid index and plain http to another host, each saying why', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      const refused = async (url: string, why: RegExp) => {
        await addRepository(page, url);
        const text = await page.waitForFunction(() => {
          const el = document.querySelector('[data-repo-error]') as HTMLElement | null;
          return el && !el.hidden && el.textContent;
        }, undefined, { timeout: 30_000 });
        assert.match(String(await text.jsonValue()), why);
        await page.evaluate(() => ((document.querySelector('[data-repo-error]') as HTMLElement).hidden = true));
      };
      await refused('not a url', /"not a url" is not a URL/);
      await refused(noCors.url, /cannot read it: the host does not answer, or its server does not let this page read it \(no CORS header Access-Control-Allow-Origin\)/);
      await refused(invalid.url, /appliances\[0\]\.versions\[0\]\.sha256 must be 64 lowercase hex digits, got "not a hash"/);
      await refused('http://example.org/repo/', /plain http is accepted for this machine only/);
      assert.equal(await page.$$eval('[data-repo]', (els) => els.length), 0);
    } finally {
      await context.close();
    }
  });
});
