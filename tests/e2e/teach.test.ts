// The teaching views in Chromium, on the demo page (teach-demo.html): Linux boots in a Web
// Worker while the timeline fills in; then the student pauses, asks where two addresses
// go, single-steps, continues, and the console still answers. Screenshots of each view go
// to test-results/teach-*.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { waitFor } from './harness.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const results = `${repo}test-results`;

interface TeachDebug {
  consoleText(): string;
  stages: string[];
  paused: boolean;
}


const debug = <T>(page: Page, f: (d: TeachDebug) => T) =>
  page.evaluate(`(${f.toString()})(globalThis.__teach)`) as Promise<T>;

/** The instruction count the inspector's status line shows ("… · 78,428,259 instructions"). */
async function statusInstructions(page: Page): Promise<bigint> {
  const s = await page.locator('.teach-inspector .teach-status').innerText();
  const m = /([\d,]+) instructions/.exec(s);
  assert.ok(m, `status shows an instruction count: "${s}"`);
  return BigInt(m[1].replace(/,/g, ''));
}

describe('teaching views in the browser', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    if (!existsSync(`${repo}build/wasm/core.wasm`)) execFileSync(process.execPath, ['wasm/build.mjs'], { cwd: repo, stdio: 'inherit' });
    mkdirSync(results, { recursive: true });
    server = await createServer({
      root: repo,
      configFile: `${repo}vite.config.ts`,
      logLevel: 'warn',
      clearScreen: false,
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    });
    await server.listen();
    const addr = server.httpServer!.address();
    if (!addr || typeof addr === 'string') throw new Error('vite did not report a port');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`http://127.0.0.1:${addr.port}/teach-demo.html`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the boot reach the shell on the timeline, every stage in order', async () => {
    await waitFor('the shell prompt', async () => (await debug(page, (d) => d?.consoleText() ?? '')).includes('~ # '), 90_000);
    await waitFor('the shell stage', async () => (await debug(page, (d) => d.stages)).includes('shell'));
    // The views poll a few times a second: wait for the chart to catch up.
    const rows = page.locator('.teach-timeline .tl-row.reached');
    await waitFor('six reached stages on the chart', async () => (await rows.count()) === 6);
    const order = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
    assert.deepEqual(order, ['power-on', 'firmware', 'kernel', 'paging', 'user', 'shell']);
    const chart = await page.locator('.teach-timeline').innerText();
    for (const label of ['Reset ROM', 'Firmware · OpenSBI', 'Linux kernel', 'Paging on', 'First user process', 'Shell prompt']) {
      assert.ok(chart.includes(label), `the chart names "${label}"`);
    }
    // Bars start left to right in boot order.
    const xs = await page.locator('.teach-timeline .tl-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('x'))));
    assert.equal(xs.length, 6);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i] >= xs[i - 1], `bar ${i} starts after bar ${i - 1}: ${xs}`);
    await page.locator('.teach-timeline').screenshot({ path: `${results}/teach-timeline.png` });
    await page.locator('.teach-traps').screenshot({ path: `${results}/teach-traps.png` });
    await page.getByRole('button', { name: 'host time' }).click();
    await page.locator('.teach-timeline').screenshot({ path: `${results}/teach-timeline-time.png` });
    await page.getByRole('button', { name: 'instructions' }).click();
    const traps = await page.locator('.teach-traps').innerText();
    assert.match(traps, /ecall from U/);
    assert.match(traps, /timer/);
  });

  it('pauses, and walks a kernel address to RAM and an unmapped user address to a fault', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitFor('the paused status', async () => (await page.locator('.teach-inspector .teach-status').innerText()).startsWith('paused ·'));
    const csrs = await page.locator('.teach-csrs').innerText();
    assert.match(csrs, /MODE=Sv39/);

    const form = page.locator('.teach-walk-form');
    await form.locator('input[name="va"]').fill('0xffffffff80000000');
    await form.locator('select[name="access"]').selectOption('fetch');
    await form.locator('select[name="priv"]').selectOption('S');
    await form.getByRole('button', { name: 'Walk' }).click();
    const pa = page.locator('.teach-walk .teach-pa');
    await pa.waitFor();
    assert.match(await pa.innerText(), /physical 0x80200000/);
    assert.match(await pa.innerText(), /RAM/);
    assert.ok((await page.locator('.teach-walk .teach-level').count()) >= 1);
    await page.locator('.teach-walk-card').screenshot({ path: `${results}/teach-walk-kernel.png` });

    await form.locator('input[name="va"]').fill('0x10');
    await form.locator('select[name="access"]').selectOption('load');
    await form.locator('select[name="priv"]').selectOption('U');
    await form.getByRole('button', { name: 'Walk' }).click();
    const fault = page.locator('.teach-walk .teach-fault');
    await fault.waitFor();
    assert.match(await fault.innerText(), /load page fault \(cause 13\)/i);
    await page.locator('.teach-walk-card').screenshot({ path: `${results}/teach-walk-fault.png` });
  });

  it('single-steps three instructions, then continues and the console still answers', async () => {
    const before = await statusInstructions(page);
    let stepped = 0n;
    for (let i = 0; i < 3; i++) {
      const previous = await page.locator('.teach-result').innerText();
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      const text = await waitFor('a step result', async () => {
        const t = await page.locator('.teach-result').innerText();
        return t !== previous || i > 0 ? t : undefined;
      });
      await waitFor('the buttons back', async () => page.getByRole('button', { name: 'Step', exact: true }).isEnabled());
      const now = await page.locator('.teach-result').innerText();
      assert.match(now, /^(Stepped: \S|Stopped on a trap)/, `step ${i}: ${text}`);
      if (now.startsWith('Stepped')) stepped++;
      else if (/after 1 instruction/.test(now)) stepped++;
    }
    assert.equal(await statusInstructions(page), before + stepped, 'the machine advanced by the instructions stepped');
    assert.ok(stepped >= 2, 'at most one interrupt was taken in between');
    assert.equal(await page.locator('.teach-code li.current').count(), 1);
    await page.locator('.teach-inspector').screenshot({ path: `${results}/teach-inspector.png` });

    await page.getByRole('button', { name: 'Step to trap' }).click();
    await waitFor('the trap stop', async () => /^Stopped on a trap/.test(await page.locator('.teach-result').innerText()));
    assert.match(await page.locator('.teach-result').innerText(), /→ handler 0x[0-9a-f]+ \((S|M)\)/);

    await page.getByRole('button', { name: 'Continue ▶' }).click();
    await waitFor('running again', async () => !(await debug(page, (d) => d.paused)));
    await page.locator('#console-input').fill('echo hello-$((6*7))');
    await page.locator('#console-input').press('Enter');
    await waitFor('the shell to answer', async () => (await debug(page, (d) => d.consoleText())).includes('hello-42'), 30_000);
    await page.screenshot({ path: `${results}/teach-demo.png`, fullPage: true });
  });

  it('stays readable at 400 px wide', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    await page.waitForTimeout(600);
    const width = await page.locator('.teach-timeline svg').evaluate((e) => e.getBoundingClientRect().width);
    assert.ok(width <= 400 && width > 300, `the chart fits: ${width}px`);
    await page.locator('.teach-timeline').screenshot({ path: `${results}/teach-timeline-400.png` });
    await page.locator('.teach-traps').screenshot({ path: `${results}/teach-traps-400.png` });
    assert.deepEqual(errors, [], 'no page errors');
  });
});
