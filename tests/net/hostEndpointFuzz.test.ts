import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzHostEndpoint } from './hostEndpointFuzz.ts';

describe('host endpoint fuzzing', () => {
  it('survives 2,000 mutated TCP/IP frames beside live connections: no exception, every frame it sends well-formed, bounded', async () => {
    const r = await fuzzHostEndpoint(2000, 20261203);
    assert.deepEqual(r.failures, []);
    assert.ok(r.malformed > 100 && r.resets > 50 && r.sent > 500, `the cases reach the parser, the state machine and its resets: ${JSON.stringify({ ...r, failures: undefined })}`);
  });
});
