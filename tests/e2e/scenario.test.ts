/**
 * Scenario links in Chromium, the way a user opens one: a link that boots `base` and plays
 * a three-step script shows what it will run, runs on Run, and every step passes in the
 * console; a broken link shows its exact problems and the page works on; a deterministic
 * run's console is byte-identical to `romvisor boot SCENARIO.json`; a title made of HTML
 * stays text. Screenshots land in test-results/scenario-*.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { decodeScenarioUrl, encodeScenarioUrl, ScenarioError, type Scenario } from '../../src/scenario/index.ts';
import { hvCommand, newPage, repoRoot, shot, startEnv, waitForHvConsole, type E2eEnv, waitFor } from './harness.ts';

/** Boots base, writes a file and reads it back: three steps, deterministic time. */
const WRITE_A_FILE: Scenario = {
  version: 1,
  title: 'Write a file',
  notes: 'Boots base, writes /root/f and reads it back.\nEvery run executes the same instructions.',
  view: ['console'],
  guests: [
    {
      appliance: { builtin: 'base' },
      memoryMiB: 128,
      cmdline: '',
      time: 'deterministic',
      script: [
        { expect: '# ', timeout: 300 },
        { send: 'echo note-$((6*7)) > /root/f && cat /root/f\n' },
        { expect: 'note-42' },
      ],
    },
  ],
};

interface ScenarioHook {
  phase(): string;
  progress(): ({ results: { index: number; status: string; ms: number }[]; done: boolean } | undefined)[];
  vmNames(): string[];
  consoleText(i: number): string | undefined;
  transcript(i: number): Promise<{ text: string; atScriptEnd?: number } | undefined>;
}

const guestConsole = (page: Page) => hook(page, (h) => h.consoleText(0) ?? '');

const hook = <T>(page: Page, f: (h: ScenarioHook) => T | Promise<T>) =>
  page.evaluate(`(${f.toString()})(globalThis.__romvisorScenario)`) as Promise<T>;


let env: E2eEnv;
let context: BrowserContext;
let scratch: string;
const pageErrors: string[] = [];
const cspViolations: string[] = [];

before(async () => {
  env = await startEnv();
  context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  scratch = mkdtempSync(join(tmpdir(), 'romvisor-scenario-'));
});

