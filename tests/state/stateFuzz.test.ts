import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzStates } from './stateFuzz.ts';

describe('mutated machine state files', () => {
  it('end in a StateError with nothing applied, or a restore, across 200 seeded mutations', { timeout: 300_000 }, async () => {
    const stats = await fuzzStates(200, 20261203);
    assert.equal(stats.cases, 200);
    assert.deepEqual(stats.failures, []);
    // The mutations must reach every check, or the run proves little.
    for (const code of ['state-truncated', 'state-bad-magic', 'state-newer-version', 'state-altered', 'state-malformed']) {
      assert.ok((stats.rejected[code] ?? 0) > 0, `no case was rejected with ${code}: ${JSON.stringify(stats.rejected)}`);
    }
  });
});
