/**
 * The guest's console knows the page terminal's size (virtio-console, hvc0) in Chromium:
 * a base VM's `stty size` is the panel's rows and columns (a line of exactly that many
 * characters fills one terminal row), a narrower page gives a narrower guest console at
 * once (the resize reaches the running guest), the terminal then shows its newest line,
 * and TERM is what xterm.js emulates; the same for the BusyBox RAM appliance. Screenshots: test-results/console-size-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { atPrompt, consoleText, newPage, newVmAtShell, powerOn, shot, startEnv, typeInVm, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let page: Page;

before(async () => {
  env = await startEnv();
  page = await newPage(env);
});

after(async () => {
  await env?.close();
});

/** Rows and columns as the VM card's xterm.js shows them (rows: its row elements). */
async function panelRows(vm: string): Promise<number> {
  return page.locator(`[data-vm="${vm}"] .xterm-rows > div`).count();
}

let probe = 0;
/** Runs `stty size` in the guest and returns rows and columns. */
async function sttySize(vm: string): Promise<{ rows: number; cols: number }> {
  const tag = `sz${++probe}`;
  await typeInVm(page, vm, `echo ${tag}=$(stty size 2>&1)=\n`);
  const text = await waitForConsole(page, vm, (t) => new RegExp(`\\n${tag}=\\d+ \\d+=`).test(t) && atPrompt(t), 30_000);
  const m = new RegExp(`\\n${tag}=(\\d+) (\\d+)=`).exec(text)!;
  return { rows: Number(m[1]), cols: Number(m[2]) };
}

/** A line of exactly `cols` x's takes one terminal row, and the prompt starts the next. */
async function fillsOneRow(vm: string, cols: number): Promise<void> {
  const tag = `w${++probe}`;
  await typeInVm(page, vm, `printf '%0${cols}d\\n' 0 | tr 0 x; echo ${tag}\n`);
  const text = await waitForConsole(page, vm, (t) => t.includes(`\n${tag}\n`) && atPrompt(t), 30_000);
  const lines = text.split('\n');
  const at = lines.lastIndexOf(tag);
  assert.equal(lines[at - 1], 'x'.repeat(cols), `the line before "${tag}" should be ${cols} x's, one terminal row:\n${lines.slice(at - 3, at + 1).join('\n')}`);
}

describe('the guest console follows the page terminal (virtio-console)', () => {
  test('stty size is the panel, follows a resize, and TERM is xterm-256color', async () => {
    await powerOn(page);
    const vm = await newVmAtShell(page, 'base');
    const cols0 = await page.evaluate((name) => {
      const el = document.querySelector(`[data-vm="${name}"] .xterm-screen`) as HTMLElement | null;
      return el?.clientWidth ?? 0;
    }, vm);
    assert.ok(cols0 > 0, 'the terminal is laid out');

    const first = await sttySize(vm);
    assert.equal(first.rows, await panelRows(vm), 'rows: what xterm.js shows');
    assert.ok(first.cols > 20, `columns ${first.cols}`);
    await fillsOneRow(vm, first.cols);

    await typeInVm(page, vm, 'echo term=$TERM\n');
    await waitForConsole(page, vm, (t) => /\nterm=xterm-256color\n/.test(t), 20_000);
    await shot(page, 'console-size-wide');

    // A narrower page: the card, its terminal and the guest's console shrink together.
    await page.setViewportSize({ width: 560, height: 800 });
    const second = await (async () => {
      for (let i = 0; i < 50; i++) {
        const s = await sttySize(vm);
        if (s.cols < first.cols) return s;
        await page.waitForTimeout(200);
      }
      throw new Error(`stty size stayed ${first.rows} ${first.cols} after the page narrowed`);
    })();
    assert.equal(second.rows, await panelRows(vm));
    await fillsOneRow(vm, second.cols);

    // After the resize the terminal shows its newest line: the viewport is at the bottom.
    const atBottom = await page.evaluate((name) => {
      const v = document.querySelector(`[data-vm="${name}"] .xterm-viewport`) as HTMLElement | null;
      return v ? v.scrollTop + v.clientHeight >= v.scrollHeight - 2 : false;
    }, vm);
    assert.ok(atBottom, 'the console is scrolled to its newest line');
    assert.ok(atPrompt(await consoleText(page, vm)));
    await shot(page, 'console-size-narrow');
  });

  test('the BusyBox RAM appliance too: its size is the panel\'s and TERM is xterm-256color', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const vm = await newVmAtShell(page, 'initramfs');
    const size = await sttySize(vm);
    assert.equal(size.rows, await panelRows(vm));
    await fillsOneRow(vm, size.cols);
    await typeInVm(page, vm, 'echo term=$TERM\n');
    await waitForConsole(page, vm, (t) => /\nterm=xterm-256color\n/.test(t), 20_000);
  });
});
