import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzNineP } from './ninePFuzz.ts';

describe('9P server under mutated messages (npm run fuzz -- --target 9p runs 10,000)', () => {
  it('answers 1,000 with well-formed replies and typed errors, and leaves the canary outside the share untouched', async () => {
    const stats = await fuzzNineP(1000, 20261203);
    assert.deepEqual(stats.failures, []);
    assert.equal(stats.cases, 1000);
    // The session gets somewhere: some requests succeed, and several kinds of refusal happen.
    assert.ok(stats.accepted > 50, `only ${stats.accepted} accepted`);
    assert.ok(stats.errnos.size >= 5, `errnos seen: ${[...stats.errnos.keys()].join(', ')}`);
  });
});
