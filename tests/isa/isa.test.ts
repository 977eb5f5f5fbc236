// Runs every ISA test program (tests/isa/*.S, built by build.mjs into build/isa/) on QEMU,
// the reference, and on romvisor; each must print PASS and report pass on both. A program
// that fails names its test number (see env/harness.h): find `li gp, N` in its source.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLimiter } from './createLimiter.ts';
import { runBareMetal } from './romvisorBareMetal.ts';
import { runQemu } from './runQemu.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const buildDir = join(here, '..', '..', 'build', 'isa');
// Up to date after `npm test`'s own build step; this makes a direct run work too.
execFileSync('node', [join(here, 'build.mjs')], { stdio: 'inherit' });

const names = readdirSync(here)
  .filter((f) => f.endsWith('.S'))
  .map((f) => f.slice(0, -2))
  .sort();
const elfPath = (name: string): string => join(buildDir, `${name}.elf`);

// Every QEMU run starts now, two at a time, and overlaps the romvisor runs below.
const limit = createLimiter(2);
const qemuRuns = new Map(names.map((n) => [n, limit(() => runQemu(elfPath(n), { timeoutMs: 30_000 }))]));

/** Enough for any of these programs by a factor of ~100; a runaway stops as 'budget'. */
const MAX_INSTRUCTIONS = 2_000_000n;

describe('ISA tests', () => {
  it('found the test programs', () => {
    assert.ok(names.length >= 10, `only ${names.length} programs in ${here}`);
  });
  for (const name of names) {
    describe(name, () => {
      it('passes on QEMU', async () => {
        const r = await qemuRuns.get(name)!;
        assert.equal(r.timedOut, false, `${name} did not power off on QEMU; UART: ${JSON.stringify(r.uart)}`);
        assert.equal(r.uart, 'PASS\n', `${name} on QEMU printed ${JSON.stringify(r.uart)}`);
        assert.equal(r.exitCode, 0);
      });
      for (const jit of ['off', 'eager'] as const) {
        it(`passes on romvisor --jit ${jit}`, async () => {
          const elf = new Uint8Array(readFileSync(elfPath(name)));
          const r = await runBareMetal(elf, { maxInstructions: MAX_INSTRUCTIONS, jit });
          const detail = `${name} on romvisor --jit ${jit}: ${r.message}; UART ${JSON.stringify(r.uart)}`;
          assert.equal(r.outcome, 'pass', detail);
          assert.equal(r.exitCode, 0, detail);
          assert.equal(r.uart, 'PASS\n', detail);
          // eager translated the program's pages and ran some of it compiled.
          if (jit === 'eager') assert.ok(r.jit.compiles > 0 && r.jit.jitInsns > 0, `${detail}; JIT ${JSON.stringify(r.jit)}`);
          // Its self-modifying loops must have gone through the JIT's invalidation.
          if (jit === 'eager' && name === 'jit_translate') assert.ok(r.jit.invalidations > 0, `${detail}; JIT ${JSON.stringify(r.jit)}`);
        });
      }
    });
  }
});
