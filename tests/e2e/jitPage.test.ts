/**
 * The JIT tier in the page, as a user meets it: `?jit=off|auto|eager` in the address sets
 * the tier of every VM without a setting of its own (a value that is none of those is
 * refused with a message at the top of the page), and a VM's card keeps its own setting in
 * its menu, stored with the VM, fixed while it runs and carried by its share link. With the
 * JIT on, the base appliance boots to its prompt and runs a command in its worker; four VMs
 * run at once, each compiling in its own worker under the page's CSP (which allows wasm
 * compiles only: 'wasm-unsafe-eval'); the inspector's JIT panel shows compiled pages and
 * blocks after a busy loop, and which tier the paused pc runs in.
 * Screenshots: test-results/jit-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { JitView } from '../../src/machine/index.ts';
import { DEFAULT_JIT_MODE } from '../../src/jit/Jit.ts';
import { atPrompt, consoleText, newPage, powerOn, resultsDir, shot, typeInVm, vmState, waitFor, waitForConsole, waitForHvConsole, type E2eEnv, startEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

/** A page on `query` (e.g. '?jit=auto') in a fresh profile, with its page errors collected. */
async function pageAt(query: string, errors: string[]): Promise<Page> {
  const page = await newPage(env);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${env.url}${query}`);
  return page;
}

/** Makes a VM of the base appliance from the management console and waits for its card. */
async function newBaseVm(page: Page, name: string): Promise<void> {
  await page.evaluate((n) => (globalThis as any).__romvisor.hypervisor().createVm('base', { name: n }), name);
  await vmState(page, name, 'stopped', 60_000);
}

/** The JIT view of `vm`'s worker, as the inspector's panel gets it. */
function jitViewOf(page: Page, vm: string): Promise<JitView> {
  return page.evaluate((n) => (globalThis as any).__romvisor.hypervisor().vm(n).machine.jitView(), vm);
}

/** Runs a shell command in `vm` and waits for `expected` after it. */
async function runCommand(page: Page, vm: string, command: string, expected: string): Promise<void> {
  const before = (await consoleText(page, vm)).length;
  await typeInVm(page, vm, `${command}\n`);
  await waitForConsole(page, vm, (t) => t.slice(before).includes(expected) && atPrompt(t), 60_000);
}

describe('the JIT tier in the page', () => {
  test('a ?jit= that is no mode is refused with a message, and VMs run with the default', async () => {
    const errors: string[] = [];
    const page = await pageAt('?jit=fast', errors);
    const problem = page.locator('[data-page-problem="jit"]');
    await problem.waitFor();
    const text = await problem.innerText();
    assert.match(text, /\?jit=fast in the address is not a JIT tier: use off, auto, eager\. It was ignored/);
    await powerOn(page);
    // The POST says which tier VMs without their own setting get: the default, not a guess.
    assert.match(await waitForHvConsole(page, (t) => t.includes('JIT tier:')), new RegExp(`JIT tier: ${DEFAULT_JIT_MODE} `));
    await shot(page, 'jit-bad-parameter');
    await problem.getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await problem.count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  for (const mode of ['eager', 'auto'] as const) {
    test(`?jit=${mode}: the base appliance boots to its prompt and runs a command`, async () => {
      const errors: string[] = [];
      const page = await pageAt(`?jit=${mode}`, errors);
      await powerOn(page);
      assert.match(await waitForHvConsole(page, (t) => t.includes('JIT tier:')), new RegExp(`JIT tier: ${mode} `));
      await newBaseVm(page, `jit-${mode}`);
      await page.click(`[data-vm="jit-${mode}"] [data-action="start"]`);
      await waitForConsole(page, `jit-${mode}`, (t) => t.includes(`, JIT ${mode}`), 30_000);
      await waitForConsole(page, `jit-${mode}`, atPrompt, 120_000);
      await runCommand(page, `jit-${mode}`, 'i=0; while [ $i -lt 3000 ]; do i=$((i + 1)); done; echo counted $i', 'counted 3000');
      // The worker runs the tier the address named, and compiled guest code in it.
      const v = await jitViewOf(page, `jit-${mode}`);
      assert.equal(v.mode, mode);
      assert.ok(v.stats.compiles > 0 && v.stats.jitInsns > 0, JSON.stringify(v.stats));
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test("a VM's JIT setting is in its menu, kept across a reload, fixed while it runs and in its share link", async () => {
    const errors: string[] = [];
    const page = await pageAt('?jit=off', errors);
    await powerOn(page);
    assert.match(await waitForHvConsole(page, (t) => t.includes('JIT tier:')), /JIT tier: off /);
    await newBaseVm(page, 'tiered');
    const card = page.locator('[data-vm="tiered"]');
    const jit = card.locator('[data-setting="jit"]');
    await card.locator('details.menu summary').click();
    assert.equal(await jit.inputValue(), 'off', 'without a setting of its own the VM shows the page default');
    await jit.selectOption('auto');
    await waitFor('the setting stored', async () => (await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().vm('tiered').record.jit)) === 'auto');
    await page.reload();
    await vmState(page, 'tiered', 'stopped', 60_000);
    assert.equal(await card.locator('[data-setting="jit"]').inputValue(), 'auto', 'the setting came back from the store');
    assert.match(await card.locator('.vm-meta').innerText(), /JIT auto/);
    // The share link carries it as the page's ?jit=, beside the scenario.
    await card.locator('details.menu summary').click();
    await card.locator('[data-action="share"]').click();
    const dialog = page.locator('[data-share-dialog]');
    await dialog.waitFor();
    assert.match(await dialog.locator('[data-share-url]').inputValue(), /^http:\/\/127\.0\.0\.1:\d+\/\?jit=auto#s=/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await card.locator('[data-action="start"]').click();
    await vmState(page, 'tiered', 'running');
    await card.locator('details.menu summary').click();
    assert.equal(await card.locator('[data-setting="jit"]').isDisabled(), true, 'the setting is fixed while the VM runs');
    await shot(page, 'jit-menu-setting');
    await card.locator('details.menu summary').click();
    await waitForConsole(page, 'tiered', (t) => t.includes('powering on tiered: 64 MiB RAM, 1 hart, romvisor base') && t.includes(', JIT auto'), 30_000);
    await waitForConsole(page, 'tiered', atPrompt, 90_000);
    await runCommand(page, 'tiered', 'echo $((6 * 7))', '42');
    assert.equal((await jitViewOf(page, 'tiered')).mode, 'auto', 'the worker runs the VM\'s own tier over the page\'s ?jit=off');
    await card.locator('[data-action="stop"]').click();
    await vmState(page, 'tiered', 'stopped');
    // Off again: changed while stopped, and the power-on line no longer names a tier.
    await card.locator('details.menu summary').click();
    await card.locator('[data-setting="jit"]').selectOption('off');
    await waitFor('the setting stored', async () => (await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().vm('tiered').record.jit)) === 'off');
    await card.locator('details.menu summary').click();
    await card.locator('[data-action="start"]').click();
    const booted = await waitForConsole(page, 'tiered', (t) => atPrompt(t) && t.lastIndexOf('powering on tiered') > t.lastIndexOf(', JIT auto'), 90_000);
    assert.doesNotMatch(booted.slice(booted.lastIndexOf('powering on tiered')).split('\n')[0]!, /JIT/);
    const off = await jitViewOf(page, 'tiered');
    assert.equal(off.mode, 'off');
    assert.equal(off.stats.compiles, 0);
    await card.locator('[data-action="stop"]').click();
    await vmState(page, 'tiered', 'stopped');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('four VMs at once with the JIT on: each boots, runs a command and compiles in its worker; no CSP violation', async () => {
    const errors: string[] = [];
    const csp: string[] = [];
    const page = await pageAt('?jit=auto', errors);
    // Console messages of the page and of its workers: a CSP refusal is logged there.
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) csp.push(m.text());
    });
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(policy ?? '', /script-src 'self' 'wasm-unsafe-eval';/);
    assert.doesNotMatch(policy ?? '', /'unsafe-eval'/, 'only wasm compiles are allowed, never eval');
    await powerOn(page);
    const names = ['quad-1', 'quad-2', 'quad-3', 'quad-4'];
    for (const n of names) await newBaseVm(page, n);
    for (const n of names) await page.click(`[data-vm="${n}"] [data-action="start"]`);
    for (const n of names) await waitForConsole(page, n, atPrompt, 180_000);
    await shot(page, 'jit-four-vms', true);
    for (const n of names) {
      await runCommand(page, n, `i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); done; echo ${n} counted $i`, `${n} counted 2000`);
    }
    for (const n of names) {
      const v = await jitViewOf(page, n);
      assert.equal(v.mode, 'auto');
      assert.ok(v.stats.compiles > 0, `${n} compiled nothing: ${JSON.stringify(v.stats)}`);
    }
    for (const n of names) await page.click(`[data-vm="${n}"] [data-action="stop"]`);
    for (const n of names) await vmState(page, n, 'stopped');
    assert.deepEqual(csp, []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("the inspector's JIT panel shows compiled pages after a busy loop, and the paused pc's tier", async () => {
    const errors: string[] = [];
    const page = await pageAt('?jit=auto', errors);
    await powerOn(page);
    await newBaseVm(page, 'watched');
    const card = page.locator('[data-vm="watched"]');
    await card.locator('[data-action="start"]').click();
    await waitForConsole(page, 'watched', atPrompt, 120_000);
    await card.locator('[data-action="watch"]').click();
    const panel = card.locator('.teach-jit');
    await panel.waitFor();
    await typeInVm(page, 'watched', 'while :; do :; done\n');
    // The shell's loop turns its pages hot: the panel lists them with their blocks.
    await waitFor('compiled pages in the panel', async () => Number(await panel.locator('[data-compiled]').getAttribute('data-compiled').catch(() => '0')) > 0, 60_000);
    await waitFor('most instructions run compiled', async () => {
      const t = await panel.locator('[data-share="recent"] b').innerText();
      return /^\d+%$/.test(t) && Number(t.slice(0, -1)) >= 50;
    }, 60_000);
    assert.match(await panel.locator('.teach-status').innerText(), /^auto · \d+ pages? compiled · \d+ blocks?$/);
    assert.match(await panel.locator('[data-counter="compiles"]').innerText(), /^[1-9][\d,]*/);
    assert.match(await panel.locator('[data-counter="cache-pages"]').innerText(), /^\d[\d,]* \/ [1-9][\d,]*/);
    // Paused, the panel names the pc's tier and why. A pause lands wherever a slice ended:
    // often mid-block in the loop's compiled pages (the interpreter runs to the next block
    // start) or in the kernel's timer interrupt. Stepping walks the pc to a block start, and
    // the panel then says compiled code runs from there.
    const inspector = card.locator('.teach-inspector');
    const status = () => inspector.locator('.teach-status').innerText();
    /** The panel's tier and reason once it shows the paused pc the inspector shows. */
    const tierNow = async () => {
      await waitFor('the paused status', async () => (await status()).startsWith('paused ·'));
      const pcText = (await status()).match(/pc (0x[0-9a-f]+)/)![1]!;
      await waitFor('the panel at the paused pc', async () => (await panel.locator('.teach-jit-tier .mono').first().innerText()).startsWith(`pc ${pcText}`), 10_000);
      return { tier: (await panel.locator('.teach-jit-tier').getAttribute('data-tier'))!, why: await panel.locator('.teach-jit-why').innerText() };
    };
    const seen: string[] = [];
    let found = false;
    for (let pause = 0; pause < 6 && !found; pause++) {
      await inspector.getByRole('button', { name: 'Pause' }).click();
      for (let step = 0; step < 24 && !found; step++) {
        const { tier, why } = await tierNow();
        seen.push(why.slice(0, 60));
        if (tier === 'compiled') {
          found = true;
          assert.match(why, /starts its block \d+ of \d+/);
          assert.equal(await panel.locator('.teach-jit-chip').innerText(), 'compiled (wasm)');
          assert.match(await panel.locator('tr.pc-page').innerText(), /◀ pc/, "the pc's page is marked among the compiled ones");
          await shot(page, 'jit-panel-page', true);
          await panel.screenshot({ path: `${resultsDir}/jit-panel.png` });
        } else {
          assert.match(why, /not where one starts|warming up|outside RAM/);
          // Only a compiled page's pc is stepped towards a block start; the kernel's is let run.
          if (!/not where one starts/.test(why)) break;
          const before = await status();
          await inspector.getByRole('button', { name: 'Step', exact: true }).click();
          await waitFor('the step', async () => (await status()) !== before, 10_000);
        }
      }
      if (!found) {
        await inspector.getByRole('button', { name: 'Continue' }).click();
        await page.waitForTimeout(300);
      }
    }
    assert.ok(found, `the pc never reached compiled code; the panel said:\n${seen.join('\n')}`);
    await inspector.getByRole('button', { name: 'Continue' }).click();
    await card.locator('[data-action="stop"]').click();
    await vmState(page, 'watched', 'stopped');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