after(async () => {
  await context?.close();
  await env?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function openPage(hash = ''): Promise<Page> {
  const page = await newPage(env, context);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('dialog', (d) => {
    pageErrors.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  if (hash) await page.goto(`${env.url}${hash}`);
  return page;
}

describe('scenario links in the page', () => {
  test('a broken link lists its exact problems, and the page still works', async () => {
    // Valid deflate and JSON, wrong in three places: the page must name all three.
    const json = JSON.stringify({ version: 1, guests: [{ appliance: { builtin: '' }, memoryMiB: 5, time: 'sometimes' }] });
    const link = `${env.url}#s=${deflateRawSync(Buffer.from(json)).toString('base64url')}`;
    let expected: ScenarioError | undefined;
    try {
      decodeScenarioUrl(link);
    } catch (e) {
      expected = e as ScenarioError;
    }
    assert.ok(expected instanceof ScenarioError && expected.problems.length >= 3, `the link is refused with several problems: ${expected?.message}`);

    const page = await openPage(link.slice(env.url.length));
    const panel = page.locator('.scenario-error');
    await panel.waitFor();
    assert.equal(await panel.getAttribute('role'), 'alert');
    // Each problem is listed once: the line above the list counts them, it does not repeat them.
    assert.equal(await panel.locator('.scenario-message').innerText(), `The scenario breaks the schema in ${expected.problems.length} places:`);
    assert.deepEqual(await panel.locator('.scenario-problems li').allInnerTexts(), [...expected.problems]);
    const panelText = await panel.innerText();
    for (const p of expected.problems) assert.equal(panelText.split(p).length - 1, 1, `"${p}" is shown once`);
    await shot(page, 'scenario-broken-link');

    // A damaged payload: one message, exactly as the decoder words it.
    await page.goto(`${env.url}#s=not*base64`);
    await waitFor('the base64 error', async () => (await page.locator('.scenario-error').getAttribute('data-scenario-error')) === 'bad-base64');
    let b64: ScenarioError | undefined;
    try {
      decodeScenarioUrl('#s=not*base64');
    } catch (e) {
      b64 = e as ScenarioError;
    }
    assert.equal(await page.locator('.scenario-error .scenario-message').innerText(), b64!.message);

    await page.click('[data-action="dismiss-scenario"]');
    assert.equal(await page.locator('.scenario-error').count(), 0, 'the panel is dismissed');
    assert.equal(new URL(page.url()).hash, '', 'the link is gone from the address bar');
    await page.click('#power');
    await waitForHvConsole(page, (t) => t.includes('romvisor>'), 20_000);
    await hvCommand(page, 'list appliances');
    await waitForHvConsole(page, (t) => /list appliances[\s\S]*base/.test(t));
    await page.close();
  });

  test('a title made of HTML is shown as text and runs nothing', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    const link = encodeScenarioUrl({ ...WRITE_A_FILE, title: xss, notes: `<script>alert(2)</script>\n${xss}` }, env.url);
    const page = await openPage(link.slice(env.url.length));
    const title = page.locator('[data-scenario-title]');
    await title.waitFor();
    assert.equal(await title.textContent(), xss);
    assert.equal(await page.locator('.scenario-notes').textContent(), `<script>alert(2)</script>\n${xss}`);
    assert.equal(await page.locator('.scenario-panel img, .scenario-panel script').count(), 0, 'no element was made from the link');
    await page.waitForTimeout(500);
    assert.deepEqual(pageErrors, [], 'no alert, no page error');
    await shot(page, 'scenario-xss-as-text');
    await page.close();
  });

  test('a link that boots base and plays a three-step script: every step passes, the console shows it', async () => {
    const link = encodeScenarioUrl(WRITE_A_FILE, env.url);
    const page = await openPage(link.slice(env.url.length));
    await page.locator('[data-action="run-scenario"]').waitFor();
    const preview = await page.locator('.scenario-preview').innerText();
    for (const text of ['Write a file', 'base (built-in)', '128 MiB', 'deterministic', 'note-42']) assert.ok(preview.includes(text), `the preview shows ${text}`);
    await shot(page, 'scenario-preview');

    await page.click('[data-action="run-scenario"]');
    await waitFor('the script to pass', async () => {
      const phase = await hook(page, (h) => h.phase());
      if (phase === 'failed') throw new Error(`the scenario failed: ${await page.locator('[data-scenario-status]').innerText()}`);
      return phase === 'passed';
    }, 180_000);
    const steps = page.locator('.scenario-steps .step');
    assert.equal(await steps.count(), 3);
    assert.deepEqual(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))), ['passed', 'passed', 'passed']);
    for (const t of await page.locator('.scenario-steps .step-time').allInnerTexts()) assert.match(t, /^\d+\.\d+ s$/);
    // The front panel counts the scenario's guest with the server's VMs.
    await waitFor('the front panel to count the guest', async () => /^1 VM · /.test((await page.locator('.chassis .lcd').innerText()).trim()), 10_000);
    const name = (await hook(page, (h) => h.vmNames()))[0]!;
    const text = await guestConsole(page);
    assert.match(text, /note-42/);
    assert.match(text, /# echo note-\$\(\(6\*7\)\) > \/root\/f && cat \/root\/f/);
    await page.locator('.scenario-panel').screenshot({ path: `${repoRoot}test-results/scenario-run.png` });

    // The guest keeps running: the console answers the user too.
    await page.click(`[data-vm="${name}"] .vm-term`);
    await page.keyboard.type('echo more-$((7*6))\n');
    await waitFor('the console to answer', async () => (await guestConsole(page)).includes('more-42'), 30_000);

    // Share gives the same scenario back, script included, with its length and a warning.
    await page.click(`[data-vm="${name}"] details.menu summary`);
    await page.click(`[data-vm="${name}"] [data-action="share"]`);
    const dialog = page.locator('[data-share-dialog]');
    await dialog.waitFor();
    const shared = await dialog.locator('[data-share-url]').inputValue();
    assert.equal(await dialog.locator('[data-share-length]').innerText(), `${shared.length} characters`);
    assert.deepEqual(decodeScenarioUrl(shared).guests, WRITE_A_FILE.guests);
    assert.match(await dialog.locator('.share-warnings').innerText(), /fresh copy of the appliance/);
    await dialog.screenshot({ path: `${repoRoot}test-results/scenario-share.png` });
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Nothing of the run is stored: no VM records, and the only image is the base appliance.
    const stored = await page.evaluate(async () => {
      const hv = (globalThis as any).__romvisor.hypervisor();
      return { vms: hv.vms().length, images: ((await hv.store.images()) as { kind: string }[]).map((r) => r.kind) };
    });
    assert.equal(stored.vms, 0, 'the scenario made no stored VM');
    assert.ok(stored.images.every((k) => k !== 'child'), `no disk child was stored: ${stored.images}`);
    await page.close();
  });

  test('a deterministic run gives the same console bytes as romvisor boot SCENARIO.json', async () => {
    const file = join(scratch, 'write-a-file.json');
    writeFileSync(file, JSON.stringify(WRITE_A_FILE, null, 2));
    const cli = execFileSync(process.execPath, ['bin/romvisor.mjs', 'boot', file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).toString('latin1');
    assert.match(cli, /note-42/);

    const link = encodeScenarioUrl(WRITE_A_FILE, env.url);
    const page = await openPage(link.slice(env.url.length));
    await page.click('[data-action="run-scenario"]');
    const transcript = await waitFor('the run to reach where the CLI stops', async () => {
      const t = await hook(page, (h) => h.transcript(0));
      return t?.atScriptEnd !== undefined ? t : undefined;
    }, 180_000);
    const inPage = transcript.text.slice(0, transcript.atScriptEnd);
    if (inPage !== cli) {
      let i = 0;
      while (i < cli.length && inPage[i] === cli[i]) i++;
      assert.fail(`the consoles differ at byte ${i} of ${cli.length} (page: ${inPage.length}):\n  cli:  ${JSON.stringify(cli.slice(Math.max(0, i - 80), i + 80))}\n  page: ${JSON.stringify(inPage.slice(Math.max(0, i - 80), i + 80))}`);
    }
    assert.equal(inPage.length, cli.length);
    await page.close();
  });

  test('the page runs all of the above under its Content-Security-Policy, which forbids inline script', async () => {
    const page = await openPage();
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(csp ?? '', /script-src 'self' 'wasm-unsafe-eval'(;|$)/, `no 'unsafe-inline' for scripts: ${csp}`);
    // An inline script added now is refused, and says so.
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'globalThis.__inlineRan = true';
      document.head.append(s);
      return (globalThis as { __inlineRan?: boolean }).__inlineRan === true;
    });
    assert.equal(ran, false, 'inline script ran');
    assert.ok(cspViolations.length >= 1, 'the refusal was reported');
    assert.ok(cspViolations.every((v) => /inline script/i.test(v)), `only the test's own inline script was refused:\n${cspViolations.join('\n')}`);
    await page.close();
  });
});
