// The inspector's view of the JIT on a real core running a loop: the page warms up with the
// heat the core counts, becomes compiled code with its blocks, and the pc's tier follows —
// and building the view changes nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RAM_BASE } from '../../src/machine/Core.ts';
import { jitView } from '../../src/machine/jitView.ts';
import type { Vm } from '../../src/machine/Vm.ts';
import { VmInspector } from '../../src/machine/VmInspector.ts';
import { loopingVm } from '../gdb/loopingGuest.ts';
import type { JitMode } from '../../src/jit/Jit.ts';

/** The four-instruction loop at RAM_BASE, storing into another page (a store into its own page would keep discarding its code). */
function loop(jit: JitMode): Promise<Vm> {
  return loopingVm({ jit, load: (core) => core.setHartX(0, 5, RAM_BASE + 0x10000n) });
}

/** The view as the worker builds it: the pc's physical address from the inspector's page walk. */
function view(vm: Vm, breakpoint?: bigint) {
  const inspector = new VmInspector(vm);
  return jitView(vm.core, inspector.explain(vm.core.pc, 'fetch').translation.pa, breakpoint);
}

/** Runs to `total` instructions since reset; a multiple of 4 leaves pc at the loop's start. */
function runTo(vm: Vm, total: bigint): void {
  while (vm.core.instructions < total) vm.runUntil({ maxInsns: total - vm.core.instructions, maxMs: 1000 });
  assert.equal(vm.core.instructions, total);
}

describe('jitView', () => {
  it('auto: the loop page warms up, then runs compiled from its block; the view is read-only', async () => {
    const vm = await loop('auto');
    runTo(vm, 40_000n);
    let v = view(vm);
    assert.equal(v.mode, 'auto');
    // auto's threshold is the JIT's to tune; the loop's page must not reach it in 40,000 instructions.
    assert.ok(v.threshold > 20_000, `threshold ${v.threshold}`);
    assert.equal(v.pc.pc, RAM_BASE);
    assert.equal(v.pc.tier, 'interpreter');
    assert.match(v.pc.why, new RegExp(`warming up: heat [\\d,]+ of ${v.threshold.toLocaleString('en')}`));
    assert.ok(v.pc.heat! >= 9_000 && v.pc.heat! <= 10_100, `about one heat per pass (a taken jump): ${v.pc.heat}`);
    assert.deepEqual(v.hot[0], { pa: RAM_BASE, heat: v.pc.heat });
    assert.equal(v.compiled.length, 0);

    // Past the threshold: one heat per pass of four instructions (a taken jump).
    const hot = BigInt(v.threshold) * 8n;
    runTo(vm, hot);
    const stats = JSON.stringify(vm.core.jitStats());
    v = view(vm);
    assert.equal(JSON.stringify(vm.core.jitStats()), stats, 'building the view compiled, ran or counted nothing');
    assert.equal(vm.core.instructions, hot);
    assert.ok(v.stats.compiles >= 1 && v.stats.jitInsns > 1_000_000, JSON.stringify(v.stats));
    assert.equal(v.instructions, hot);
    assert.equal(v.compiled[0]!.pa, RAM_BASE);
    assert.ok(v.compiled[0]!.blocks.includes(0));
    assert.ok(v.compiled[0]!.bytes > 0);
    assert.ok(!v.hot.some((h) => h.pa === RAM_BASE), 'a page with code is not listed as warming');
    assert.equal(v.pc.tier, 'compiled');
    assert.deepEqual(v.pc.block, { index: v.compiled[0]!.blocks.indexOf(0), of: v.compiled[0]!.blocks.length });
    assert.match(v.pc.why, /compiled code runs from here/);
    assert.ok(v.maxPages >= v.stats.pages && v.maxBytes >= v.stats.bytes && v.maxPages > 0, 'the caps are above what is alive');

    // Mid-block (pc after the loop's first instruction): the interpreter runs to the next block start.
    runTo(vm, hot + 1n);
    v = view(vm);
    assert.equal(v.pc.pc, RAM_BASE + 4n);
    assert.equal(v.pc.tier, v.compiled[0]!.blocks.includes(4) ? 'compiled' : 'interpreter');
    if (v.pc.tier === 'interpreter') assert.match(v.pc.why, /not where one starts/);

    // A breakpoint in the page keeps it in the interpreter.
    v = view(vm, RAM_BASE + 0x8n);
    assert.equal(v.pc.tier, 'interpreter');
    assert.match(v.pc.why, /breakpoint/);
  });

  it('eager: the page has code after its first run', async () => {
    const vm = await loop('eager');
    runTo(vm, 400n);
    const v = view(vm);
    assert.equal(v.threshold, 1);
    assert.equal(v.compiled[0]?.pa, RAM_BASE);
    assert.equal(v.pc.tier, 'compiled');
  });

  it('off: the interpreter runs everything and no page heats', async () => {
    const vm = await loop('off');
    runTo(vm, 40_000n);
    const v = view(vm);
    assert.equal(v.threshold, 0);
    assert.deepEqual(v.hot, []);
    assert.deepEqual(v.compiled, []);
    assert.equal(v.pc.tier, 'interpreter');
    assert.match(v.pc.why, /JIT is off/);
  });

  it('outside RAM and unmapped pcs are named as such', async () => {
    const vm = await loop('auto');
    assert.match(jitView(vm.core, 0x1000n, undefined).pc.why, /outside RAM/);
    assert.match(jitView(vm.core, undefined, undefined).pc.why, /does not map/);
  });
});
