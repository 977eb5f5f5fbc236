/**
 * Shared set-up for the browser tests: a Vite dev server on a free port (the same
 * config `npm start` uses, COOP/COEP included) and Debian's Chromium through
 * playwright-core. Screenshots go to test-results/.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page, type Worker } from 'playwright-core';
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const resultsDir = `${repoRoot}test-results`;

export interface E2eEnv {
  server: ViteDevServer | PreviewServer;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A browser on a profile kept in `userDataDir`, as a user's is: what one run stores in
 * IndexedDB, the next run on the same directory finds.
 */
export function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
}

/**
 * SIGKILLs every process of the Chromium running on `userDataDir` (browser, renderers,
 * the storage service), as a crash or the OOM killer would: nothing gets to clean up.
 */
export function killPersistentChromium(userDataDir: string): number {
  let killed = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone already
    }
    if (!cmdline.includes(userDataDir)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // exited between the read and the kill
    }
  }
  if (killed === 0) throw new Error(`no Chromium process runs on ${userDataDir}`);
  return killed;
}

/** The site as `npm run build` makes it, served by `vite preview`: what users of a static host get. */
export async function startBuiltEnv(): Promise<E2eEnv> {
  mkdirSync(resultsDir, { recursive: true });
  const outDir = mkdtempSync(join(tmpdir(), 'romvisor-dist-'));
  const config = { root: repoRoot, configFile: `${repoRoot}vite.config.ts`, logLevel: 'warn' as const };
  await build({ ...config, build: { outDir, emptyOutDir: true } });
  const server = await preview({ ...config, build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === 'string') throw new Error('vite preview did not report a port');
  const browser = await launchChromium();
  return {
    server,
    browser,
    url: `http://127.0.0.1:${addr.port}/`,
    async close() {
      await browser.close();
      await new Promise<void>((res) => server.httpServer.close(() => res()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

export async function startEnv(): Promise<E2eEnv> {
  mkdirSync(resultsDir, { recursive: true });
  // Each server bundles dependencies into its own cache: test files run two at a time, and
  // two dev servers sharing node_modules/.vite re-optimize under each other's pages ("504
  // Outdated Optimize Dep" and a page that never loads).
  const cacheDir = mkdtempSync(join(tmpdir(), 'romvisor-vite-'));
  const server = await createServer({
    root: repoRoot,
    configFile: `${repoRoot}vite.config.ts`,
    cacheDir,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    clearScreen: false,
  });
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('vite did not report a port');
  const url = `http://127.0.0.1:${addr.port}/`;
  const browser = await launchChromium();
  return {
    server,
    browser,
    url,
    async close() {
      await browser.close();
      await server.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}

export async function newPage(env: E2eEnv, context?: BrowserContext, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const ctx = context ?? (await env.browser.newContext({ viewport, acceptDownloads: true }));
  const page = await ctx.newPage();
  // tsx compiles test files with esbuild's keepNames, which wraps named functions in
  // __name(); functions handed to page.evaluate need that helper in the page too.
  await page.addInitScript('globalThis.__name = (f) => f');
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[console] ${m.text()}`);
  });
  await page.goto(env.url);
  return page;
}

/** Two animation frames: the visibility callbacks of one layout and the draws they schedule have run. */
function nextFrames(page: Page): Promise<void> {
  return page.evaluate(() => new Promise<void>((res) => requestAnimationFrame(() => requestAnimationFrame(() => res()))));
}

/**
 * A screenshot in `test-results/`. xterm.js draws only terminals in the viewport (it pauses
 * the others and redraws them when they scroll into view), and a full-page capture does not
 * count as a view: the consoles below the fold would show whatever they last drew, such as a
 * motd without its prompt. So a full-page shot is taken with the viewport as tall as the page.
 */
export async function shot(page: Page, name: string, fullPage = false): Promise<Buffer> {
  const path = `${resultsDir}/${name}.png`;
  const viewport = page.viewportSize();
  if (!fullPage || !viewport) return page.screenshot({ path, fullPage });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) });
  try {
    await nextFrames(page);
    return await page.screenshot({ path });
  } finally {
    await page.setViewportSize(viewport);
  }
}

/**
 * What a VM's console shows on screen, its rows as drawn, once scrolled into view as a user
 * would. consoleText() reads the terminal's buffer (every byte the guest sent); this reads
 * what the user sees.
 */
export async function renderedConsole(page: Page, vm: string): Promise<string> {
  await page.evaluate((n) => document.querySelector(`[data-vm="${n}"] .xterm-screen`)?.scrollIntoView({ block: 'center' }), vm);
  await nextFrames(page);
  return page.evaluate((n) => [...document.querySelectorAll(`[data-vm="${n}"] .xterm-rows > div`)].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n'), vm);
}

/** The text of a VM's console, from the page's debug hook. */
export function consoleText(page: Page, vm: string): Promise<string> {
  return page.evaluate((name) => (globalThis as unknown as { __romvisor: { consoleText(n: string): string | undefined } }).__romvisor.consoleText(name) ?? '', vm);
}

export function hvConsoleText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as { __romvisor: { hvConsoleText(): string } }).__romvisor.hvConsoleText());
}

/** Waits until `predicate(text)` holds for a VM's console, or throws with what it shows. */
export async function waitForConsole(page: Page, vm: string, predicate: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = await consoleText(page, vm);
    if (predicate(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`VM ${vm}: console did not show what was expected within ${timeoutMs} ms; it shows:\n${text.trimEnd().split('\n').slice(-15).join('\n')}`);
}

export async function waitForHvConsole(page: Page, predicate: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = await hvConsoleText(page);
    if (predicate(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`hypervisor console did not show what was expected within ${timeoutMs} ms; it shows:\n${text.trimEnd().split('\n').slice(-15).join('\n')}`);
}

/** Polls `probe` until it gives a truthy value (returned), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Presses the power button and waits for the management console's prompt. */
export async function powerOn(page: Page): Promise<void> {
  await page.click('#power');
  await waitForHvConsole(page, (t) => t.includes('romvisor>'), 20_000);
}

/** Types a line into the hypervisor console. */
export async function hvCommand(page: Page, line: string): Promise<void> {
  await page.click('#hv-console');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** Types into a VM's console. */
export async function typeInVm(page: Page, vm: string, text: string): Promise<void> {
  await page.click(`[data-vm="${vm}"] .vm-term`);
  await page.keyboard.type(text);
}

/** A guest shell waiting at its prompt (`~ # `, `/ # `) as the last thing on its console. */
export const atPrompt = (text: string) => /(^|\n)[~/][^\n]* # ?$/.test(text.trimEnd() + ' ');

/** Waits for a VM card to show `state` (stopped, running, in-use, ...). */
export function vmState(p: Page, vm: string, state: string, timeout = 30_000) {
  return p.waitForSelector(`[data-vm="${vm}"][data-state="${state}"]`, { timeout });
}

/** Boots a VM from its card's Start button and waits for the shell prompt. */
export async function startAndWaitForShell(p: Page, vm: string): Promise<void> {
  await p.click(`[data-vm="${vm}"] [data-action="start"]`);
  await vmState(p, vm, 'running');
  await waitForConsole(p, vm, atPrompt, 60_000);
}

/** Makes a VM of `appliance` with its catalog card's New VM button and gives its name (it stays off). */
export async function newVm(p: Page, appliance = 'base'): Promise<string> {
  const vmNames = () => (globalThis as any).__romvisor.hypervisor().vms().map((v: any) => v.record.name) as string[];
  const known = await p.evaluate(vmNames);
  await p.click(`[data-appliance="${appliance}"] [data-action="new-vm"]`);
  const handle = await p.waitForFunction((k: string[]) => ((globalThis as any).__romvisor.hypervisor().vms().map((v: any) => v.record.name) as string[]).find((n) => !k.includes(n)), known, { timeout: 60_000 });
  const vm = (await handle.jsonValue()) as string;
  await p.waitForSelector(`[data-vm="${vm}"]`);
  return vm;
}

/** Makes a VM of `appliance` with its catalog card's New VM button, boots it to its shell, gives its name. */
export async function newVmAtShell(p: Page, appliance = 'base'): Promise<string> {
  const vm = await newVm(p, appliance);
  await startAndWaitForShell(p, vm);
  return vm;
}

/**
 * After a reload the server powers on by itself; after a killed browser it may not
 * (localStorage's "it was on" can die with the browser), so then the user presses power.
 * Then `vm`, stopped, boots to its shell.
 */
export async function backToShell(p: Page, vm: string): Promise<void> {
  const hv = await waitForHvConsole(p, (t) => t.includes('romvisor>') || t.includes('server is off'), 30_000);
  if (!hv.includes('romvisor>')) await powerOn(p);
  await vmState(p, vm, 'stopped');
  await startAndWaitForShell(p, vm);
}

/** Starts `vm` from its card; gives the Web Worker that runs it (the one that appeared), once the shell prompts. */
export async function startInWorker(p: Page, vm: string, timeoutMs = 90_000): Promise<Worker> {
  const known = new Set(p.workers());
  await p.click(`[data-vm="${vm}"] [data-action="start"]`);
  const worker = await waitFor('the VM worker', async () => p.workers().find((w) => !known.has(w)), 30_000);
  await waitForConsole(p, vm, atPrompt, timeoutMs);
  return worker;
}

/**
 * Makes (or stops making) every read-write IndexedDB transaction in the worker `w` fail for
 * quota, as Chromium refuses them when the origin's quota is spent.
 */
export function setQuotaFull(w: Worker, full: boolean): Promise<void> {
  return w.evaluate((on: boolean) => {
    const g = globalThis as unknown as { __realTransaction?: typeof IDBDatabase.prototype.transaction };
    g.__realTransaction ??= IDBDatabase.prototype.transaction;
    const real = g.__realTransaction;
    IDBDatabase.prototype.transaction = on
      ? function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, opts?: IDBTransactionOptions) {
          if (mode === 'readwrite') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return real.call(this, stores, mode, opts);
        }
      : real;
  }, full);
}
