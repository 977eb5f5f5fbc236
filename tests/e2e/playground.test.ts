/**
 * The playground in real Chromium, the way a user meets it: power the server on, make
 * VMs from the catalog, type into their consoles, reload, import and export disks, and
 * drive the same things from the hypervisor console. Screenshots of each step land in
 * test-results/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { atPrompt, consoleText, hvCommand, hvConsoleText, newPage, powerOn, shot, startAndWaitForShell, startEnv, typeInVm, vmState, waitForConsole, waitForHvConsole, type E2eEnv } from './harness.ts';


let env: E2eEnv;
let context: BrowserContext;
let page: Page;
let scratch: string;

before(async () => {
  env = await startEnv();
  context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  scratch = mkdtempSync(join(tmpdir(), 'romvisor-e2e-'));
});

after(async () => {
  await context?.close();
  await env?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function storedImageIds(p: Page): Promise<string[]> {
  return p.evaluate(async () => {
    const hv = (globalThis as any).__romvisor.hypervisor();
    return ((await hv.store.images()) as { id: string }[]).map((r) => r.id).sort();
  });
}

async function vmCount(p: Page): Promise<number> {
  return p.evaluate(() => (globalThis as any).__romvisor.hypervisor().vms().length);
}

describe('the playground page', () => {
  test('power on plays the POST and lands in the management console', async () => {
    page = await newPage(env, context);
    await shot(page, '01-powered-off');
    await page.click('#power');
    await waitForHvConsole(page, (t) => t.includes('Host memory'));
    await shot(page, '02-post');
    const text = await waitForHvConsole(page, (t) => t.includes('romvisor>'), 20_000);
    // Only figures a user can check: the browser's own device-memory figure (or none).
    const deviceMemory = await page.evaluate(() => (navigator as Navigator & { deviceMemory?: number }).deviceMemory);
    assert.ok(text.includes(deviceMemory ? `Host memory: about ${deviceMemory} GiB (the browser` : 'Host memory: not reported by this browser'), text);
    assert.doesNotMatch(text, /Memory test/);
    assert.match(text, /found "romvisor [\d.]+"/);
    assert.match(text, /Appliances in the store: \d+/);
    assert.match(text, /initramfs/);
    assert.match(text, /Guest consoles: shared-memory rings/);
    await page.waitForSelector('[data-appliance="initramfs"]');
    await shot(page, '03-hypervisor-console');
  });

  test('a disk VM keeps a file across a reload', async () => {
    await page.click('[data-appliance="base"] [data-action="new-vm"]');
    await page.waitForSelector('[data-vm="base-1"]', { timeout: 60_000 });
    await startAndWaitForShell(page, 'base-1');
    await typeInVm(page, 'base-1', 'echo kept > /root/f && sync && echo sync-$((40+2))\n');
    await waitForConsole(page, 'base-1', (t) => t.includes('sync-42'), 20_000);
    await shot(page, '04-disk-vm-wrote-file');

    // A second tab sees the disk in use and cannot start it.
    const other = await newPage(env, context);
    await waitForHvConsole(other, (t) => t.includes('romvisor>'), 20_000);
    await vmState(other, 'base-1', 'in-use', 10_000);
    await shot(other, '05-second-tab-sees-in-use');
    await other.close();

    await page.click('[data-vm="base-1"] [data-action="stop"]');
    await vmState(page, 'base-1', 'stopped');
    // One source of truth for the disk's state: the card and the catalog agree.
    await page.waitForSelector('[data-vm="base-1"] .vm-meta:has-text("disk modified")', { timeout: 15_000 });
    await page.waitForSelector('[data-appliance="base"] .disk-states .chip.modified:has-text("base-1: modified")', { timeout: 15_000 });
    await page.reload();
    // The server was left on, so it powers on again by itself.
    await waitForHvConsole(page, (t) => t.includes('romvisor>'), 20_000);
    await page.waitForSelector('[data-vm="base-1"][data-state="stopped"]');
    await startAndWaitForShell(page, 'base-1');
    await typeInVm(page, 'base-1', 'cat /root/f\n');
    const text = await waitForConsole(page, 'base-1', (t) => /cat \/root\/f\s*\n\s*kept/.test(t), 20_000);
    assert.match(text, /kept/);
    await shot(page, '06-disk-vm-after-reload');
    await page.click('[data-vm="base-1"] [data-action="stop"]');
    await vmState(page, 'base-1', 'stopped');
  });

  test('four VMs run at once, each in its own worker, each answering its own console', async () => {
    await hvCommand(page, 'new initramfs alpha');
    await hvCommand(page, 'new initramfs bravo');
    await page.waitForSelector('[data-vm="bravo"]');
    await hvCommand(page, 'new base charlie');
    await page.waitForSelector('[data-vm="charlie"]');
    const names = ['alpha', 'bravo', 'charlie', 'base-1'];
    for (const vm of names) await page.click(`[data-vm="${vm}"] [data-action="start"]`);
    for (const vm of names) {
      await vmState(page, vm, 'running');
      await waitForConsole(page, vm, atPrompt, 90_000);
    }
    assert.ok(page.workers().length >= 4, `expected at least 4 workers, saw ${page.workers().length}`);
    await typeInVm(page, 'alpha', 'echo from-$((1+1))-alpha\n');
    await typeInVm(page, 'bravo', 'echo from-$((2+2))-bravo\n');
    const a = await waitForConsole(page, 'alpha', (t) => t.includes('from-2-alpha'));
    const b = await waitForConsole(page, 'bravo', (t) => t.includes('from-4-bravo'));
    assert.ok(!a.includes('bravo'), 'alpha saw bravo output');
    assert.ok(!b.includes('alpha'), 'bravo saw alpha output');
    // A phone keyboard sends input events, not keys: text, a backspace, Enter.
    await page.evaluate(() => {
      const ta = document.querySelector('[data-vm="alpha"] textarea') as HTMLTextAreaElement;
      ta.focus();
      const send = (type: string, inputType: string, data?: string) => ta.dispatchEvent(new InputEvent(type, { inputType, data, bubbles: true, cancelable: true }));
      send('input', 'insertText', 'echo phonx');
      send('beforeinput', 'deleteContentBackward');
      send('input', 'insertText', 'e-typed');
      send('beforeinput', 'insertLineBreak');
    });
    await waitForConsole(page, 'alpha', (t) => /\nphone-typed/.test(t));
    // Ctrl-C reaches the guest: interrupt a sleep.
    await typeInVm(page, 'charlie', 'sleep 30\n');
    await page.waitForTimeout(300);
    await page.keyboard.press('Control+C');
    await typeInVm(page, 'charlie', 'echo after-ctrl-c\n');
    await waitForConsole(page, 'charlie', (t) => t.includes('\nafter-ctrl-c'), 10_000);
    await page.waitForTimeout(1200); // a MIPS / uptime readout or two
    await shot(page, '07-four-vms', true);
    const mips = await page.$$eval('[data-metric="uptime"]', (els) => els.map((e) => e.textContent));
    assert.ok(mips.filter((m) => m && m !== '—').length >= 4, `uptime readouts: ${mips.join(', ')}`);
    for (const vm of names) await page.click(`[data-vm="${vm}"] [data-action="stop"]`);
    for (const vm of names) await vmState(page, vm, 'stopped');
  });

  test('a crashed guest shows why and the others run on', async () => {
    // init exits at once: the kernel panics ("Attempted to kill init!").
    await hvCommand(page, 'new initramfs crashy 64 rdinit=/bin/false');
    await page.waitForSelector('[data-vm="crashy"]');
    await page.click('[data-vm="alpha"] [data-action="start"]');
    await page.click('[data-vm="crashy"] [data-action="start"]');
    await vmState(page, 'crashy', 'crashed', 60_000);
    const banner = (await page.textContent('[data-vm="crashy"] .vm-banner')) ?? '';
    assert.match(banner, /Kernel panic - not syncing: Attempted to kill init!/);
    assert.match(banner, /pc 0x[0-9a-f]+ in [USM]-mode after [\d,]+ instructions; last trap: (exception|interrupt) \d+ at 0x[0-9a-f]+/);
    await waitForConsole(page, 'alpha', atPrompt, 60_000);
    await typeInVm(page, 'alpha', 'echo still-$((3*3))-here\n');
    await waitForConsole(page, 'alpha', (t) => t.includes('still-9-here'));
    await page.locator('[data-vm="crashy"]').scrollIntoViewIfNeeded();
    await shot(page, '08-crashed-guest');
    await page.click('[data-vm="alpha"] [data-action="stop"]');
    await vmState(page, 'alpha', 'stopped');
  });

  test('a qemu-img VHD is imported; a corrupt one is refused and changes nothing', async () => {
    const good = join(scratch, 'qemu-made.vhd');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', good, '32M']);
    const bad = join(scratch, 'corrupt.vhd');
    const bytes = readFileSync(good);
    bytes.write('cxsparse', bytes.length - 512, 'latin1'); // spoil the footer cookie
    bytes.write('cxsparse', 0, 'latin1');
    writeFileSync(bad, bytes);

    const before = await storedImageIds(page);
    const chooser = page.waitForEvent('filechooser');
    await page.click('[data-action="import"]');
    await (await chooser).setFiles(good);
    await page.waitForSelector('[data-appliance="qemu-made.vhd"]', { timeout: 20_000 });
    const afterGood = await storedImageIds(page);
    assert.equal(afterGood.length, before.length + 1);
    // A blank disk has nothing to boot: the built-in BusyBox boots with it as /dev/vda.
    await page.click('[data-appliance="qemu-made.vhd"] [data-action="new-vm"]');
    await page.waitForSelector('[data-vm="qemu-made-vhd-1"]');
    await startAndWaitForShell(page, 'qemu-made-vhd-1');
    await typeInVm(page, 'qemu-made-vhd-1', 'ls /dev/vda && echo has-$((0+1))-vda\n');
    await waitForConsole(page, 'qemu-made-vhd-1', (t) => t.includes('has-1-vda'));
    await shot(page, '09-imported-vhd');
    await page.click('[data-vm="qemu-made-vhd-1"] [data-action="stop"]');
    await vmState(page, 'qemu-made-vhd-1', 'stopped');

    // The corrupt one arrives by drag and drop.
    const beforeCorrupt = await storedImageIds(page);
    const data = [...readFileSync(bad)];
    await page.evaluate((arr) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(arr)], 'corrupt.vhd'));
      const zone = document.querySelector('[data-dropzone]')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, data);
    const err = await page.waitForSelector('.import-error:not([hidden])');
    const message = (await err.textContent()) ?? '';
    assert.match(message, /VhdError \((bad-cookie|truncated|bad-checksum)\)/);
    assert.match(message, /cxsparse|conectix/);
    assert.deepEqual(await storedImageIds(page), beforeCorrupt, 'the corrupt import changed the store');
    await err.scrollIntoViewIfNeeded();
    await shot(page, '10-corrupt-vhd-refused');
  });

  test('hypervisor console commands do what the buttons do', async () => {
    await hvCommand(page, 'list appliances');
    await waitForHvConsole(page, (t) => /sqlite/.test(t) && /qemu-made\.vhd/.test(t));
    const n = await vmCount(page);
    await hvCommand(page, 'new initramfs delta 96');
    await page.waitForSelector('[data-vm="delta"]');
    assert.equal(await vmCount(page), n + 1);
    await hvCommand(page, 'start delta');
    await vmState(page, 'delta', 'running');
    await waitForConsole(page, 'delta', atPrompt, 60_000);
    await hvCommand(page, 'pause delta');
    await vmState(page, 'delta', 'paused');
    await hvCommand(page, 'resume delta');
    await vmState(page, 'delta', 'running');
    await hvCommand(page, 'list vms');
    await waitForHvConsole(page, (t) => /delta\s+running\s+96 MiB/.test(t));
    await hvCommand(page, 'info delta');
    await waitForHvConsole(page, (t) => /pc 0x[0-9a-f]+ \([USM]-mode\)/.test(t));
    await hvCommand(page, 'reset delta');
    await waitForConsole(page, 'delta', (t) => t.includes('[romvisor] reset'));
    await hvCommand(page, 'stop delta');
    await vmState(page, 'delta', 'stopped');

    // Export a disk VM's disk as a VHD that qemu-img reads back with the right size.
    const download = page.waitForEvent('download');
    await hvCommand(page, 'export base-1');
    const file = join(scratch, 'exported.vhd');
    await (await download).saveAs(file);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-f', 'vpc', file], { encoding: 'utf8' }));
    assert.equal(info['virtual-size'], 75497472);

    // Reset the disk to base (confirmed in the console), then the file is gone.
    await hvCommand(page, 'reset-disk base-1');
    await waitForHvConsole(page, (t) => t.includes('[y/N]'));
    await page.keyboard.type('y');
    await page.keyboard.press('Enter');
    await waitForHvConsole(page, (t) => t.includes('disk is pristine again'));
    await hvCommand(page, 'storage');
    await waitForHvConsole(page, (t) => /used of .*\(\d+(\.\d+)?%\)/.test(t));
    await hvCommand(page, 'delete delta');
    await waitForHvConsole(page, (t) => t.endsWith('[y/N] ') || /\[y\/N\] *$/.test(t.trimEnd() + ' '));
    await page.keyboard.type('y');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-vm="delta"]', { state: 'detached' });
    await shot(page, '11-console-commands');
    const text = await hvConsoleText(page);
    assert.ok(!/error:/.test(text), `the console printed an error:\n${text}`);
  });

  test('the layout holds at 1280×800 and at 400 px wide', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '12-layout-1280');
    await page.setViewportSize({ width: 400, height: 860 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px at 400 px`);
    await shot(page, '13-layout-400');
    await shot(page, '14-layout-400-full', true);
    const text = await consoleText(page, 'base-1');
    assert.ok(text.length > 0);
  });
});
