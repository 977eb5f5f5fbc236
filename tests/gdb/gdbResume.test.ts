// How the gdb stub resumes a machine of several harts, packet by packet (the GDB manual's
// "vCont packet", as QEMU's system-mode stub takes it): each hart follows the leftmost
// action naming it or naming no thread, harts without one stay where they are, a step is
// one instruction of its hart alone, and guest time stands still while the debugger holds
// the guest. The guest is the looping program of loopingGuest.ts on three harts: a0 counts
// each hart's passes, so it shows exactly which harts ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GdbStub } from '../../src/gdb/GdbStub.ts';
import { framePacket, RspFraming } from '../../src/gdb/RspFraming.ts';
import { RAM_BASE } from '../../src/machine/Core.ts';
import type { Vm } from '../../src/machine/Vm.ts';
import { loopingVm } from './loopingGuest.ts';

const A0 = 10;

/** A stub on `vm`, halted as with -S, and a function that sends one packet and returns the reply packets. */
function debug(vm: Vm) {
  const replies: string[] = [];
  const framing = new RspFraming();
  const stub = new GdbStub(vm, {
    send: (b) => {
      for (const ev of framing.feed(b)) if (ev.kind === 'packet') replies.push(ev.data);
    },
    kill: () => {},
  }, { startHalted: true });
  stub.attach();
  stub.receive(framePacket('QStartNoAckMode'));
  replies.length = 0;
  const send = (packet: string): string[] => {
    replies.length = 0;
    stub.receive(framePacket(packet));
    return [...replies];
  };
  /** The host's loop: runs the guest while the stub lets it, `insns` at a time, `slices` times. */
  const run = (insns: number, slices = 1): string[] => {
    replies.length = 0;
    for (let i = 0; i < slices && !stub.halted; i++) {
      stub.beforeRun();
      stub.afterRun(vm.runUntil({ maxInsns: BigInt(insns), maxMs: Infinity }));
    }
    return [...replies];
  };
  /** Ctrl-C, then the host's next run turn, where the stub stops the guest. */
  const interrupt = (): string[] => {
    stub.receive(Uint8Array.of(0x03));
    return run(1);
  };
  return { stub, send, run, interrupt };
}

const pcs = (vm: Vm) => vm.core.hartStates().map((h) => h.pc - RAM_BASE);
const passes = (vm: Vm) => [0, 1, 2].map((h) => vm.core.hartX(h, A0));

