/**
 * Hostile bytes and the small things a new user trips over, in Chromium: a file full of
 * escape sequences imported through the management console prints as `\x1b` text and
 * does nothing to the screen; a guest's OSC 8 link opens nothing and its OSC 0 title is
 * ignored; Start gives the console the keyboard; a stopped VM's uptime stops; "Keep my
 * data" says what the browser answered. Screenshots: test-results/safety-*.png.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { atPrompt, hvCommand, newPage, powerOn, shot, startEnv, vmState, waitFor, waitForConsole, waitForHvConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let context: BrowserContext;
let page: Page;
let scratch: string;
const dialogs: string[] = [];

before(async () => {
  env = await startEnv();
  context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  scratch = mkdtempSync(join(tmpdir(), 'romvisor-safety-'));
  page = await newPage(env, context);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await powerOn(page);
});

after(async () => {
  await context?.close();
  await env?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Clear screen, full reset, a title, a clipboard write, a C1 OSC and CSI, a hyperlink. */
const HOSTILE = Buffer.concat([
  Buffer.from('\x1b[2J\x1bc\x9d', 'latin1'), // the 8-byte cookie field: clear, reset, OSC
  Buffer.from('\x1b]0;PWNED\x07\x1b]52;c;cHduZWQ=\x07\x9b2J\x9d0;PWNED\x9c\x1b]8;;https://example.com/\x07click\x1b]8;;\x07\x1b[?1049h', 'latin1'),
]);

describe('text from outside reaches a terminal as text', () => {
  test('importing a file full of escape sequences prints them as \\x1b text; the screen is not touched', async () => {
    const file = join(scratch, 'evil.vhd');
    const body = Buffer.alloc(4096);
    for (let at = 0; at + HOSTILE.length <= body.length; at += 512) HOSTILE.copy(body, at);
    writeFileSync(file, body);
    const title = await page.title();
    const chooser = page.waitForEvent('filechooser');
    await hvCommand(page, 'import');
    await (await chooser).setFiles(file);
    const text = await waitForHvConsole(page, (t) => /error: .*VHD/.test(t), 20_000);
    assert.match(text, /cookie is "\\x1b\[2J\\x1bc\\x9d/, text);
    // Nothing took effect: the POST and the banner are still on screen (no clear, no reset,
    // no alternate screen), the title is the page's, no dialog was asked for.
    assert.match(text, /Booting hypervisor from flash/);
    assert.match(text, /management console\. Type help/);
    assert.equal(await page.title(), title);
    assert.deepEqual(dialogs, []);
    await hvCommand(page, 'list appliances');
    await waitForHvConsole(page, (t) => /list appliances[\s\S]*initramfs/.test(t));
    await page.locator('#hv-console').scrollIntoViewIfNeeded();
    await shot(page, 'safety-hostile-import');
  });

  test("Start gives the VM's console the keyboard; the guest's link, clipboard and title sequences do nothing", async () => {
    await page.click('[data-appliance="initramfs"] [data-action="new-vm"]');
    await page.waitForSelector('[data-vm="initramfs-1"]', { timeout: 60_000 });
    await page.click('[data-vm="initramfs-1"] [data-action="start"]');
    const focused = await page.evaluate(() => document.activeElement?.closest('[data-vm]')?.getAttribute('data-vm'));
    assert.equal(focused, 'initramfs-1', 'the keyboard is on the console right after Start');
    await vmState(page, 'initramfs-1', 'running');
    await waitForConsole(page, 'initramfs-1', atPrompt, 90_000);
    const title = await page.title();
    const pagesBefore = context.pages().length;
    // Typed with no click first: the keyboard is still the console's.
    await page.keyboard.type("printf '\\033]0;PWNED\\007\\033]52;c;cHduZWQ=\\007\\033]8;;https://example.com/\\007LINKHERE\\033]8;;\\007 done-%s\\n' $((20+22))\n");
    await waitForConsole(page, 'initramfs-1', (t) => t.includes('LINKHERE done-42'), 20_000);
    assert.equal(await page.title(), title, 'OSC 0 did not change the title');
    // Click the hyperlinked text: nothing opens, nothing asks.
    const box = await page.locator('[data-vm="initramfs-1"] .xterm-screen').boundingBox();
    const pos = await page.evaluate(() => {
      const card = document.querySelector('[data-vm="initramfs-1"]')!;
      const rows = [...card.querySelectorAll('.xterm-rows > div')];
      const i = rows.findIndex((r) => r.textContent?.includes('LINKHERE'));
      return { row: i, rows: rows.length, col: (rows[i]?.textContent ?? '').indexOf('LINKHERE') };
    });
    if (box && pos.row >= 0) {
      const cellH = box.height / pos.rows;
      const cellW = box.width / (await page.evaluate(() => (document.querySelector('[data-vm="initramfs-1"] .xterm-rows > div')?.textContent ?? '').length || 80));
      await page.mouse.move(box.x + (pos.col + 3) * cellW, box.y + (pos.row + 0.5) * cellH);
      await page.mouse.click(box.x + (pos.col + 3) * cellW, box.y + (pos.row + 0.5) * cellH);
      await page.waitForTimeout(500);
    }
    assert.equal(context.pages().length, pagesBefore, 'no window was opened');
    assert.deepEqual(dialogs, [], 'no dialog was opened');
    await shot(page, 'safety-guest-sequences');
  });

  test("a stopped VM's uptime stops", async () => {
    await page.click('[data-vm="initramfs-1"] [data-action="stop"]');
    await vmState(page, 'initramfs-1', 'stopped');
    const readout = page.locator('[data-vm="initramfs-1"] .readout');
    const first = await readout.innerText();
    await page.waitForTimeout(2500);
    assert.equal(await readout.innerText(), first, 'the readout does not count on');
    assert.match(first, /ran \d+:\d\d/);
    await hvCommand(page, 'info initramfs-1');
    const text = await waitForHvConsole(page, (t) => /last run lasted \d+:\d\d/.test(t));
    assert.doesNotMatch(text.slice(text.lastIndexOf('info initramfs-1')), /error:|MIPS, up/);
  });

  test('"Keep my data" says whether the browser granted it, and why not', async () => {
    await page.click('[data-action="persist"]');
    const result = page.locator('[data-persist-result]:not([hidden])');
    await result.waitFor({ timeout: 10_000 });
    const kind = await result.getAttribute('data-persist-result');
    const text = await result.innerText();
    if (kind === 'granted') assert.match(text, /^Granted: /);
    else assert.match(text, /^Not granted: the browser decides/);
    await page.locator('.storage-panel').scrollIntoViewIfNeeded();
    await shot(page, 'safety-persist');
    await waitFor('no error toast', async () => (await page.locator('.toast.error').count()) === 0, 2000);
  });
});
