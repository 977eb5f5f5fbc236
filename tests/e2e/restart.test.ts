/**
 * Stop then Start at once: the VM boots again. The tab's claim on the disk (a Web Lock) is
 * let go asynchronously after Stop; a Start that came before it was gone used to be
 * refused as "running in another tab" and then fall back to stopped.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newPage, newVmAtShell, powerOn, startEnv, type E2eEnv } from './harness.ts';

let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

test('a VM stopped and started again in the same moment runs, five times', async () => {
  const page = await newPage(env);
  await powerOn(page);
  const vm = await newVmAtShell(page, 'base');
  for (let round = 1; round <= 5; round++) {
    const r = await page.evaluate(async (name) => {
      const handle = (globalThis as any).__romvisor.hypervisor().vm(name);
      await handle.stop();
      try {
        await handle.start();
        return { state: handle.state as string };
      } catch (e) {
        return { state: handle.state as string, error: (e as Error).message };
      }
    }, vm);
    assert.deepEqual(r, { state: 'running' }, `round ${round}`);
  }
  await page.close();
});
