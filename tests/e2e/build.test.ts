/**
 * The static site as `npm run build` makes it: the wasm core, the worker, the ROM and the
 * appliances all in dist/, served by `vite preview` (which sends .gz files with
 * Content-Encoding: gzip, unlike the dev server), and a disk appliance boots from it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { runCli } from '../boot/runCli.ts';
import { repoRoot, shot, typeInVm, waitForConsole, waitForHvConsole } from './harness.ts';

let outDir: string;
let server: PreviewServer;
let browser: Browser;

before(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'romvisor-dist-'));
  await build({ root: repoRoot, configFile: `${repoRoot}vite.config.ts`, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ root: repoRoot, configFile: `${repoRoot}vite.config.ts`, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.httpServer.close(() => r()) : r()));
  rmSync(outDir, { recursive: true, force: true });
});

test('the built site holds the core, the ROM and the appliances, and boots a disk VM', async () => {
  assert.ok(readdirSync(join(outDir, 'assets')).some((f) => f.endsWith('.wasm')), 'no wasm core in dist/assets');
  for (const f of ['roms/opensbi/fw_dynamic.bin', 'appliances/boot/Image.gz', 'appliances/boot/initramfs.cpio.gz', 'appliances/manifest.json', 'appliances/base.vhd.gz']) {
    assert.ok(existsSync(join(outDir, f)), `dist/${f} is missing`);
  }
  const addr = server.httpServer.address();
  assert.ok(addr && typeof addr === 'object');
  // The built-ins as the site's own repository, read by range and verified over HTTP.
  const repoUrl = `http://127.0.0.1:${addr.port}/appliances/repository/`;
  const index = await (await fetch(`${repoUrl}repository.json`)).json();
  assert.deepEqual(index.appliances.map((a: { name: string }) => a.name), ['base', 'lua', 'sqlite']);
  const first = index.appliances[0].versions[0];
  const ranged = await fetch(`${repoUrl}${first.url}`, { headers: { range: 'bytes=0-511' } });
  assert.equal(ranged.status, 206);
  assert.equal((await ranged.arrayBuffer()).byteLength, 512);
  const verified = await runCli(['repo', 'verify', repoUrl]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /3 file\(s\), \d+ chunks, .*: all match the index/);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript('globalThis.__name = (f) => f');
  // The other tests use the shared-memory console rings; this one the message path.
  await page.goto(`http://127.0.0.1:${addr.port}/?console=messages`);
  await page.click('#power');
  const post = await waitForHvConsole(page, (t) => t.includes('romvisor>'), 20_000);
  assert.match(post, /Guest consoles: transferred messages/);
  // The empty VM table's quick start: make a VM of the appliance and power it on.
  await page.click('[data-quick-start="base"]');
  await page.waitForSelector('[data-vm="base-1"][data-state="running"]', { timeout: 60_000 });
  await waitForConsole(page, 'base-1', (t) => /(^|\n)~ # ?$/.test(t.trimEnd() + ' '), 60_000);
  await typeInVm(page, 'base-1', 'uname -m\n');
  await waitForConsole(page, 'base-1', (t) => /\nriscv64/.test(t));
  await shot(page, 'build-preview-disk-vm');
  await page.close();
});
