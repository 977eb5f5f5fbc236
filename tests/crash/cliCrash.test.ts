/**
 * `romvisor boot` SIGKILLed at random moments of a guest's write-and-sync loop: after
 * each kill and one clean boot, e2fsck finds the root clean and every file the guest
 * confirmed (its `sync` returned) has its bytes. `npm run fuzz -- --target crash` runs more.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../SeededRandom.ts';
import { cliCrashRound } from './cliCrash.ts';
import { describeVerdict } from './crashCheck.ts';

const KILLS = 5;

test(`${KILLS} SIGKILLs of romvisor boot during write-and-sync lose no confirmed file and leave a clean root`, { timeout: 600_000 }, async (t) => {
  const rng = new SeededRandom(20261203);
  let confirmed = 0;
  for (let k = 0; k < KILLS; k++) {
    const r = await cliCrashRound(rng);
    t.diagnostic(describeVerdict(`kill ${k + 1} after ${r.killedAfterMs} ms`, r));
    assert.equal(r.fsck, 0, `kill ${k + 1}: e2fsck -fn:\n${r.fsckOutput}`);
    assert.deepEqual(r.bad, [], `kill ${k + 1}`);
    confirmed += r.confirmed;
  }
  assert.ok(confirmed > 0, 'no file was confirmed before any kill: the test exercised nothing');
});
