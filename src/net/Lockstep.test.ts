// The lockstep rule that the CLI and the page share: frames cross only at a quantum's end,
// stamped with its guest time, in port order; a guest runs exactly to the boundary (its time
// jumps there when idle with nothing armed, disk work is awaited), and a hook can stop it
// short, to go on later to the same boundary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunOptions, RunOutcome, Vm } from '../machine/Vm.ts';
import { Lockstep, PcapWriter, QUANTUM_TICKS, macFromName, runToBoundary, ticksToUs } from './index.ts';

function frame(dst: string, src: string, tag: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(macFromName(dst), 0);
  f.set(macFromName(src), 6);
  f[12] = 0x88; // a local experimental EtherType: the services ignore it
  f[13] = 0xb5;
  f[14] = tag;
  return f;
}

/**
 * A guest as runToBoundary sees it: `script` gives each run's outcome and how many
 * instructions it took; time is instructions / 10 (INSNS_PER_TICK).
 */
function fakeGuest(script: (opts: RunOptions) => { outcome: RunOutcome; insns: bigint }, work?: () => Promise<void> | undefined) {
  const core = {
    instructions: 0n,
    insnsPerTick: 10,
    bias: 0n,
    get mtime() {
      return this.bias + this.instructions / 10n;
    },
    syncTime(t: bigint) {
      this.bias = t - this.instructions / 10n;
    },
  };
  const runs: RunOptions[] = [];
  const vm = {
    core,
    hasPendingInput: false,
    completions: { pending: 0 },
    pendingWork: () => work?.(),
    runUntil(opts: RunOptions) {
      runs.push(opts);
      const r = script(opts);
      core.instructions += r.insns;
      return r.outcome;
    },
  };
  return { vm: vm as unknown as Vm, core, runs };
}

const hooksFor = (vm: Vm, after: (o: RunOutcome, settled: boolean) => boolean = () => false) => ({
  run: (o: RunOptions) => vm.runUntil(o),
  after,
  turn: () => Promise.resolve(),
});

describe('Lockstep', () => {
  it('moves frames only at the quantum end, stamped with that guest time, and hands them over with the next quantum', () => {
    const ls = new Lockstep(5n);
    assert.equal(ls.boundary, QUANTUM_TICKS, 'quanta end on multiples of QUANTUM_TICKS');
    assert.equal(new Lockstep(3n * QUANTUM_TICKS).boundary, 4n * QUANTUM_TICKS);
    const a = ls.join('alpha');
    const b = ls.join('beta');
    const stamps: number[] = [];
    const pcap = new PcapWriter(() => {});
    ls.sw.tap((f, us) => {
      stamps.push(us);
      pcap.write(f, us);
    });
    a.send(frame('beta', 'alpha', 1));
    a.send(frame('beta', 'alpha', 2));
    assert.deepEqual(b.takeInbox(), [], 'nothing crosses during the quantum');
    ls.cross();
    assert.equal(ls.boundary, 2n * QUANTUM_TICKS);
    assert.deepEqual(b.takeInbox().map((f) => f[14]), [1, 2]);
    assert.deepEqual(b.takeInbox(), [], 'the inbox is emptied');
    assert.deepEqual(stamps, [ticksToUs(QUANTUM_TICKS), ticksToUs(QUANTUM_TICKS)]);
    assert.equal(ticksToUs(15_000_000n), 1_500_000);
    b.send(frame('alpha', 'beta', 3));
    b.detach();
    ls.cross();
    assert.deepEqual(a.takeInbox(), [], 'a detached port sends nothing');
  });
});

describe('runToBoundary', () => {
  it('runs a busy guest exactly to the boundary, one run capped at the instructions left', async () => {
    const { vm, core, runs } = fakeGuest((o) => ({ outcome: { kind: 'budget' }, insns: o.maxInsns! }));
    core.instructions = 7n; // not on a tick: the cap counts the partial tick
    assert.equal(await runToBoundary(vm, 100n, hooksFor(vm)), true);
    assert.equal(core.mtime, 100n);
    assert.equal(core.instructions, 1000n);
    assert.deepEqual(runs, [{ maxInsns: 993n, timeLimit: 100n }]);
  });

  it('an idle guest with nothing armed jumps to the boundary; one waiting for disk work awaits it first', async () => {
    let pending: Promise<void> | undefined = Promise.resolve();
    let awaited = 0;
    const { vm, core } = fakeGuest(
      () => ({ outcome: { kind: 'idle', wakeInMs: undefined }, insns: 5n }),
      () => {
        const p = pending;
        pending = undefined;
        if (p) awaited++;
        return p;
      },
    );
    const settled: boolean[] = [];
    assert.equal(await runToBoundary(vm, 50n, hooksFor(vm, (_, s) => (settled.push(s), false))), true);
    assert.equal(awaited, 1, 'the disk work was awaited, not jumped over');
    assert.equal(core.mtime, 50n);
    assert.deepEqual(settled, [true, true]);
  });

  it('a hook stops the guest short of the boundary; called again it goes on to the same boundary', async () => {
    const { vm, core } = fakeGuest(() => ({ outcome: { kind: 'running' }, insns: 100n }));
    let stopAt = 3;
    const after = () => --stopAt === 0;
    assert.equal(await runToBoundary(vm, 100n, hooksFor(vm, after)), false);
    assert.equal(core.mtime, 30n);
    assert.equal(await runToBoundary(vm, 100n, hooksFor(vm)), true);
    assert.equal(core.mtime, 100n);
    const stopped = fakeGuest(() => ({ outcome: { kind: 'running' }, insns: 10n }));
    assert.equal(await runToBoundary(stopped.vm, 100n, { ...hooksFor(stopped.vm), run: () => undefined }), false, 'a fault stops it');
  });
});
