// The differential fuzz run of `npm test`: 1,000 generated RV64GC programs, each required
// to leave byte-identical register, fcsr and memory dumps on romvisor and on QEMU. The
// seed is fixed so a failure reproduces; set ROMVISOR_FUZZ_SEED / ROMVISOR_FUZZ_COUNT to
// explore further (or use `npm run fuzz`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDiffFuzz } from './runDiffFuzz.ts';

const seed = Number(process.env.ROMVISOR_FUZZ_SEED ?? 20261125);
const count = Number(process.env.ROMVISOR_FUZZ_COUNT ?? 1000);

describe('differential fuzzing against QEMU', () => {
  it(`${count} random programs (seed ${seed}) give the same dumps on romvisor and QEMU`, async () => {
    const lines: string[] = [];
    const r = await runDiffFuzz({ count, seed, log: (l) => lines.push(l) });
    assert.deepEqual(r.oracleFailures, [], 'QEMU did not run some generated programs through (a generator bug)');
    const first = r.mismatches[0];
    assert.equal(
      r.mismatches.length,
      0,
      first &&
        `${r.mismatches.length} of ${count} programs differ; first: program ${first.program} (program seed ${first.programSeed}), ` +
          `${first.register}: QEMU ${first.qemu}, romvisor ${first.romvisor}. Reproduce: npm run fuzz -- --program ${first.programSeed} ` +
          `(ELF kept at ${first.programElf})\n${lines.join('\n')}`,
    );
    assert.ok(r.instructions > BigInt(count) * 1000n, `romvisor ran only ${r.instructions} instructions`);
  });
});
