import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzBackups } from './backupFuzz.ts';

describe('mutated backup archives', () => {
  it('end in a typed error with nothing written, or a restore, across 60 seeded mutations', { timeout: 300_000 }, async () => {
    const stats = await fuzzBackups(60, 20261204);
    assert.equal(stats.cases, 60);
    assert.deepEqual(stats.failures, []);
    // The mutations must reach the checks behind the checksums, or the run proves little.
    for (const code of ['backup-truncated', 'backup-altered', 'backup-malformed', 'backup-inconsistent']) {
      assert.ok((stats.rejected[code] ?? 0) > 0, `no case was rejected with ${code}: ${JSON.stringify(stats.rejected)}`);
    }
  });
});
