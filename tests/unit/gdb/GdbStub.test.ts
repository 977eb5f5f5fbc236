// The gdb stub's protocol, packet by packet, on a guest that loops forever: framing and
// acks, the target description, registers, memory through the stub, breakpoints up to the
// core's slots, Ctrl-C while the guest runs, and what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GdbStub } from '../../../src/gdb/GdbStub.ts';
import { framePacket, RspFraming } from '../../../src/gdb/RspFraming.ts';
import { RAM_BASE } from '../../../src/machine/Core.ts';
import { loopingVm } from '../../gdb/loopingGuest.ts';

async function setup(jit: 'off' | 'eager' = 'off', harts = 1) {
  const vm = await loopingVm({ jit, harts });
  const sent: string[] = [];
  let killed = false;
  const stub = new GdbStub(vm, { send: (b) => sent.push(Buffer.from(b).toString('latin1')), kill: () => (killed = true) }, { startHalted: true });
  stub.attach();
  /** Sends one packet, returns the stub's replies (packet bodies, acks dropped). */
  const ask = (data: string): string[] => {
    sent.length = 0;
    stub.receive(framePacket(data));
    return sent.filter((s) => s !== '+').map((s) => new RspFraming().feed(Buffer.from(s, 'latin1')).map((e) => (e.kind === 'packet' ? e.data : `<${e.kind}>`)).join(''));
  };
  /** The host's run loop, for a few slices: returns the stub's replies. */
  const runHost = (slices = 4): string[] => {
    sent.length = 0;
    for (let i = 0; i < slices && !stub.halted; i++) stub.afterRun(vm.runUntil({ maxInsns: 1000n, maxMs: Infinity }));
    return sent.map((s) => new RspFraming().feed(Buffer.from(s, 'latin1')).map((e) => (e.kind === 'packet' ? e.data : '')).join(''));
  };
  return { vm, stub, ask, runHost, sent, isKilled: () => killed };
}

const le64 = (v: bigint) => Buffer.from(new BigUint64Array([v]).buffer).toString('hex');

