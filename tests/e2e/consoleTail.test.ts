/**
 * A guest's last console bytes are not lost when its worker goes: after `poweroff -f`,
 * the kernel's "reboot: Power down" is on the console, before the page's own
 * "[romvisor] powered off" line, on the shared-memory ring and on the message path alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { consoleText, newPage, newVmAtShell, powerOn, startAndWaitForShell, startEnv, typeInVm, vmState, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

/** The console from the last "powering on" line to its end. */
async function lastRun(p: Page, vm: string): Promise<string> {
  const text = await consoleText(p, vm);
  return text.slice(text.lastIndexOf('[romvisor] powering on'));
}

for (const path of ['ring', 'messages'] as const) {
  describe(`the console's last bytes (${path === 'ring' ? 'shared-memory ring' : 'messages'})`, () => {
    test('come before "powered off", five poweroffs in a row', async () => {
      const page = await newPage(env);
      if (path === 'messages') await page.goto(`${env.url}?console=messages`);
      await powerOn(page);
      const vm = await newVmAtShell(page, 'base');
      for (let round = 0; round < 5; round++) {
        if (round > 0) await startAndWaitForShell(page, vm);
        await typeInVm(page, vm, 'poweroff -f\n');
        await vmState(page, vm, 'stopped', 60_000);
        // The terminal parses what it is given asynchronously: the state can be "stopped" a
        // frame before the last line is in its buffer, so wait for the line, then check order.
        await waitForConsole(page, vm, (t) => t.lastIndexOf('[romvisor] powered off') > t.lastIndexOf('[romvisor] powering on'), 10_000).catch(() => undefined);
        const run = await lastRun(page, vm);
        const down = run.indexOf('reboot: Power down');
        const off = run.indexOf('[romvisor] powered off');
        assert.ok(off > 0, `round ${round + 1}: no "powered off" line:\n${run.slice(-400)}`);
        assert.ok(down >= 0 && down < off, `round ${round + 1}: the kernel's last line is missing or after "powered off":\n${run.slice(-400)}`);
      }
      await page.close();
    });
  });
}
