import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INFLATE_MAX_STEP_OUTPUT } from '../../src/scenario/scenarioUrl.ts';
import { SCENARIO_LIMITS } from '../../src/scenario/index.ts';
import { fuzzScenarios, worstDecodeMs } from './scenarioFuzz.ts';

describe('random, mutated and hostile scenario links', () => {
  it('decode to a valid scenario or end in a ScenarioError across 10,000 seeded cases', { timeout: 120_000 }, () => {
    const stats = fuzzScenarios(10_000, 20240601);
    assert.equal(stats.cases, 10_000);
    assert.deepEqual(stats.failures, []);
    // Each stage of decoding must be reached and refuse something, or the run proves little.
    for (const code of ['bad-url', 'too-large', 'bad-base64', 'bad-deflate', 'bad-json', 'unsupported-version', 'invalid']) {
      assert.ok((stats.rejected[code] ?? 0) > 0, `no case was refused with ${code}: ${JSON.stringify(stats.rejected)}`);
    }
    assert.ok(stats.accepted > 500, `only ${stats.accepted} links decoded`);
    assert.ok((stats.kinds.bomb ?? 0) > 100, `only ${stats.kinds.bomb} bombs`);
    // Bombs reached the cap, and none went further than one inflate step past it.
    assert.ok(stats.peakInflatedBytes > SCENARIO_LIMITS.jsonBytes);
    assert.ok(stats.peakInflatedBytes <= SCENARIO_LIMITS.jsonBytes + INFLATE_MAX_STEP_OUTPUT);
  });

  it('include the slowest known links, which decode or are refused like any other', () => {
    assert.ok(Number.isFinite(worstDecodeMs(9)));
  });
});
