import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzVhd } from './vhdFuzz.ts';

describe('mutated VHD images', () => {
  it('end in success or a VhdError across 1,000 seeded mutations', { timeout: 120_000 }, async () => {
    const stats = await fuzzVhd(1000, 20240601);
    assert.equal(stats.cases, 1000);
    assert.deepEqual(stats.failures, []);
    // The mutations must get past the checksums and into the deeper checks, and some
    // images must survive to be read and written, or the run proves little.
    assert.ok(stats.opened > 100, `only ${stats.opened} cases opened`);
    for (const code of ['bad-cookie', 'bad-checksum', 'bat-out-of-range', 'bat-overlap', 'truncated', 'parent-loop', 'parent-mismatch', 'locator-out-of-range']) {
      assert.ok((stats.rejected[code] ?? 0) > 0, `no case was rejected with ${code}: ${JSON.stringify(stats.rejected)}`);
    }
  });
});
