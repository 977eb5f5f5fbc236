// A timer interrupt lands on the same instruction however the host slices the run: blocks
// end at the next deadline of mtimecmp and (Sstc) stimecmp alike. The Sstc ISA program takes
// an S-mode timer interrupt from stimecmp; run in slices of 1, 7, 1000 and 2,000,000
// instructions it must take every trap at the same pc and end on the same instruction.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { elfLoader } from '../../src/boot/bareMetal.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';

execFileSync('node', [fileURLToPath(new URL('../isa/build.mjs', import.meta.url))], { stdio: 'inherit' });
const elf = ElfImage.parse(new Uint8Array(readFileSync(fileURLToPath(new URL('../../build/isa/priv_sstc.elf', import.meta.url)))));

async function runSliced(slice: bigint): Promise<{ traps: string[]; instructions: bigint }> {
  const vm = await Vm.create(await loadCoreModule(), { ramBytes: 16 << 20, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false });
  // Without the check after the loop, a run that never finished (in a slice of 1, say)
  // would still be compared, and two equally stuck runs would agree.
  let o = vm.runUntil({ maxInsns: slice, maxMs: Infinity, idle: 'skip' });
  for (let i = 1; i < 2_000_000 && o.kind !== 'poweroff'; i++) o = vm.runUntil({ maxInsns: slice, maxMs: Infinity, idle: 'skip' });
  assert.deepEqual(o, { kind: 'poweroff', by: 'htif', value: 1n }, `priv_sstc passes in slices of ${slice}`);
  const traps = vm.core.trapLog().map((t) => `${t.cause.toString(16)}@${t.pc.toString(16)}`);
  const instructions = vm.core.instructions;
  await vm.dispose();
  return { traps, instructions };
}

describe('timer interrupts and slicing', () => {
  it('land on the same instruction in slices of 1, 7, 1000 and 2,000,000', async () => {
    const whole = await runSliced(2_000_000n);
    assert.ok(whole.traps.some((t) => t.startsWith('8000000000000005@')), `an S timer interrupt was taken: ${whole.traps.join(' ')}`);
    for (const slice of [1n, 7n, 1000n]) {
      const r = await runSliced(slice);
      assert.deepEqual(r.traps, whole.traps, `slices of ${slice}`);
      assert.equal(r.instructions, whole.instructions, `slices of ${slice}`);
    }
  });
});
