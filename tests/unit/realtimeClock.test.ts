// Realtime guest time keeps to the host's clock however fast the guest runs: a hart that
// spins for a while sees mtime advance by no more than the host's time (before, mtime's
// instruction share ticked once per 10 instructions, a nominal 100 MIPS, so a guest run
// faster than that timed a 7.5 s loop as 16.6 s and its date ran ahead). Deterministic
// time is unchanged: one tick per 10 instructions. A machine state holds mtime the same way
// whichever mode took it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GuestLoader } from '../../src/machine/GuestLoader.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm, type TimeMode } from '../../src/machine/Vm.ts';
import { RAM_BASE } from '../../src/machine/Core.ts';

/** A hart that spins: `j .` at the start of RAM. */
const spin: GuestLoader = {
  load(core) {
    new DataView(core.ram.buffer, core.ram.byteOffset).setUint32(0, 0x0000006f, true);
    core.pc = RAM_BASE;
  },
};

// Compiled (eager), the spin runs in the GIPS on any machine this runs on, far above the old
// nominal rate, so the first test can tell the two clocks apart.
const spinner = async (timeMode: TimeMode) => Vm.create(await loadCoreModule(), { ramBytes: 1 << 20, timeMode, boot: spin, detectCrash: false, jit: 'eager' });

describe('realtime guest time', () => {
  it('never runs ahead of the host clock while the guest spins', async () => {
    // Guest time 0 is the machine's creation: the host's time is counted from before it.
    const t0 = performance.now();
    const vm = await spinner('realtime');
    const t1 = performance.now();
    while (performance.now() - t1 < 300) vm.runUntil({ maxMs: 20 });
    // One more instruction: the run first brings guest time level with the host's.
    const before = performance.now();
    vm.runUntil({ maxInsns: 1n });
    const hostTicks = BigInt(Math.ceil((performance.now() - t0) * 10_000));
    const hostTicksBefore = BigInt(Math.floor((before - t1) * 10_000));
    const guestTicks = vm.core.mtime;
    const insns = vm.core.instructions;
    // The spin loop runs well above the old nominal 100 MIPS: the old clock would have shown
    // insns / 10 ticks, more than the host's.
    assert.ok(insns / 10n > hostTicks, `the loop ran ${insns} instructions in ${hostTicks} host ticks: too slow to tell the clocks apart`);
    assert.ok(guestTicks <= hostTicks, `guest time ${guestTicks} ticks ran ahead of the host's ${hostTicks}`);
    // ...and keeps up with it: the host brings it level before each run.
    assert.ok(guestTicks >= hostTicksBefore, `guest time ${guestTicks} ticks fell behind the host's ${hostTicksBefore}`);
    await vm.dispose();
  });

  it('leaves deterministic time at one tick per 10 instructions', async () => {
    const vm = await spinner('deterministic');
    vm.runUntil({ maxInsns: 1_000_000n, maxMs: Infinity });
    assert.equal(vm.core.insnsPerTick, 10);
    assert.equal(vm.core.mtime, vm.core.instructions / 10n);
    await vm.dispose();
  });

  it('keeps mtime across a machine state, whichever mode took it', async () => {
    const rt = await spinner('realtime');
    rt.runUntil({ maxMs: 30 });
    assert.equal(rt.core.insnsPerTick, 1024);
    const state = await rt.captureState();
    const det = await spinner('deterministic');
    // The realtime machine's scalars, read as deterministic time reads them, give its mtime.
    det.applyState({ ...state, shape: det.shape });
    assert.equal(det.core.mtime, state.mtime);
    const back = await spinner('realtime');
    back.applyState(state);
    assert.ok(back.core.mtime >= state.mtime, 'a realtime restore goes on from the state\'s time');
    for (const v of [rt, det, back]) await v.dispose();
  });
});
