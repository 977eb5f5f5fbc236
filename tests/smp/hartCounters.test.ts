// Each hart's minstret counts the instructions that hart retired, as on a machine whose
// harts run side by side: one that waits its turn on romvisor's single core retires
// nothing meanwhile. mcycle (and time) stay the machine's clock, which runs for every hart.
// The guest is the four-instruction loop of loopingGuest.ts on three harts, run for whole
// turns (QUANTUM instructions each), so every hart retires exactly a third.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loopingVm } from '../gdb/loopingGuest.ts';

const QUANTUM = 4096n;
const CSR_MCYCLE = 0xb00;
const CSR_MINSTRET = 0xb02;
const A0 = 10;

describe('per-hart counters', () => {
  for (const jit of ['off', 'eager'] as const) it(`minstret counts a hart's own instructions; mcycle the machine's (--jit ${jit})`, async () => {
    const vm = await loopingVm({ harts: 3, jit });
    const turns = 10n;
    vm.runUntil({ maxInsns: 3n * turns * QUANTUM, maxMs: Infinity });
    const total = vm.core.instructions;
    assert.equal(total, 3n * turns * QUANTUM);
    for (const h of [0, 1, 2]) {
      assert.equal(vm.core.hartCsr(h, CSR_MINSTRET), turns * QUANTUM, `hart ${h}'s minstret`);
      // The loop's a0 counts passes: four instructions each, so it agrees with minstret.
      assert.equal(vm.core.hartX(h, A0), (turns * QUANTUM) / 4n, `hart ${h}'s passes`);
      assert.equal(vm.core.hartCsr(h, CSR_MCYCLE), total, `hart ${h}'s mcycle is the machine's`);
    }
    await vm.dispose();
  });
});
