// The differential fuzz run of `npm test`: 2,000 generated RV64GC programs, each required
// to leave byte-identical register, fcsr and memory dumps on romvisor and on QEMU, with
// the interpreter alone (--jit off) and with every page translated (--jit eager). The
// seed is fixed so a failure reproduces; set ROMVISOR_FUZZ_SEED / ROMVISOR_FUZZ_COUNT to
// explore further (or use `npm run fuzz`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBareMetal, type RunBareMetal } from '../isa/romvisorBareMetal.ts';
import { DUMP_LINES } from './buildFuzzElf.ts';
import { runDiffFuzz } from './runDiffFuzz.ts';

const seed = Number(process.env.ROMVISOR_FUZZ_SEED ?? 20261125);
const count = Number(process.env.ROMVISOR_FUZZ_COUNT ?? 2000);

describe('differential fuzzing against QEMU', () => {
  it(`${count} random programs (seed ${seed}) give the same dumps on romvisor (--jit off and eager) and QEMU`, async () => {
    const lines: string[] = [];
    const r = await runDiffFuzz({ count, seed, log: (l) => lines.push(l), jits: ['off', 'eager'] });
    assert.deepEqual(r.oracleFailures, [], 'QEMU did not run some generated programs through (a generator bug)');
    const first = r.mismatches[0];
    assert.equal(
      r.mismatches.length,
      0,
      first &&
        `${r.mismatches.length} runs of ${count} programs differ; first: program ${first.program} (program seed ${first.programSeed}, --jit ${first.jit}), ` +
          `${first.register}: QEMU ${first.qemu}, romvisor ${first.romvisor}. Reproduce: npm run fuzz -- --program ${first.programSeed} ` +
          `(ELF kept at ${first.programElf})\n${lines.join('\n')}`,
    );
    assert.ok(r.instructions > BigInt(count) * 2000n, `romvisor ran only ${r.instructions} instructions over two modes`);
    // Without this the eager half would pass with a JIT that never ran a compiled block.
    assert.ok(r.jitInstructions > BigInt(count) * 100n, `compiled code ran only ${r.jitInstructions} of ${r.instructions} instructions`);
  });

  it('names the program and register of the first difference', async () => {
    // A machine that is romvisor except that program 3's f7 comes out one bit off.
    const corrupt: RunBareMetal = async (elf, o) => {
      const r = await runBareMetal(elf, o);
      const lines = r.uart.split('\n');
      const at = 3 * DUMP_LINES + 31 + 7;
      lines[at] = lines[at].slice(0, 15) + (lines[at][15] === '0' ? '1' : '0');
      return { ...r, uart: lines.join('\n') };
    };
    const r = await runDiffFuzz({ count: 5, seed: 1, runner: corrupt });
    assert.equal(r.mismatches.length, 1);
    assert.equal(r.mismatches[0].program, 3);
    assert.equal(r.mismatches[0].register, 'f7');
    assert.notEqual(r.mismatches[0].qemu, r.mismatches[0].romvisor);
  });
});
