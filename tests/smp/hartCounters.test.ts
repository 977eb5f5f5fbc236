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

// Every hart loops on an M-mode ecall whose handler steps over it: the trap log must say
// which hart took each trap, as the teaching views show it.
const ECALL_LOOP = [
  0x00000317, // auipc t1, 0
  0x01430313, // addi t1, t1, 20     (the handler below)
  0x30531073, // csrw mtvec, t1
  0x00000073, // 1: ecall
  0xffdff06f, // j 1b
  0x341023f3, // csrr t2, mepc
  0x00438393, // addi t2, t2, 4
  0x34139073, // csrw mepc, t2
  0x30200073, // mret
];

describe('trap log', () => {
  it('names the hart that took each trap', async () => {
    const vm = await loopingVm({
      harts: 2,
      load(core) {
        const dv = new DataView(core.ram.buffer, core.ram.byteOffset);
        ECALL_LOOP.forEach((w, i) => dv.setUint32(i * 4, w, true));
      },
    });
    // The ring keeps the latest events only: read it after each hart's turn.
    const byHart = new Map<number, number>();
    let since = 0;
    for (let turn = 1n; turn <= 4n; turn++) {
      vm.runUntil({ maxInsns: turn * QUANTUM, maxMs: Infinity });
      const { events, next } = vm.core.trapEvents(since);
      since = next;
      for (const e of events) {
        assert.equal(e.cause, 11n, 'an ecall from M');
        byHart.set(e.hart, (byHart.get(e.hart) ?? 0) + 1);
      }
    }
    assert.deepEqual([...byHart.keys()].sort(), [0, 1], 'both harts appear in the log');
    await vm.dispose();
  });
});
