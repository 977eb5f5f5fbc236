// Appliance repositories in the page: one added by URL lists its appliance in the catalog,
// a VM of it boots to a shell reading only part of its VHD from the server (each chunk
// verified, kept in IndexedDB; the card's streaming line says what it fetched, as the server
// counted it), and after a reload the repository is still there and the VM boots again
// without fetching; a chunk changed on the server stops a new VM naming it; a bad URL, a
// server without CORS, a host where nothing listens, an index that fails validation and
// plain http to another host are each refused with their own message, and so is a VHD
// that lives on a host without CORS or where nothing listens.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRepository } from '../../src/repo/node.ts';
import { encodeScenarioUrl, type Scenario } from '../../src/scenario/index.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { makeRepoAppliance } from '../repo/repoFixture.ts';
import { startRepoServer, type RepoServer } from '../repo/repoServer.ts';
import { newPage, newVm, powerOn, resultsDir, startAndWaitForShell, typeInVm, vmState, waitForConsole, waitForHvConsole, startEnv, waitFor, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let dir: string;
let cleanup: () => void;
let good: RepoServer;
let noCors: RepoServer;
let invalid: RepoServer;
let vhdSize: number;
let repoDir: string;
/** The last range the first test's guest read: a chunk read by the guest, not by the boot files' loader. */
let lastGuestRange = '';

before(async () => {
  ({ dir, cleanup } = tempDir('e2e-repo'));
  repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  await makeRepoAppliance(repoDir, 'mini', '1');
  await buildRepository(repoDir, { name: 'Test appliances' });
  vhdSize = readFileSync(join(repoDir, 'mini-1.vhd')).length;
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

interface StreamLine {
  text: string;
  fetchedBytes: number;
  imageBytes: number;
  requests: number;
  storeBytes: number;
  offline: boolean;
}

/** The VM card's streaming line once `ready` holds for it (it is told twice a second at most). */
async function streamLine(page: import('playwright-core').Page, vm: string, ready: (l: StreamLine) => boolean, timeoutMs = 10_000): Promise<StreamLine> {
  const read = () =>
    page.evaluate((name: string) => {
      const el = document.querySelector(`[data-vm="${name}"] [data-remote-disk]`) as HTMLElement | null;
      if (!el || el.hidden) return undefined;
      const d = el.dataset;
      return { text: el.textContent ?? '', fetchedBytes: Number(d.fetchedBytes), imageBytes: Number(d.imageBytes), requests: Number(d.requests), storeBytes: Number(d.storeBytes), offline: d.offline === 'true' };
    }, vm);
  let line: StreamLine | undefined;
  await waitFor('the streaming line', async () => (line = await read()) !== undefined && ready(line), timeoutMs).catch(() => {});
  if (!line) throw new Error(`VM ${vm}'s card shows no streaming line`);
  // A line that never got ready is returned as it is: the caller's assertion says how it differs.
  return line;
}

async function addRepository(page: import('playwright-core').Page, url: string): Promise<void> {
  await page.fill('.repo-url', url);
  await page.click('[data-action="add-repo"]');
}

describe('a scenario guest of a repository appliance', () => {
  it('runs from a link naming { repo, name, version }, read by range, without adding the repository', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      const scenario: Scenario = {
        version: 1,
        title: 'A repository appliance',
        guests: [{
          appliance: { repo: good.url, name: 'mini', version: '1' },
          memoryMiB: 96,
          cmdline: '',
          time: 'realtime',
          script: [{ expect: ' # ' }, { send: 'cat /etc/appliance-version; echo END-OF-CHECK\n' }, { expect: 'END-OF-CHECK' }],
        }],
      };
      good.reset();
      await page.goto(encodeScenarioUrl(scenario, env.url));
      await page.locator('[data-action="run-scenario"]').click();
      const phase = () => page.evaluate(() => (globalThis as unknown as { __romvisorScenario: { phase(): string } }).__romvisorScenario.phase());
      await waitFor('the scenario to pass', async () => ((await phase()) === 'passed' || (await phase()) === 'failed') && phase(), 180_000);
      assert.equal(await phase(), 'passed', await page.locator('[data-scenario-status]').innerText());
      const text = await page.evaluate(() => (globalThis as unknown as { __romvisorScenario: { consoleText(i: number): string } }).__romvisorScenario.consoleText(0));
      assert.match(text, /\n1\r?\nEND-OF-CHECK/);
      const vhd = good.requests.filter((r) => r.path === '/mini-1.vhd');
      assert.ok(vhd.length > 0 && vhd.every((r) => /^bytes=\d+-\d+$/.test(r.range)), 'the VHD is read by range only');
      assert.equal(await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().repositories().length), 0, 'the link added no repository');
    } finally {
      await context.close();
      good.reset(); // the next test counts the bytes its own VM fetches
    }
  });
});

