/**
 * Step back in the inspector, as a student meets it: the page-fault demo (a deterministic
 * scenario of the base appliance) runs its script; its trap log has the demo's store page
 * fault. The student clicks that row's ◀: the machine goes back to just after the fault was
 * taken (the inspector says so, pc at the kernel's handler, the console as it was then).
 * "◀ Step back" goes one more instruction back, before the faulting store: the fault leaves
 * the trap log. "Step" runs the store again: it faults again, with the same address, and the
 * log has it again. Continue: the demo finishes a second time, exactly as the first.
 * Screenshot: test-results/step-back.png.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeScenarioUrl, parseScenarioJson } from '../../src/scenario/index.ts';
import { newPage, repoRoot, startEnv, waitFor, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let page: Page;

before(async () => {
  env = await startEnv();
  page = await newPage(env, undefined, { width: 1280, height: 1000 });
});

after(async () => {
  await env?.close();
});

const scenario = parseScenarioJson(readFileSync(new URL('../../src/scenario/examples/page-fault.json', import.meta.url), 'utf8'));
const phase = () => page.evaluate('globalThis.__romvisorScenario.phase()') as Promise<string>;
const guestConsole = () => page.evaluate('globalThis.__romvisorScenario.consoleText(0) ?? ""') as Promise<string>;
const num = (hex: string) => BigInt(/0x[0-9a-f]+/i.exec(hex)?.[0] ?? 'x');

/** The trap log's fault rows (not returns): sequence number and tval. */
const faults = () => page.locator('.teach-log-table tbody tr:not([data-return])').evaluateAll((rows) => rows.map((r) => {
  const cells = [...r.querySelectorAll('td')].map((td) => td.textContent ?? '');
  return { seq: (r as HTMLElement).dataset.walkable, cause: cells[1] ?? '', tval: cells[3] ?? '' };
}));

describe('step back over a page fault in the inspector', () => {
  const inspector = () => page.locator('.teach-inspector');
  const result = () => inspector().locator('.teach-result');
  const button = (name: string) => inspector().getByRole('button', { name, exact: true });
  let addr: bigint;

  test('the demo runs, and its store fault is in the trap log', async () => {
    await page.goto(encodeScenarioUrl(scenario, env.url));
    await page.click('[data-action="run-scenario"]');
    await waitFor('the demo to pass', async () => {
      const p = await phase();
      if (p === 'failed') throw new Error(`the demo failed: ${await page.locator('[data-scenario-status]').innerText()}`);
      return p === 'passed';
    }, 240_000);
    const text = await guestConsole();
    addr = BigInt(/mmap gave a \d+-byte page at (0x[0-9a-f]+)/.exec(text)?.[1] ?? 'x');
    await waitFor('the demo\'s store fault in the log', async () => (await faults()).some((f) => f.cause.includes('store page fault') && num(f.tval) === addr), 30_000);
  });

  test('◀ on its row goes back to just after the fault, and step back to before the store', async () => {
    const row = page.locator('.teach-log-table tbody tr:not([data-return])').filter({ hasText: 'store page fault' }).filter({ hasText: `0x${addr.toString(16)}` });
    await row.locator('[data-action="back-to-trap"]').click();
    await waitFor('the inspector at the fault', async () => /^Went back [\d,]+ instruction\(s\) to the last trap: store page fault/.test(await result().innerText()), 120_000);
    assert.match(await result().innerText(), new RegExp(`tval 0x${addr.toString(16)} → handler 0x[0-9a-f]+ \\(S\\)`));
    await waitFor('paused', async () => (await inspector().locator('.teach-status').innerText()).startsWith('paused ·'));
    assert.equal(await button('◀ Step back').isEnabled(), true, `step back offered: ${await button('◀ Step back').getAttribute('data-unavailable')}`);
    // The console is as it was at the fault: the demo's address printed, its count not yet.
    const atFault = await guestConsole();
    assert.match(atFault, /mmap gave a/);
    assert.doesNotMatch(atFault.slice(atFault.indexOf('mmap gave a')), /\(\+1\)/);
    const withFault = (await faults()).filter((f) => num(f.tval) === addr);
    assert.equal(withFault.length, 1, `the fault is the log's: ${JSON.stringify(await faults())} ${await result().innerText()}`);

    await button('◀ Step back').click();
    await waitFor('one instruction back', async () => /^Stepped back 1 instruction\(s\)/.test(await result().innerText()), 60_000);
    assert.match(await result().innerText(), /now at 0x[0-9a-f]+ \(U\)/, 'before the store, in U-mode');
    await waitFor('the fault gone from the log', async () => !(await faults()).some((f) => num(f.tval) === addr), 10_000);
  });

  test('Step runs the store again: the same fault, in the log again; Continue finishes the demo again', async () => {
    await button('Step').click();
    await waitFor('the fault again', async () => /^Stopped on a trap after 1 instruction\(s\): .* trapped: store page fault/.test(await result().innerText()), 30_000);
    assert.match(await result().innerText(), new RegExp(`tval 0x${addr.toString(16)}`));
    await waitFor('the fault back in the log', async () => (await faults()).some((f) => f.cause.includes('store page fault') && num(f.tval) === addr), 10_000);
    await page.locator('.vm-teach').first().screenshot({ path: `${repoRoot}test-results/step-back.png` }).catch(() => page.screenshot({ path: `${repoRoot}test-results/step-back.png` }));

    const before = await guestConsole();
    await button('Continue ▶').click();
    const again = await waitFor('the demo to finish again', async () => {
      const t = await guestConsole();
      return t.length > before.length && /\(\+1\)[\s\S]*# $/.test(t.trimEnd() + ' ') ? t : undefined;
    }, 120_000);
    assert.match(again, new RegExp(`page at 0x${addr.toString(16)}`));
  });
});
