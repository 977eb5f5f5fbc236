/**
 * A user-made appliance, built by README's "Make your own appliance" example as it is
 * printed there (sfdisk, mke2fs -d, qemu-img convert: a gzipped Image, an initrd, an
 * appliance.json with its own title and 96 MiB), imported with the page's Import button:
 * the catalog shows its title and memory, a VM of it boots to its prompt with that memory,
 * and in deterministic time the page prints the same console bytes up to the prompt as
 * `romvisor boot FILE --time deterministic`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { encodeScenarioUrl, type Scenario } from '../../src/scenario/index.ts';
import { runCli, writeScript } from '../boot/runCli.ts';
import { newPage, powerOn, repoRoot, startAndWaitForShell, startEnv, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

const PROMPT = '~ # ';
const TITLE = 'My own appliance';

let env: E2eEnv;
let context: BrowserContext;
let scratch: string;
let vhd: string;

/** The first ```sh block under README's "Make your own appliance", verbatim. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Make your own appliance'));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, 'README has the example');
  return block[1]! + '\n';
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'romvisor-own-appliance-'));
  // The example runs "from the repository": it reads ../appliances/boot/.
  symlinkSync(join(repoRoot, 'appliances'), join(scratch, 'appliances'));
  writeFileSync(join(scratch, 'example.sh'), readmeExample());
  execFileSync('bash', ['-e', 'example.sh'], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  vhd = join(scratch, 'mine', 'mine.vhd');
  env = await startEnv();
  context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
});

after(async () => {
  await context?.close();
  await env?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The CLI's console of the same file up to the prompt, deterministic time. */
async function cliConsole(): Promise<string> {
  const script = writeScript(scratch, 'to-prompt', [{ expect: PROMPT, timeout: 600 }]);
  const run = await runCli(['boot', vhd, '--time', 'deterministic', '--script', script], { timeoutMs: 900_000 });
  assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
  return run.stdout;
}

describe('an appliance made as the README says', () => {
  let page: Page;
  let imageId: string;
  let cli: Promise<string>;

  test('is imported with its appliance.json title and memory, and boots to its prompt', async () => {
    // The CLI's boot runs alongside the page's; the machine has few cores, so waits are long.
    cli = cliConsole();
    cli.catch(() => {});
    page = await newPage(env, context);
    await powerOn(page);
    const chooser = page.waitForEvent('filechooser');
    await page.click('[data-action="import"]');
    await (await chooser).setFiles(vhd);
    const card = page.locator('[data-appliance="mine.vhd"]');
    await card.waitFor({ timeout: 60_000 });
    const text = await card.innerText();
    assert.ok(text.includes(TITLE), `the card shows the title: ${text}`);
    assert.ok(text.includes('96 MiB'), `the card shows the memory: ${text}`);
    assert.ok(text.includes('BusyBox from an initrd'), `the card shows the description: ${text}`);
    imageId = await page.evaluate(() => ((globalThis as any).__romvisor.hypervisor().appliances() as { name: string; imageId?: string }[]).find((a) => a.name === 'mine.vhd')!.imageId!);

    await page.click('[data-appliance="mine.vhd"] [data-action="new-vm"]');
    await page.waitForSelector('[data-vm="mine-vhd-1"]', { timeout: 60_000 });
    await startAndWaitForShell(page, 'mine-vhd-1');
    const console = await waitForConsole(page, 'mine-vhd-1', (t) => /romvisor initramfs: .* kB RAM/.test(t), 120_000);
    const ram = Number(/(\d+) kB RAM/.exec(console)![1]);
    assert.ok(ram > 80 * 1024 && ram < 96 * 1024, `the guest has the appliance's 96 MiB (it reports ${ram} kB), not the default 128`);
    assert.ok(!console.includes('nothing to boot'), 'it booted its own kernel, not the rescue one');
  });

  test('in deterministic time the page prints what romvisor boot prints, byte for byte', async () => {
    assert.ok(imageId, 'needs the import of the previous test');
    const scenario: Scenario = {
      version: 1,
      title: 'My own appliance to its prompt',
      notes: '',
      view: ['console'],
      // The CLI names a lone appliance guest after its appliance.json (`mine`): the same name
      // gives the same MAC, DHCP address and hostname, which its console prints.
      guests: [{ name: 'mine', appliance: { local: imageId }, memoryMiB: 96, cmdline: '', time: 'deterministic', script: [{ expect: PROMPT, timeout: 600 }] }],
    };
    const link = encodeScenarioUrl(scenario, env.url);
    const run = await newPage(env, context);
    await run.goto(link);
    await run.click('[data-action="run-scenario"]', { timeout: 60_000 });
    const transcript = await waitFor(
      'the page run to reach where the CLI stops',
      async () => {
        const t = (await run.evaluate('globalThis.__romvisorScenario?.transcript(0)')) as { text: string; atScriptEnd?: number } | undefined;
        return t?.atScriptEnd !== undefined ? t : undefined;
      },
      900_000,
      500,
    );
    const inPage = transcript.text.slice(0, transcript.atScriptEnd);
    const fromCli = await cli;
    assert.match(fromCli, /romvisor initramfs: .* kB RAM/);
    if (inPage !== fromCli) {
      let i = 0;
      while (i < fromCli.length && inPage[i] === fromCli[i]) i++;
      assert.fail(`the consoles differ at byte ${i} of ${fromCli.length} (page: ${inPage.length}):\n  cli:  ${JSON.stringify(fromCli.slice(Math.max(0, i - 80), i + 80))}\n  page: ${JSON.stringify(inPage.slice(Math.max(0, i - 80), i + 80))}`);
    }
    await run.close();
    await page.close();
  });
});