describe('a repository in the page', () => {
  it('lists its appliance, boots a VM of it reading part of its VHD, after a reload boots it again fetching nothing, and fetches the rest for offline use once', async (t) => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      await addRepository(page, good.url.replace(/\/$/, ''));
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
      assert.match(await page.textContent('[data-appliance="mini"]') ?? '', /from Test appliances, version 1/);
      // The page reads the VHD's footer, header and block table when it makes the VM (and
      // keeps them); what the VM's own boot fetches is counted from its start.
      const vm = await newVm(page, 'mini');
      const atCreation = good.sent.get('/mini-1.vhd') ?? 0;
      good.reset();
      await startAndWaitForShell(page, vm);
      await typeInVm(page, vm, 'cat /etc/appliance-version\n');
      await waitForConsole(page, vm, (t) => /cat \/etc\/appliance-version\r?\n1\r?\n/.test(t));
      // Every request for the VHD was a range, and they took a part of it.
      assert.ok(good.requests.filter((r) => r.path === '/mini-1.vhd').every((r) => /^bytes=/.test(r.range)));
      const fetched = good.sent.get('/mini-1.vhd') ?? 0;
      t.diagnostic(`the page's lazy boot fetched ${fetched} of ${vhdSize} bytes of the VHD (${((fetched / vhdSize) * 100).toFixed(1)}%), after ${atCreation} bytes read when the VM was made`);
      assert.ok(fetched > 0 && atCreation + fetched < vhdSize * 0.6, `fetched ${atCreation} + ${fetched} of ${vhdSize}`);
      lastGuestRange = good.requests.filter((r) => r.path === '/mini-1.vhd').at(-1)!.range;
      await page.locator(`[data-vm="${vm}"]`).screenshot({ path: join(resultsDir, 'repository-streaming-card.png') });
      await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
      await vmState(page, vm, 'stopped');
      // The card's streaming line (kept after the stop, the run's last figures) says what the
      // server counted, byte for byte and request for request.
      const sent = good.sent.get('/mini-1.vhd') ?? 0;
      const line = await streamLine(page, vm, (l) => l.fetchedBytes === sent);
      assert.equal(line.fetchedBytes, sent, `the card says ${line.text}; the server sent ${sent} bytes`);
      assert.equal(line.requests, good.requests.filter((r) => r.path === '/mini-1.vhd').length);
      assert.equal(line.imageBytes, vhdSize);
      assert.match(line.text, new RegExp(`^disk: [\\d.]+ (KiB|MiB) fetched of [\\d.]+ MiB \\(${Math.round((sent / vhdSize) * 100)} %\\), ${line.requests} requests`));
      t.diagnostic(`the card: ${line.text}`);

      await page.reload();
      const hv = await waitForHvConsole(page, (t) => t.includes('romvisor>') || t.includes('server is off'), 30_000);
      if (!hv.includes('romvisor>')) await powerOn(page);
      await page.waitForSelector(`[data-repo="${good.url}repository.json"]`, { timeout: 30_000 });
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
      good.reset();
      await startAndWaitForShell(page, vm);
      assert.equal(good.sent.get('/mini-1.vhd') ?? 0, 0, 'the second boot read every chunk from IndexedDB');
      const second = await streamLine(page, vm, (l) => l.storeBytes > 0);
      assert.equal(second.fetchedBytes, 0, second.text);
      assert.match(second.text, /^disk: all read from this browser's copy \([\d.]+ MiB\), nothing fetched$/);
      t.diagnostic(`the card after the second boot: ${second.text}`);

      // "Make available offline" fetches the rest once; a second time there is nothing left.
      await page.click('[data-appliance="mini"] [data-action="offline"]');
      await waitFor('the offline copy to start', async () => (await page.textContent('.import-progress'))?.includes('(offline copy)'));
      // Done when the server has sent nothing more for a second.
      let last = -1;
      await waitFor('the offline copy to finish', async () => {
        const now = good.sent.get('/mini-1.vhd') ?? 0;
        const still = now === last;
        last = now;
        return still;
      }, 60_000, 1000);
      const rest = await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().makeAvailableOffline('mini') as Promise<number>);
      const offline = good.sent.get('/mini-1.vhd') ?? 0;
      assert.equal(rest, 0, 'nothing left after the first offline copy');
      assert.ok(offline + fetched >= vhdSize * 0.8, `boot ${fetched} + offline copy ${offline} of ${vhdSize} bytes`);
      // The running VM's card learns it too (its worker looks at the store now and then).
      const kept = await streamLine(page, vm, (l) => l.offline, 30_000);
      assert.match(kept.text, /^disk: available offline, nothing fetched \([\d.]+ MiB read from this browser's copy\)$/);
      t.diagnostic(`the card after the offline copy: ${kept.text}`);
    } finally {
      await context.close();
    }
  });

  it('stops a VM whose disk chunk changed on the server, naming the chunk and the sha256 the index expects', async () => {
    assert.ok(lastGuestRange, 'needs the first test');
    const index = JSON.parse(readFileSync(join(repoDir, 'repository.json'), 'utf8'));
    const version = index.appliances[0].versions[0];
    const chunk = Math.floor(Number(/^bytes=(\d+)-/.exec(lastGuestRange)![1]) / version.chunkSize);
    const changedDir = join(dir, 'changed');
    cpSync(repoDir, changedDir, { recursive: true });
    const bytes = readFileSync(join(changedDir, 'mini-1.vhd'));
    bytes.fill(0x55, chunk * version.chunkSize + 100, chunk * version.chunkSize + 600);
    writeFileSync(join(changedDir, 'mini-1.vhd'), bytes);
    const changed = await startRepoServer(changedDir, { cors: true });
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      await addRepository(page, changed.url);
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
      await page.click('[data-appliance="mini"] [data-action="new-vm"]');
      const vm = 'mini-1';
      await page.waitForSelector(`[data-vm="${vm}"]`, { timeout: 60_000 });
      await page.click(`[data-vm="${vm}"] [data-action="start"]`);
      const card = await page.waitForFunction(
        (name: string) => {
          const el = document.querySelector(`[data-vm="${name}"]`) as HTMLElement | null;
          return el && el.dataset.state !== 'running' && el.dataset.state !== 'starting' && /chunk \d+ \(bytes/.test(el.textContent ?? '') && el.textContent;
        },
        vm,
        { timeout: 90_000 },
      );
      const text = String(await card.jsonValue());
      assert.match(text, new RegExp(`chunk ${chunk} \\(bytes ${chunk * version.chunkSize}-\\d+\\) of mini-1\\.vhd at ${changed.url}mini-1\\.vhd: sha256 is [0-9a-f]{64}, the repository index expects ${version.chunks[chunk]}`));
    } finally {
      await context.close();
      await changed.close();
    }
  });

  it('stops a running VM whose server went away when the guest reads what it never fetched, saying nothing answers there', async () => {
    const fragile = await startRepoServer(repoDir, { cors: true });
    const port = new URL(fragile.url).port;
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await newPage(env, context);
      await powerOn(page);
      await addRepository(page, fragile.url);
      await page.waitForSelector('[data-appliance="mini"]', { timeout: 30_000 });
      const vm = await newVm(page, 'mini');
      await startAndWaitForShell(page, vm);
      await fragile.close();
      // The whole device: blocks the boot never read (the journal, say) need the server.
      await typeInVm(page, vm, 'dd if=/dev/vda of=/dev/null bs=64k\n');
      const text = await page.waitForFunction(
        (name: string) => {
          const el = document.querySelector(`[data-vm="${name}"]`) as HTMLElement | null;
          return el?.dataset.state === 'crashed' && /the connection failed/.test(el.textContent ?? '') && el.querySelector('.vm-banner')?.textContent;
        },
        vm,
        { timeout: 60_000 },
      );
      assert.match(String(await text.jsonValue()), new RegExp(`disk error: ${fragile.url}mini-1\\.vhd: cannot reach 127\\.0\\.0\\.1:${port} \\(Failed to fetch; tried 3 times\\)\\. The page looked again: cannot reach 127\\.0\\.0\\.1:${port}: the connection failed \\(no server listens`));
      await page.locator(`[data-vm="${vm}"]`).screenshot({ path: join(resultsDir, 'repository-server-gone.png') });
    } finally {
      await context.close();
    }
  });

  it('says why a VM cannot be made when its VHD lives on another host: one without CORS, or one where nothing listens', async () => {
    // Two repositories whose index reads (CORS) but whose VHD is elsewhere, by absolute URL.
    const closed = await startRepoServer(repoDir);
    const deadPort = new URL(closed.url).port;
    await closed.close();
    const index = JSON.parse(readFileSync(join(repoDir, 'repository.json'), 'utf8'));
    const servers: RepoServer[] = [];
    const split = async (name: string, vhdUrl: string) => {
      const d = join(dir, `split-${name}`);
      mkdirSync(d);
      const copy = structuredClone(index);
      copy.name = `Split ${name}`;
      copy.appliances[0].name = name;
      copy.appliances[0].versions[0].url = vhdUrl;
      writeFileSync(join(d, 'repository.json'), JSON.stringify(copy));
      const s = await startRepoServer(d, { cors: true });
      servers.push(s);
      return s;
    };
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const far = await split('far', `${noCors.url}mini-1.vhd`);
      const gone = await split('gone', `http://127.0.0.1:${deadPort}/mini-1.vhd`);
      const page = await newPage(env, context);
      await powerOn(page);
      const refused = async (appliance: string, why: RegExp) => {
        await page.click(`[data-appliance="${appliance}"] [data-action="new-vm"]`);
        const toast = await page.waitForFunction(() => [...document.querySelectorAll('.toast.error')].map((e) => e.textContent).join('\n') || undefined, undefined, { timeout: 60_000 });
        assert.match(String(await toast.jsonValue()), why);
        await page.evaluate(() => document.querySelectorAll('.toast.error').forEach((e) => e.remove()));
      };
      // One after the other: the field is cleared when an add succeeds.
      await addRepository(page, far.url);
      await page.waitForSelector('[data-appliance="far"]', { timeout: 30_000 });
      await addRepository(page, gone.url);
      await page.waitForSelector('[data-appliance="gone"]', { timeout: 30_000 });
      await refused('far', new RegExp(`${noCors.url}mini-1\\.vhd: the server at ${noCors.url.slice(7, -1)} answers, but does not let this page read it: its answer has no CORS header`));
      await refused('gone', new RegExp(`http://127\\.0\\.0\\.1:${deadPort}/mini-1\\.vhd: cannot reach 127\\.0\\.0\\.1:${deadPort}: the connection failed`));
      assert.equal(await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().vms().length), 0, 'no VM was made');
    } finally {
      await context.close();
      for (const s of servers) await s.close();
    }
  });

  it('refuses a bad URL, a server without CORS, a host where nothing listens, an invalid index and plain http to another host, each saying why', async () => {
    // A port nothing listens on: one the system gave a server that is closed again.
    const closed = await startRepoServer(repoDir);
    const deadPort = new URL(closed.url).port;
    await closed.close();
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
      // Chromium gives the page one TypeError for both; the page's probe tells them apart.
      await refused(noCors.url, new RegExp(`the server at ${noCors.url.slice(7, -1)} answers, but does not let this page read it: its answer has no CORS header \\(Access-Control-Allow-Origin\\)`));
      await refused(`http://127.0.0.1:${deadPort}/repo/`, new RegExp(`cannot reach 127\\.0\\.0\\.1:${deadPort}: the connection failed \\(no server listens at that address and port`));
      await refused(invalid.url, /appliances\[0\]\.versions\[0\]\.sha256 must be 64 lowercase hex digits, got "not a hash"/);
      await refused('http://example.org/repo/', /plain http is accepted for this machine \(localhost, 127.x.x.x, \[::1\]\) only; use https/);
      assert.equal(await page.$$eval('[data-repo]', (els) => els.length), 0);
    } finally {
      await context.close();
    }
  });
});