describe('gdb resumes the harts it names, and only those', () => {
  it('vCont;s:N steps hart N - 1 by one instruction while the others stay', async () => {
    const vm = await loopingVm({ harts: 3 });
    const { send } = debug(vm);
    assert.deepEqual(send('vCont;s:2'), ['T05thread:2;']);
    assert.deepEqual(pcs(vm), [0n, 4n, 0n]);
    assert.deepEqual(send('vCont;s:3;c'), ['T05thread:3;'], 'the step wins; the continue of the others waits for it');
    assert.deepEqual(pcs(vm), [0n, 4n, 4n]);
    assert.deepEqual(send('vCont;c:1;s'), ['T05thread:2;'], 'hart 0 has its own action, so the default step falls to the first other');
    assert.deepEqual(pcs(vm), [0n, 8n, 4n]);
    // The legacy s steps the Hc hart.
    assert.deepEqual(send('Hc1'), ['OK']);
    assert.deepEqual(send('s'), ['T05thread:1;']);
    assert.deepEqual(pcs(vm), [4n, 8n, 4n]);
    assert.deepEqual(send('vCont;s:9'), ['E01'], 'no such thread');
    assert.deepEqual(send('vCont;x'), ['E01']);
    assert.deepEqual(pcs(vm), [4n, 8n, 4n]);
  });

  it('vCont;c:N runs only hart N - 1 until a stop; vCont;c runs them all again', async () => {
    const vm = await loopingVm({ harts: 3 });
    const { send, run, interrupt } = debug(vm);
    assert.deepEqual(send('vCont;c:3'), []);
    run(40_000);
    assert.deepEqual(interrupt(), ['T02thread:3;'], 'Ctrl-C stops it; the stop names the hart that ran');
    const [a, b, c] = passes(vm);
    assert.equal(a, 0n);
    assert.equal(b, 0n);
    // 40,000 instructions, and the one of the slice where Ctrl-C is taken: four per pass.
    assert.equal(c, 10_001n, 'hart 2 ran every instruction');
    // A breakpoint on the loop's store, with only hart 1 resumed: hart 1 reaches it.
    assert.deepEqual(send(`Z0,${(RAM_BASE + 8n).toString(16)},4`), ['OK']);
    assert.deepEqual(send('vCont;c:2'), []);
    assert.deepEqual(run(1000), ['T05thread:2;']);
    assert.deepEqual(pcs(vm), [0n, 8n, 4n], 'hart 2 is where Ctrl-C left it');
    assert.deepEqual(send(`z0,${(RAM_BASE + 8n).toString(16)},4`), ['OK']);
    // Everybody again: every hart gets its turns.
    assert.deepEqual(send('vCont;c'), []);
    run(3 * 4096 * 4);
    for (const p of passes(vm).slice(0, 2)) assert.ok(p > 1000n, `every hart ran: ${passes(vm)}`);
  });

  it('detach lets every hart run again', async () => {
    const vm = await loopingVm({ harts: 3 });
    const { stub, send, run, interrupt } = debug(vm);
    send('vCont;c:1');
    run(1000);
    interrupt();
    assert.deepEqual(passes(vm).slice(1), [0n, 0n]);
    send('D');
    assert.equal(stub.halted, false);
    run(3 * 4096 * 4);
    assert.ok(passes(vm).every((p) => p > 1000n), `every hart ran after detach: ${passes(vm)}`);
  });

  it('a step is the instruction at pc, not a pending interrupt\'s handler (QEMU\'s SSTEP_NOIRQ); a continue takes it', async () => {
    const vm = await loopingVm({ harts: 1 });
    const { send, run } = debug(vm);
    // A supervisor software interrupt, pending and enabled, taken in M (not delegated); the
    // "handler" is the loop itself, so running on after the trap stays well-defined.
    const handler = RAM_BASE;
    for (const [csr, v] of [[0x305, handler], [0x304, 2n], [0x344, 2n], [0x300, 8n]] as const) assert.ok(vm.core.setHartCsr(0, csr, v), `csr 0x${csr.toString(16)}`);
    assert.deepEqual(send('s'), ['T05thread:1;']);
    assert.equal(vm.core.pc, RAM_BASE + 4n, 'the step ran the addi at pc');
    assert.equal(vm.core.trapCount, 0n);
    send('c');
    run(1);
    assert.equal(vm.core.trapCount, 1n, 'running on, the interrupt is taken');
    assert.equal(vm.core.hartCsr(0, 0x342), (1n << 63n) | 1n, 'mcause: supervisor software interrupt');
    assert.equal(vm.core.hartCsr(0, 0x341), RAM_BASE + 4n, 'mepc: where the step left the hart');
  });

  it('stops guest time while the guest is held (realtime)', async () => {
    const vm = await loopingVm({ harts: 1, timeMode: 'realtime' });
    const { send, run, interrupt } = debug(vm);
    send('c');
    run(100_000, 3);
    interrupt();
    const held = vm.core.mtime;
    await new Promise((r) => setTimeout(r, 300));
    // A step, then a continue: neither may bring the 300 ms (3,000,000 ticks) in.
    send('s');
    assert.ok(vm.core.mtime - held < 10_000n, `a step after 300 ms held moved time by ${vm.core.mtime - held} ticks`);
    const stepped = vm.core.mtime;
    await new Promise((r) => setTimeout(r, 300));
    send('c');
    run(1);
    assert.ok(vm.core.mtime - stepped < 100_000n, `a continue after 300 ms held moved time by ${vm.core.mtime - stepped} ticks`);
  });
});
