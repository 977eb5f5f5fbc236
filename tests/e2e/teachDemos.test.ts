/**
 * The two trap demos, run from their example scenarios in Chromium the way a student opens
 * the README's links: the system-call demo's trap log (preset to U-mode ecalls and their
 * returns) shows the shell's write() and the sret that returns from it; the page-fault
 * demo's log has the demo's store page fault, and clicking it shows the page walk of stval
 * at the fault (V = 0) and when the kernel returns (a page in RAM). Screenshots:
 * test-results/demo-system-call.png, test-results/demo-page-fault.png.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { encodeScenarioUrl, parseScenarioJson } from '../../src/scenario/index.ts';
import { newPage, repoRoot, startEnv, waitFor, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let context: BrowserContext;

before(async () => {
  env = await startEnv();
  context = await env.browser.newContext({ viewport: { width: 1280, height: 1000 } });
});

after(async () => {
  await context?.close();
  await env?.close();
});

const example = (name: string) => parseScenarioJson(readFileSync(new URL(`../../src/scenario/examples/${name}`, import.meta.url), 'utf8'));
const phase = (page: Page) => page.evaluate('globalThis.__romvisorScenario.phase()') as Promise<string>;
const guestConsole = (page: Page) => page.evaluate('globalThis.__romvisorScenario.consoleText(0) ?? ""') as Promise<string>;

async function runDemo(name: string): Promise<Page> {
  const link = encodeScenarioUrl(example(name), env.url);
  const page = await newPage(env, context);
  await page.goto(link);
  await page.locator('[data-action="run-scenario"]').waitFor();
  await page.click('[data-action="run-scenario"]');
  await waitFor(`${name} to pass`, async () => {
    const p = await phase(page);
    if (p === 'failed') throw new Error(`${name} failed: ${await page.locator('[data-scenario-status]').innerText()}`);
    return p === 'passed';
  }, 240_000);
  return page;
}

/** The trap log's rows as the page shows them. */
const logRows = (page: Page) => page.locator('.teach-log-table tbody tr').evaluateAll((rows) => rows.map((r) => {
  const cells = [...r.querySelectorAll('td')].map((td) => td.textContent ?? '');
  const el = r as HTMLElement;
  return { from: el.dataset.from, ret: el.dataset.return, walkable: el.dataset.walkable, seq: cells[0], cause: cells[1], pc: cells[2], tval: cells[3], handler: cells[4] };
}));

const num = (hex: string) => BigInt(hex.replace(/[^0-9a-fx]/gi, '').replace(/^.*?0x/, '0x'));

describe('the trap demos show what their notes promise', () => {
  test('system call: the shell\'s write() from U-mode and the sret that returns from it', async () => {
    const page = await runDemo('system-call.json');
    // The chips show the preset filter.
    const pressed = await page.locator('.teach-trap-filter [aria-pressed="true"]').evaluateAll((b) => b.map((x) => (x as HTMLElement).dataset.trapFilter));
    assert.deepEqual(pressed.sort(), ['from-U', 'hide-timer', 'kind-syscall', 'returns']);
    const rows = await waitFor('the write and its return in the log', async () => {
      const r = await logRows(page);
      // The shell echoes each typed key with a write of 1 byte; the builtin's write of "hello\n" returns 6.
      const i = r.findIndex((x, j) => x.cause.includes('ecall from U') && x.cause.includes('write') && r[j + 1]?.ret === 'U' && r[j + 1]?.tval === 'a0=6');
      return i >= 0 ? { r, i } : undefined;
    }, 30_000);
    const { r, i } = rows;
    assert.ok(r.every((x) => x.from === 'U' || x.ret === 'U'), 'only U-mode traps and returns to U');
    assert.ok(r.filter((x) => !x.ret).every((x) => x.cause.startsWith('ecall from U')), 'only system calls');
    const write = r[i];
    const ret = r[i + 1];
    assert.match(write.handler, /S$/, 'handled by the kernel in S-mode');
    assert.match(ret.cause, /sret to U/);
    assert.equal(ret.tval, 'a0=6', 'write() returned 6: "hello\\n"');
    assert.equal(num(ret.handler.replace(/U$/, '')), num(write.pc) + 4n, 'sret resumes after the ecall');
    assert.match(await guestConsole(page), /\nhello\r?\n/);
    // Scrolled so the write and its return are in view, above the counters' flood.
    await page.locator('.teach-log-table tbody tr').nth(i).scrollIntoViewIfNeeded();
    await page.locator('.vm-teach-traps').screenshot({ path: `${repoRoot}test-results/demo-system-call.png` });
    await page.close();
  });

  test('page fault: the demo\'s store fault, with the walk of stval before (V = 0) and after (a page in RAM)', async () => {
    const page = await runDemo('page-fault.json');
    const text = await guestConsole(page);
    const addr = /mmap gave a \d+-byte page at (0x[0-9a-f]+)/.exec(text)?.[1];
    assert.ok(addr, `the demo prints its page's address: ${text.slice(-400)}`);
    assert.match(text, /\(\+1\)/);
    const r = await waitFor('the demo\'s store fault in the log', async () => {
      const rows = await logRows(page);
      return rows.some((x) => x.cause.includes('store page fault') && num(x.tval) === BigInt(addr)) ? rows : undefined;
    }, 30_000);
    assert.ok(r.every((x) => x.from === 'U' || x.ret === 'U'));
    const fault = r.find((x) => x.cause.includes('store page fault') && num(x.tval) === BigInt(addr))!;
    assert.ok(fault.walkable);
    await page.click(`.teach-log-table tr[data-walkable="${fault.walkable}"]`);
    const walks = page.locator('.teach-walks');
    await walks.waitFor();
    assert.match((await walks.locator('h3').textContent()) ?? '', new RegExp(`stval ${addr}`));
    const before = walks.locator('[data-walk="before"]');
    const afterBox = walks.locator('[data-walk="after"]');
    assert.equal(await before.getAttribute('data-result'), 'fault');
    assert.match(await before.innerText(), /store\/AMO page fault \(cause 15.*V = 0/s);
    assert.equal(await afterBox.getAttribute('data-result'), 'mapped');
    assert.match(await afterBox.innerText(), /→ pa 0x[0-9a-f]+ in a 4 KiB page/);
    await walks.scrollIntoViewIfNeeded();
    await page.locator('.vm-teach-traps').screenshot({ path: `${repoRoot}test-results/demo-page-fault.png` });
    await page.close();
  });
});
