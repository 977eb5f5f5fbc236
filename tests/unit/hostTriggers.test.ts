// A debugger's hardware breakpoints and watchpoints (host triggers, Core.setHostTrigger), on
// the trigger ISA test program: a watchpoint stops before each matching access and the
// access has not happened; resuming runs it once; the guest's own triggers (which the
// program tests) still work around them, so the program still passes. A stop counts no
// instruction: the guest cannot tell it was watched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { elfLoader } from '../../src/boot/bareMetal.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { RAM_BASE } from '../../src/machine/Core.ts';
import { Vm, type RunOutcome } from '../../src/machine/Vm.ts';
import { loopingVm } from '../gdb/loopingGuest.ts';

const isaDir = fileURLToPath(new URL('../isa/', import.meta.url));
execFileSync('node', [`${isaDir}build.mjs`], { stdio: 'inherit' });
const elf = ElfImage.parse(new Uint8Array(readFileSync(fileURLToPath(new URL('../../build/isa/priv_trigger.elf', import.meta.url)))));
const symbol = (name: string): bigint => {
  const v = elf.symbols.get(name);
  assert.ok(v !== undefined, `${name} in priv_trigger.elf`);
  return v;
};

async function newVm(): Promise<Vm> {
  return Vm.create(await loadCoreModule(), { ramBytes: 16 << 20, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false });
}

function run(vm: Vm): RunOutcome {
  return vm.runUntil({ maxInsns: 2_000_000n, maxMs: Infinity, idle: 'skip' });
}

const word = (vm: Vm, pa: bigint): number => new DataView(vm.core.ram.buffer, vm.core.ram.byteOffset).getUint32(Number(pa - RAM_BASE), true);

describe('host triggers', () => {
  it('stop before every store to a watched doubleword, which has not happened yet, and resume past it', async () => {
    const vm = await newVm();
    const data1 = symbol('data1');
    vm.core.setHostTrigger(0, { store: true, address: data1, length: 8 });
    let stops = 0;
    let changed = 0;
    let o = run(vm);
    while (o.kind === 'debug') {
      assert.equal(o.reason, 'watchpoint');
      assert.ok(o.kind === 'debug' && o.reason === 'watchpoint' && o.address >= data1 && o.address < data1 + 8n, `address of ${JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      const insn = word(vm, vm.core.pc);
      const opcode = (insn & 3) === 3 ? insn & 0x7f : -1;
      assert.ok(opcode === 0x23 || (insn & 3) !== 3, `pc 0x${vm.core.pc.toString(16)} holds a store (0x${insn.toString(16)})`);
      stops++;
      // A 32-bit sw/sd: what it will write is rs2; until resumed, memory holds the old value.
      const before = word(vm, o.address);
      const rs2 = vm.core.getX((insn >> 20) & 31) & 0xffff_ffffn;
      vm.core.resumeFromBreakpoint();
      if ((insn & 3) === 3 && Number(rs2) !== before) {
        changed++;
        assert.equal(word(vm, o.address), before, 'the store has not happened at the stop');
        const traps = vm.core.trapCount;
        const step = vm.runUntil({ maxInsns: 1n, maxMs: Infinity });
        assert.equal(step.kind, 'budget', 'resumed, the store runs without stopping again');
        if (vm.core.trapCount === traps) assert.equal(word(vm, o.address), Number(rs2), 'and writes');
        else assert.equal(vm.core.lastTrap.cause, 3n, "or the guest's own store trigger takes it first");
      }
      o = run(vm);
    }
    assert.deepEqual(o, { kind: 'poweroff', by: 'htif', value: 1n }, 'the program passes: its own triggers fired as without the host');
    assert.ok(stops >= 4, `${stops} stores to data1 stopped`);
    assert.ok(changed >= 1, 'at least one stop was before a store that changes memory');
    await vm.dispose();
  });

  it('stop a single step over a watched store, though every step resumes first (as gdb stepi does)', async () => {
    // GdbStub resumes (resumeFromBreakpoint) before every step and continue, stopped at a
    // watchpoint or not: only the access a watchpoint stopped before may pass, once.
    const vm = await newVm();
    const data1 = symbol('data1');
    vm.core.setHostTrigger(0, { store: true, address: data1, length: 8 });
    let o: RunOutcome = { kind: 'budget' };
    let steps = 0;
    for (; steps < 2_000_000 && o.kind === 'budget'; steps++) {
      vm.core.resumeFromBreakpoint();
      o = vm.runUntil({ maxInsns: 1n, maxMs: Infinity, idle: 'skip' });
    }
    assert.ok(o.kind === 'debug' && o.reason === 'watchpoint' && o.address >= data1 && o.address < data1 + 8n, `after ${steps} steps: ${o.kind}`);
    vm.core.resumeFromBreakpoint();
    assert.equal(vm.runUntil({ maxInsns: 1n, maxMs: Infinity, idle: 'skip' }).kind, 'budget', 'resumed from its own stop, the store runs');
    await vm.dispose();
  });

  for (const jit of ['off', 'eager'] as const) it(`count no instruction at a watchpoint stop: the guest sees what it would without the debugger (--jit ${jit})`, async () => {
    // The loop: addi a0; addi a1; sw a0, 256(t0); j. Stopped before the store, two
    // instructions have run, not three; resumed, the store runs and counts once.
    const watched = await loopingVm({ jit });
    watched.core.setHostTrigger(0, { store: true, address: RAM_BASE + 256n, length: 4 });
    const counts: bigint[] = [];
    for (let stop = 0; stop < 50; stop++) {
      const o = watched.runUntil({ maxInsns: 1000n - watched.core.instructions, maxMs: Infinity });
      if (o.kind !== 'debug') break;
      assert.equal(watched.core.pc, RAM_BASE + 8n, 'stopped before the store');
      counts.push(watched.core.instructions);
      watched.core.resumeFromBreakpoint();
    }
    assert.deepEqual(counts.slice(0, 3), [2n, 6n, 10n]);
    watched.core.setHostTrigger(0, undefined);
    watched.runUntil({ maxInsns: 1000n - watched.core.instructions, maxMs: Infinity });
    const plain = await loopingVm({ jit });
    plain.runUntil({ maxInsns: 1000n, maxMs: Infinity });
    for (const vm of [watched, plain]) assert.equal(vm.core.instructions, 1000n);
    assert.equal(watched.core.csr(0xb02), plain.core.csr(0xb02), 'minstret');
    assert.equal(watched.core.getX(10), plain.core.getX(10), 'a0: the passes of the loop');
    assert.equal(watched.core.pc, plain.core.pc);
    await watched.dispose();
    await plain.dispose();
  });

  it('stop before an instruction (hardware breakpoint) and, cleared, no more', async () => {
    const vm = await newVm();
    const entry = symbol('test_main');
    vm.core.setHostTrigger(3, { execute: true, address: entry });
    const o = run(vm);
    assert.deepEqual(o, { kind: 'debug', reason: 'breakpoint' });
    assert.equal(vm.core.pc, entry);
    vm.core.resumeFromBreakpoint();
    vm.core.setHostTrigger(3, undefined);
    assert.deepEqual(run(vm), { kind: 'poweroff', by: 'htif', value: 1n });
    await vm.dispose();
  });

  it('reject a slot that does not exist', async () => {
    const vm = await newVm();
    assert.throws(() => vm.core.setHostTrigger(4, { load: true, address: 0x8000_0000n }), RangeError);
    assert.throws(() => vm.core.setHostTrigger(0, { load: true, address: 0x8000_0000n, length: 0 }), RangeError);
    await vm.dispose();
  });
});