describe('GdbStub', () => {
  it('acks packets, asks for a resend on a bad checksum, and stops acking in no-ack mode', async () => {
    const { stub, sent } = await setup();
    stub.receive(Buffer.from('$qC#00', 'latin1'));
    assert.deepEqual(sent, ['-']);
    sent.length = 0;
    stub.receive(framePacket('QStartNoAckMode'));
    assert.equal(sent[0], '+');
    sent.length = 0;
    stub.receive(framePacket('qC'));
    assert.deepEqual(sent, [Buffer.from(framePacket('QC1')).toString('latin1')]);
  });

  it('serves riscv:rv64 target.xml in chunks, with the CSRs the hart has', async () => {
    const { ask } = await setup();
    assert.match(ask('qSupported:multiprocess+;swbreak+')[0]!, /qXfer:features:read\+/);
    let xml = '';
    for (let off = 0; ; off += 100) {
      const [r] = ask(`qXfer:features:read:target.xml:${off.toString(16)},64`);
      xml += r!.slice(1);
      if (r![0] === 'l') break;
      assert.equal(r![0], 'm');
    }
    assert.match(xml, /<architecture>riscv:rv64<\/architecture>/);
    assert.match(xml, /<reg name="mstatus" bitsize="64" regnum="833"/); // 65 + 0x300
    assert.match(xml, /<reg name="fcsr" bitsize="32" regnum="68"/);
    assert.match(xml, /<reg name="pc" bitsize="64" regnum="32" type="code_ptr"\/>/);
    assert.ok(xml.endsWith('</target>'));
    assert.deepEqual(ask('qXfer:features:read:other.xml:0,10'), ['E00']);
  });

  it('reads and writes registers, and reads memory by address', async () => {
    const { vm, ask } = await setup();
    const g = ask('g')[0]!;
    assert.equal(g.length, 33 * 16);
    assert.equal(g.slice(32 * 16), le64(RAM_BASE));
    assert.deepEqual(ask(`P${(10).toString(16)}=${le64(41n)}`), ['OK']);
    assert.equal(vm.core.getX(10), 41n);
    assert.deepEqual(ask('p20'), [le64(RAM_BASE)]); // pc
    assert.deepEqual(ask(`p${(65 + 0xf14).toString(16)}`), [le64(0n)]); // mhartid
    assert.deepEqual(ask(`p${(33).toString(16)}`), [le64(0n)]); // f0
    assert.deepEqual(ask(`p${(65 + 0x7ff).toString(16)}`), ['E02']); // no such CSR in the description
    assert.deepEqual(ask(`m${RAM_BASE.toString(16)},8`), ['13051500' + '93852500']);
    assert.deepEqual(ask(`M${(RAM_BASE + 0x200n).toString(16)},2:abcd`), ['OK']);
    assert.equal(vm.core.ram[0x200], 0xab);
    assert.deepEqual(ask('m10000000,4'), ['E14'], 'the UART is a device: not read');
    assert.deepEqual(ask('m1000,4').map((r) => r.length), [8], 'the reset ROM is');
  });

  it('writes FP registers, CSRs and priv through the core, with their effects, and refuses read-only ones', async () => {
    const { vm, ask } = await setup();
    const csr = (n: number) => (65 + n).toString(16);
    const MSTATUS_FS = 3n << 13n;
    assert.equal(vm.core.csr(0x300)! & MSTATUS_FS, 0n, 'FP is Off at reset');
    assert.deepEqual(ask(`P${(33 + 7).toString(16)}=${le64(0x4009_21fb_5444_2d18n)}`), ['OK']); // f7 = pi
    assert.deepEqual(ask(`p${(33 + 7).toString(16)}`), [le64(0x4009_21fb_5444_2d18n)]);
    assert.equal(vm.core.csr(0x300)! & MSTATUS_FS, 0n, 'a debugger write does not turn FP on');
    assert.deepEqual(ask(`p${csr(1)}`), ['xxxxxxxx'], 'fflags: unavailable while FS is Off');
    assert.deepEqual(ask(`P${csr(1)}=01000000`), ['E02'], 'nor writable');
    assert.deepEqual(ask(`P${csr(0x300)}=${le64(1n << 13n)}`), ['OK']); // mstatus.FS = Initial
    assert.deepEqual(ask(`P${csr(3)}=${le64(0x85n).slice(0, 8)}`), ['OK']); // fcsr: frm 4, NX
    assert.deepEqual(ask(`p${csr(2)}`), ['04000000']); // frm
    assert.equal(vm.core.csr(0x300)! & MSTATUS_FS, MSTATUS_FS, 'an FP CSR write makes FS Dirty');
    assert.deepEqual(ask(`P${(33).toString(16)}=${le64(5n)}`), ['OK']);
    assert.deepEqual(ask(`P${csr(0x340)}=${le64(0x1234_5678_9abc_def0n)}`), ['OK']); // mscratch
    assert.equal(vm.core.csr(0x340), 0x1234_5678_9abc_def0n);
    assert.deepEqual(ask(`P${csr(0x305)}=${le64(RAM_BASE + 0x403n)}`), ['OK']); // mtvec: mode 3 is reserved
    assert.equal(vm.core.csr(0x305), RAM_BASE + 0x401n, 'WARL as for the guest');
    assert.deepEqual(ask(`P${csr(0xf14)}=${le64(7n)}`), ['E02'], 'mhartid is read-only');
    assert.deepEqual(ask(`P${csr(0xc01)}=${le64(7n)}`), ['E02'], 'time is read-only');
    assert.deepEqual(ask(`P${csr(0x340)}=1234`), ['E01'], 'a CSR is 8 bytes');
    const before = vm.core.csr(0xb02)!;
    assert.deepEqual(ask(`P${csr(0xb02)}=${le64(1000n)}`), ['OK']); // minstret
    assert.equal(vm.core.csr(0xb02), 1000n, 'nothing retired between the write and the read');
    assert.notEqual(before, 1000n);
    assert.deepEqual(ask(`P1041=${le64(1n)}`), ['OK']); // priv = S
    assert.equal(vm.core.priv, 1);
    assert.deepEqual(ask('p1041'), [le64(1n)]);
    assert.deepEqual(ask(`P1041=${le64(2n)}`), ['E02'], 'no H-mode');
    assert.equal(vm.core.priv, 1);
    // The guest then runs in S-mode: its loop has no privileged instruction, it keeps going.
    assert.deepEqual(ask('s'), ['T05thread:1;']);
    assert.equal(vm.core.priv, 1);
  });

  it("reads and writes a waiting hart's registers and CSRs (the thread gdb selected)", async () => {
    const { vm, ask, runHost, stub } = await setup('off', 3);
    ask('c');
    runHost(20);
    stub.receive(Uint8Array.of(0x03));
    const stop = runHost(1)[0]!;
    const live = vm.core.currentHart;
    assert.equal(stop, `T02thread:${live + 1};`);
    const other = (live + 1) % 3;
    const a0Live = vm.core.getX(10);
    assert.deepEqual(ask(`Hg${(other + 1).toString(16)}`), ['OK']);
    const g = ask('g')[0]!;
    assert.doesNotMatch(g, /x/, 'every register is available');
    assert.equal(g.slice(5 * 16, 6 * 16), le64(RAM_BASE), "the other hart's t0");
    assert.equal(g.slice(32 * 16), le64(vm.core.hartStates()[other]!.pc));
    assert.deepEqual(ask(`p${(65 + 0xf14).toString(16)}`), [le64(BigInt(other))], "its mhartid, not the live hart's");
    assert.deepEqual(ask(`P${(65 + 0x340).toString(16)}=${le64(0xabcn)}`), ['OK']); // its mscratch
    assert.deepEqual(ask(`P${(33 + 3).toString(16)}=${le64(0x3ff0_0000_0000_0000n)}`), ['OK']); // its f3 = 1.0
    assert.deepEqual(ask(`Pa=${le64(0x55n)}`), ['OK']); // its a0
    assert.equal(vm.core.currentHart, live, 'the live hart stays live');
    assert.equal(vm.core.getX(10), a0Live);
    assert.equal(vm.core.csr(0x340), 0n, "the live hart's mscratch is untouched");
    assert.equal(vm.core.hartCsr(other, 0x340), 0xabcn);
    assert.equal(vm.core.hartF(other, 3), 0x3ff0_0000_0000_0000n);
    assert.equal(vm.core.hartX(other, 10), 0x55n);
    assert.deepEqual(ask(`Hg${(live + 1).toString(16)}`), ['OK']);
    assert.deepEqual(ask('pa'), [le64(a0Live)]);
    // A stop reply makes the stopped hart the one register packets mean (gdb sends no Hg).
    assert.deepEqual(ask(`Hg${(other + 1).toString(16)}`), ['OK']);
    assert.deepEqual(ask('s'), [`T05thread:${vm.core.currentHart + 1};`]);
    assert.deepEqual(ask('p20'), [le64(vm.core.pc)]);
  });

  it('continues, stops at breakpoints (the pc one and four triggers) and refuses a sixth', async () => {
    const { vm, ask, runHost } = await setup();
    const at = (i: number) => (RAM_BASE + BigInt(4 * i)).toString(16);
    assert.deepEqual(ask(`Z0,${at(2)},4`), ['OK']);
    assert.deepEqual(ask('c'), []);
    assert.deepEqual(runHost(), ['T05thread:1;']);
    assert.equal(vm.core.pc, RAM_BASE + 8n);
    for (const i of [1, 3, 4, 5]) assert.deepEqual(ask(`Z1,${at(i)},4`), ['OK']);
    assert.deepEqual(ask(`Z0,${at(6)},4`), ['E28']);
    assert.deepEqual(ask('c'), []);
    assert.deepEqual(runHost(), ['T05thread:1;']);
    assert.equal(vm.core.pc, RAM_BASE + 12n);
    assert.deepEqual(ask(`z1,${at(3)},4`), ['OK']);
    assert.deepEqual(ask(`z0,${at(2)},4`), ['OK']);
    assert.deepEqual(ask('vCont;c'), []);
    assert.deepEqual(runHost(), ['T05thread:1;']);
    assert.equal(vm.core.pc, RAM_BASE + 4n);
    const a0 = vm.core.getX(10);
    assert.deepEqual(ask('s'), ['T05thread:1;']);
    assert.equal(vm.core.pc, RAM_BASE + 8n);
    assert.equal(vm.core.getX(10), a0, 'the step ran addi a1, not addi a0 again');
  });

  it('stops before a watched store with the address, and on Ctrl-C while running', async () => {
    const { vm, stub, ask, runHost } = await setup();
    const word = RAM_BASE + 0x100n;
    assert.deepEqual(ask(`Z2,${word.toString(16)},4`), ['OK']);
    ask('c');
    assert.deepEqual(runHost(), [`T05watch:${word.toString(16)};thread:1;`]);
    assert.equal(vm.core.pc, RAM_BASE + 8n, 'at the store, which has not run');
    assert.deepEqual(ask(`z2,${word.toString(16)},4`), ['OK']);
    ask('c');
    assert.deepEqual(runHost(2), [], 'runs on: nothing to stop it');
    assert.equal(stub.halted, false);
    stub.receive(Uint8Array.of(0x03));
    assert.deepEqual(runHost(1), ['T02thread:1;']);
    assert.equal(stub.halted, true);
  });

  it('patches code that the JIT has translated: the guest then runs the new instruction', async () => {
    const { vm, stub, ask, runHost } = await setup('eager');
    // The loop's store goes to another page, or it would keep its own page from being translated.
    assert.deepEqual(ask(`P5=${le64(RAM_BASE + 0x10000n)}`), ['OK']);
    ask('c');
    runHost(3);
    stub.receive(Uint8Array.of(0x03));
    assert.deepEqual(runHost(1), ['T02thread:1;']);
    assert.ok(vm.core.jitStats().compiles > 0, 'the loop was translated');
    // addi a1, a1, 5 in place of addi a1, a1, 2 (little-endian bytes of 0x00558593)
    assert.deepEqual(ask(`M${(RAM_BASE + 4n).toString(16)},4:93855500`), ['OK']);
    // No breakpoint (a page with one is never translated): run, stop with Ctrl-C, compare.
    const a0 = vm.core.getX(10);
    const a1 = vm.core.getX(11);
    ask('c');
    runHost(3);
    stub.receive(Uint8Array.of(0x03));
    assert.deepEqual(runHost(1), ['T02thread:1;']);
    const loops = vm.core.getX(10) - a0;
    assert.ok(loops > 100n, `${loops} loops ran`);
    const added = vm.core.getX(11) - a1;
    assert.ok(added >= 5n * loops - 5n && added <= 5n * loops + 5n, `a1 grew by ${added} in ${loops} loops: by 5 each, as patched`);
  });

  it('detaches (the guest runs on without breakpoints) and kills', async () => {
    const { vm, stub, ask, runHost, isKilled } = await setup();
    ask(`Z0,${(RAM_BASE + 4n).toString(16)},4`);
    assert.deepEqual(ask('D'), ['OK']);
    assert.equal(stub.halted, false);
    assert.equal(stub.attached, false);
    const before = vm.core.instructions;
    assert.deepEqual(runHost(2), []);
    assert.ok(vm.core.instructions > before + 100n);
    stub.attach();
    ask('k');
    assert.ok(isKilled());
  });
});
