import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzNetFrames } from './netFrameFuzz.ts';

describe('switch and services fuzzing', () => {
  it('survive 2,000 mutated guest frames: no exception, malformed ones counted, every reply well-formed', () => {
    const r = fuzzNetFrames(2000, 20261203);
    assert.deepEqual(r.failures, []);
    assert.ok(r.replies > 100 && r.malformed > 100, `the cases reach the services and their error paths: ${JSON.stringify({ ...r, failures: undefined })}`);
  });
});
