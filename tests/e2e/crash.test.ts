/**
 * Chromium SIGKILLed at random moments of a guest's write-and-sync loop: after each
 * kill, one boot and a guest poweroff, the exported disk's root passes e2fsck and every
 * file the guest confirmed (its `sync` returned) has its bytes.
 * `npm run fuzz -- --target crash` runs more.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserCrashRound } from '../crash/browserCrash.ts';
import { describeVerdict } from '../crash/crashCheck.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { startEnv, type E2eEnv } from './harness.ts';

const KILLS = 5;
let env: E2eEnv;

before(async () => {
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

test(`${KILLS} SIGKILLs of Chromium during write-and-sync lose no confirmed file and leave a clean root`, { timeout: 900_000 }, async (t) => {
  const rng = new SeededRandom(20261204);
  let confirmed = 0;
  for (let k = 0; k < KILLS; k++) {
    const r = await browserCrashRound(env, rng);
    t.diagnostic(describeVerdict(`kill ${k + 1} after ${r.killedAfterMs} ms`, r));
    assert.equal(r.fsck, 0, `kill ${k + 1}: e2fsck -fn:\n${r.fsckOutput}`);
    assert.deepEqual(r.bad, [], `kill ${k + 1}`);
    confirmed += r.confirmed;
  }
  assert.ok(confirmed > 0, 'no file was confirmed before any kill: the test exercised nothing');
});
