import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzRepositoryIndex } from './repoIndexFuzz.ts';

describe('random and mutated repository indexes', () => {
  it('parse to an index that keeps the schema or end in RepoError bad-index, across 3,000 seeded cases', () => {
    const stats = fuzzRepositoryIndex(3000, 20261203);
    assert.deepEqual(stats.failures, []);
    assert.ok(stats.accepted > 300, `only ${stats.accepted} accepted`);
    // The checks of every level were reached and refused something.
    for (const field of ['json', 'schema', 'appliances', 'name', 'versions', 'chunks', 'sha256', 'url', 'size', 'chunkSize', 'memoryMiB']) {
      assert.ok((stats.rejectedFields[field] ?? 0) > 0, `nothing refused at ${field}: ${JSON.stringify(stats.rejectedFields)}`);
    }
  });
});
