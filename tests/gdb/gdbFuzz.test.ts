import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzGdbPackets } from './gdbFuzz.ts';

describe('random and damaged gdb remote-protocol input', () => {
  it('never throws, always answers with well-formed packets and never writes outside RAM, over 3,000 seeded cases', { timeout: 120_000 }, async () => {
    const stats = await fuzzGdbPackets(3000, 20261203);
    assert.deepEqual(stats.failures, []);
    assert.equal(stats.cases, 3000);
    assert.ok(stats.replies > 1500, `only ${stats.replies} replies`);
    assert.ok(stats.stops > 20, `only ${stats.stops} stops: breakpoints, watchpoints and Ctrl-C were barely reached`);
  });
});
