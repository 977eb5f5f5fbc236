/**
 * The teaching panels in the main page: a student makes a `base` VM, powers it on and
 * presses Watch on its card. The boot timeline reaches the shell with every stage in order;
 * they pause, ask where a kernel address and an unmapped one go, single-step three
 * instructions, continue, and the console still answers. A scenario's `view` opens the
 * panels it lists. Screenshots: test-results/teach-page-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { decodeScenarioUrl, encodeScenarioUrl } from '../../src/scenario/index.ts';
import { consoleText, newPage, powerOn, repoRoot, startEnv, typeInVm, waitForConsole, type E2eEnv, waitFor } from './harness.ts';

const results = `${repoRoot}test-results`;
const VM = 'base-1';


/** The instruction count the inspector's status line shows ("paused · … · 78,428,259 instructions"). */
async function statusInstructions(inspector: Locator): Promise<bigint> {
  const s = await inspector.locator('.teach-status').innerText();
  const m = /([\d,]+) instructions/.exec(s);
  assert.ok(m, `status shows an instruction count: "${s}"`);
  return BigInt(m[1]!.replace(/,/g, ''));
}

let env: E2eEnv;
let page: Page;
const errors: string[] = [];

before(async () => {
  env = await startEnv();
  page = await newPage(env, undefined, { width: 1280, height: 900 });
  page.on('pageerror', (e) => errors.push(e.message));
});

after(async () => {
  await env?.close();
});

