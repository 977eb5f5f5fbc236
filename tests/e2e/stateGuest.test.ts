/**
 * A teaching demo that opens at the interesting moment: `romvisor boot base --save-state F
 * --self-contained` saves the base appliance at its shell prompt (a file written before the
 * save); a scenario names that state by URL and sha256 (a course's server, cross-origin).
 * The page downloads it, finds the base among its built-in appliances by sha256, and the
 * guest goes on at the prompt with no boot: no firmware or kernel line on its console, the
 * file it wrote before the save is there, its script passes. A state that does not hash to
 * the scenario's sha256 is refused with a message, and nothing starts.
 * Screenshot: test-results/state-guest.png.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeScenarioUrl, type Scenario } from '../../src/scenario/index.ts';
import { runCli } from '../boot/runCli.ts';
import { newPage, repoRoot, startEnv, waitFor, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let state: Buffer;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'romvisor-state-guest-'));
  const script = join(dir, 'to-prompt.json');
  writeFileSync(script, JSON.stringify([{ expect: '~ # ', timeout: 300 }, { send: 'echo saved-before > /root/note; sync\n' }, { expect: '~ # ' }]));
  const saved = await runCli(['boot', 'base', '--time', 'deterministic', '--script', script, '--save-state', join(dir, 'prompt.state'), '--self-contained'], { timeoutMs: 300_000 });
  assert.equal(saved.code, 0, saved.stderr);
  state = readFileSync(join(dir, 'prompt.state'));
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

const phase = (page: Page) => page.evaluate('globalThis.__romvisorScenario.phase()') as Promise<string>;
const guestConsole = (page: Page) => page.evaluate('globalThis.__romvisorScenario.consoleText(0) ?? ""') as Promise<string>;

/** As a course writes it: a state guest has no memory, time or command line of its own. */
function demo(sha256: string): Scenario {
  return {
    version: 1,
    title: 'At the prompt already',
    notes: 'The machine was saved at its shell prompt; it goes on from there.',
    guests: [{
      state: { url: 'https://course.example/prompt.state', sha256 },
      script: [{ send: 'cat /root/note; echo resumed-$((6*7))\n' }, { expect: 'resumed-42' }],
    }],
  } as unknown as Scenario;
}

async function open(sha256: string): Promise<Page> {
  const page = await newPage(env, undefined, { width: 1280, height: 900 });
  await page.route('https://course.example/**', (route) => route.fulfill({
    status: 200,
    body: state,
    headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' },
  }));
  await page.goto(encodeScenarioUrl(demo(sha256), env.url));
  await page.click('[data-action="run-scenario"]');
  return page;
}

describe('a scenario guest from a saved state in the page', () => {
  test('opens at the prompt with no boot, and its script passes', async () => {
    const page = await open(sha(state));
    await waitFor('the script to pass', async () => {
      const p = await phase(page);
      if (p === 'failed') throw new Error(`the scenario failed: ${await page.locator('[data-scenario-status]').innerText()}`);
      return p === 'passed';
    }, 180_000);
    const text = await guestConsole(page);
    assert.match(text, /saved-before\r?\nresumed-42/);
    assert.doesNotMatch(text, /OpenSBI|Linux version|Run \/sbin\/init/, 'no boot: the machine was resumed');
    await page.screenshot({ path: `${repoRoot}test-results/state-guest.png` });
    await page.close();
  });

  test('a state that does not hash to the scenario\'s sha256 is refused', async () => {
    const page = await open('0'.repeat(64));
    await waitFor('the refusal', async () => (await phase(page)) === 'failed', 60_000);
    assert.match(await page.locator('[data-scenario-status]').innerText(), /sha256 is [0-9a-f]{64}, the scenario says 0{64}; refused/);
    await page.close();
  });
});