describe('teaching panels in the main page', () => {
  const card = () => page.locator(`[data-vm="${VM}"]`);
  const inspector = () => card().locator('.teach-inspector');

  test('Watch shows the boot reach the shell on the timeline, every stage in order', async () => {
    await powerOn(page);
    await page.click('[data-appliance="base"] [data-action="new-vm"]');
    await page.waitForSelector(`[data-vm="${VM}"]`, { timeout: 60_000 });
    await page.click(`[data-vm="${VM}"] [data-action="start"]`);
    await card().locator('[data-action="watch"]').click();
    assert.equal(await card().locator('[data-action="watch"]').getAttribute('aria-pressed'), 'true');
    await waitForConsole(page, VM, (t) => /~ # $/.test(t.trimEnd() + ' '), 90_000);
    const rows = card().locator('.teach-timeline .tl-row.reached');
    await waitFor('six reached stages on the chart', async () => (await rows.count()) === 6);
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))), ['power-on', 'firmware', 'kernel', 'paging', 'user', 'shell']);
    const xs = await card().locator('.teach-timeline .tl-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('x'))));
    assert.equal(xs.length, 6);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! >= xs[i - 1]!, `bar ${i} starts after bar ${i - 1}: ${xs}`);
    const chart = await card().locator('.teach-timeline').innerText();
    for (const label of ['Reset ROM', 'Firmware · OpenSBI', 'Linux kernel', 'Paging on', 'First user process', 'Shell prompt']) {
      assert.ok(chart.includes(label), `the chart names "${label}"`);
    }
    await card().getByRole('button', { name: 'host time' }).click();
    await card().locator('.teach-timeline').screenshot({ path: `${results}/teach-page-timeline-time.png` });
    await card().getByRole('button', { name: 'instructions' }).click();
    await waitFor('the trap counters', async () => /ecall from U/.test(await card().locator('.teach-traps').innerText()));
    assert.match(await card().locator('.teach-traps').innerText(), /timer/);
    await card().locator('.teach-timeline').screenshot({ path: `${results}/teach-page-timeline.png` });
    await card().locator('.teach-traps').screenshot({ path: `${results}/teach-page-traps.png` });
  });

  test('pauses, and walks a kernel address to RAM and an unmapped user address to a fault', async () => {
    await inspector().getByRole('button', { name: 'Pause' }).click();
    await waitFor('the paused status', async () => (await inspector().locator('.teach-status').innerText()).startsWith('paused ·'));
    await page.waitForSelector(`[data-vm="${VM}"][data-state="paused"]`);
    assert.match(await card().locator('.teach-csrs').innerText(), /MODE=Sv39/);

    const form = card().locator('.teach-walk-form');
    await form.locator('input[name="va"]').fill('0xffffffff80000000');
    await form.locator('select[name="access"]').selectOption('fetch');
    await form.locator('select[name="priv"]').selectOption('S');
    await form.getByRole('button', { name: 'Walk' }).click();
    const pa = card().locator('.teach-walk .teach-pa');
    await pa.waitFor();
    assert.match(await pa.innerText(), /physical 0x80200000/);
    assert.match(await pa.innerText(), /RAM/);
    assert.ok((await card().locator('.teach-walk .teach-level').count()) >= 1, 'the walk shows its page-table levels');
    await card().locator('.teach-walk-card').screenshot({ path: `${results}/teach-page-walk-kernel.png` });

    await form.locator('input[name="va"]').fill('0x10');
    await form.locator('select[name="access"]').selectOption('load');
    await form.locator('select[name="priv"]').selectOption('U');
    await form.getByRole('button', { name: 'Walk' }).click();
    const fault = card().locator('.teach-walk .teach-fault');
    await fault.waitFor();
    assert.match(await fault.innerText(), /load page fault \(cause 13\)/i);
    await card().locator('.teach-walk-card').screenshot({ path: `${results}/teach-page-walk-fault.png` });
  });

  test('single-steps three instructions, continues, and the console still answers', async () => {
    const before = await statusInstructions(inspector());
    const result = inspector().locator('.teach-result');
    const stepButton = inspector().getByRole('button', { name: 'Step', exact: true });
    let stepped = 0n;
    for (let i = 0; i < 3; i++) {
      const previous = await result.innerText();
      await stepButton.click();
      await waitFor('a step result', async () => (await result.innerText()) !== previous || i > 0);
      await waitFor('the buttons back', async () => stepButton.isEnabled());
      const now = await result.innerText();
      assert.match(now, /^(Stepped: \S|Stopped on a trap)/, `step ${i}: ${now}`);
      if (now.startsWith('Stepped') || /after 1 instruction/.test(now)) stepped++;
    }
    assert.equal(await statusInstructions(inspector()), before + stepped, 'the machine advanced by the instructions stepped');
    assert.ok(stepped >= 2, 'at most one interrupt was taken in between');
    assert.equal(await inspector().locator('.teach-code li.current').count(), 1);
    await inspector().screenshot({ path: `${results}/teach-page-inspector.png` });

    await inspector().getByRole('button', { name: 'Step to trap' }).click();
    await waitFor('the trap stop', async () => /^Stopped on a trap/.test(await result.innerText()));
    assert.match(await result.innerText(), /→ handler 0x[0-9a-f]+ \((S|M)\)/);

    await inspector().getByRole('button', { name: 'Continue ▶' }).click();
    await page.waitForSelector(`[data-vm="${VM}"][data-state="running"]`);
    await typeInVm(page, VM, 'echo hello-$((6*7))\n');
    await waitForConsole(page, VM, (t) => t.includes('hello-42'), 30_000);
    await card().screenshot({ path: `${results}/teach-page-card.png` });
    assert.match(await consoleText(page, VM), /hello-42/);

    // Share: the link of what runs, its length, and a warning once the disk differs from the appliance.
    await typeInVm(page, VM, 'echo kept > /root/note && sync && echo synced-$((6*7))\n');
    await waitForConsole(page, VM, (t) => t.includes('synced-42'), 30_000);
    await card().locator('details.menu summary').click();
    await card().locator('[data-action="share"]').click();
    const dialog = page.locator('[data-share-dialog]');
    await dialog.waitFor();
    const url = await dialog.locator('[data-share-url]').inputValue();
    assert.equal(await dialog.locator('[data-share-length]').innerText(), `${url.length} characters`);
    assert.deepEqual(decodeScenarioUrl(url).guests, [{ appliance: { builtin: 'base' }, memoryMiB: 64, cmdline: '', time: 'realtime' }]);
    await waitFor('the modified-disk warning', async () => {
      await dialog.getByRole('button', { name: 'Close' }).click();
      await card().locator('details.menu summary').click();
      await card().locator('[data-action="share"]').click();
      return /disk is modified/.test((await dialog.locator('.share-warnings').innerText().catch(() => '')));
    }, 20_000);
    await dialog.screenshot({ path: `${results}/teach-page-share.png` });
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('the panels stay readable at 400 px wide', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    try {
      // The chart is redrawn at its new width by a ResizeObserver and the next poll; on a
      // loaded machine that can take more than a frame or two, so wait for it (10 s at most).
      const chartWidth = () => card().locator('.teach-timeline svg').evaluate((e) => e.getBoundingClientRect().width);
      let width = 0;
      for (const end = Date.now() + 10_000; Date.now() < end; await page.waitForTimeout(100)) {
        width = await chartWidth();
        if (width <= 400 && width > 300) break;
      }
      assert.ok(width <= 400 && width > 300, `the chart fits: ${width}px`);
      await card().locator('.teach-timeline').screenshot({ path: `${results}/teach-page-timeline-400.png` });
      await card().locator('.teach-traps').screenshot({ path: `${results}/teach-page-traps-400.png` });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test("a scenario's view opens the panels it lists", async () => {
    const link = encodeScenarioUrl(
      {
        version: 1,
        title: 'Traps only',
        view: ['console', 'traps'],
        guests: [{ appliance: { builtin: 'base' }, memoryMiB: 128, cmdline: '', time: 'deterministic', script: [{ expect: '# ', timeout: 300 }] }],
      },
      env.url,
    );
    await page.goto(link);
    await page.click('[data-action="run-scenario"]');
    const guest = page.locator('[data-scenario-guest="0"]');
    await guest.locator('.teach-traps').waitFor({ timeout: 60_000 });
    assert.equal(await guest.locator('.teach-timeline').count(), 0, 'no timeline: the view did not ask for it');
    assert.equal(await guest.locator('.teach-inspector').count(), 0, 'no inspector: the view did not ask for it');
    assert.deepEqual(errors, [], 'no page errors');
  });
});
