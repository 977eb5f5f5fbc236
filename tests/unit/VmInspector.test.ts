// The teaching views' data on a real boot of the built-in images (OpenSBI, Linux, the
// initramfs shell): the timeline with host times, named trap counters, the decoded
// machine state, page walks over guest RAM, and the debugger's stops.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { formatTranslation } from '../../src/inspect/index.ts';
import { BOOT_STAGES } from '../../src/machine/Core.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import type { InspectorEvent } from '../../src/machine/InspectorTypes.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { TrapRateWindow } from '../../src/machine/TrapRateWindow.ts';
import { VmInspector } from '../../src/machine/VmInspector.ts';
import { loopingVm } from '../gdb/loopingGuest.ts';

const root = new URL('../../', import.meta.url);
const images = {
  firmware: readFileSync(new URL('roms/opensbi/fw_dynamic.bin', root)),
  kernel: gunzipSync(readFileSync(new URL('appliances/boot/Image.gz', root))),
  initrd: readFileSync(new URL('appliances/boot/initramfs.cpio.gz', root)),
  bootargs: 'console=ttyS0',
};

interface Guest {
  vm: Vm;
  inspector: VmInspector;
  console: () => string;
}

async function newGuest(): Promise<Guest> {
  const vm = await Vm.create(await loadCoreModule(), { ramBytes: 128 << 20, timeMode: 'deterministic', boot: linuxLoader(images) });
  let text = '';
  const sink = (b: Uint8Array) => (text += Buffer.from(b).toString('latin1'));
  vm.onConsole(sink);
  const inspector = new VmInspector(vm);
  return { vm, inspector, console: () => text };
}

/** The host's run loop: slices, with the inspector told after each; stops when `until` sees an event. */
function runUntil(g: Guest, until: (e: InspectorEvent) => boolean, maxSlices = 2000): InspectorEvent {
  for (let i = 0; i < maxSlices; i++) {
    g.inspector.beforeSlice(performance.now());
    const r = g.vm.run(16);
    const hit = g.inspector.afterSlice(performance.now()).find(until);
    if (hit) return hit;
    assert.ok(r.kind === 'running' || r.kind === 'idle', `the guest ended: ${r.kind}`);
  }
  throw new Error(`no matching event in ${maxSlices} slices; console:\n${g.console().slice(-500)}`);
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

describe('VmInspector on a booted Linux guest', () => {
  let g: Guest;
  before(async () => {
    g = await newGuest();
    runUntil(g, (e) => e.kind === 'stage' && e.stage === 'shell');
    // The prompt is printed before the shell waits for input, so it is there at the stage.
    for (let i = 0; i < 50 && !g.console().includes('~ # '); i++) g.vm.run(16);
  });

  it('has a timeline that reaches the shell with stages and host times in order', () => {
    const t = g.inspector.timeline();
    assert.deepEqual(t.stages.map((s) => s.stage), [...BOOT_STAGES]);
    assert.deepEqual(t.stages.map((s) => s.priv), ['M', 'M', 'S', 'S', 'U', 'U']);
    for (const s of t.stages) {
      assert.notEqual(s.instructions, undefined, `${s.stage} reached`);
      assert.equal(typeof s.wallMs, 'number', `${s.stage} has a host time`);
    }
    assert.equal(t.stages[0].instructions, 0n);
    assert.equal(t.stages[0].wallMs, 0);
    for (let i = 1; i < t.stages.length; i++) {
      const [a, b] = [t.stages[i - 1], t.stages[i]];
      assert.ok(b.instructions! > a.instructions!, `${b.stage} after ${a.stage} in instructions`);
      assert.ok(b.wallMs! > a.wallMs!, `${b.stage} (${b.wallMs} ms) after ${a.stage} (${a.wallMs} ms)`);
    }
    assert.ok(t.instructions >= t.stages[5].instructions!);
    assert.ok(t.wallMs >= t.stages[5].wallMs!);
    assert.match(g.console(), /~ # $/);
  });

  it('names the traps: system calls, SBI calls and timer interrupts, since boot and in the last second', () => {
    const s = g.inspector.traps(16);
    const by = new Map(s.counters.map((c) => [c.short, c]));
    assert.ok(by.get('ecall from U')!.sinceBoot > 0, 'system calls');
    assert.equal(by.get('ecall from U')!.name, 'Environment call from U-mode');
    assert.equal(by.get('ecall from U')!.kind, 'syscall');
    assert.ok(by.get('ecall from S')!.sinceBoot > 0, 'SBI calls into OpenSBI');
    // The kernel's tick comes from Sstc's stimecmp, straight to S-mode.
    assert.ok(by.get('S timer')!.sinceBoot > 0, 'supervisor timer interrupts');
    assert.equal(by.get('S timer')!.cause, (1n << 63n) | 5n);
    assert.equal(s.totalSinceBoot, Number(g.vm.core.lastTrap.count));
    for (const c of s.counters) assert.ok(c.lastSecond >= 0 && c.lastSecond <= c.sinceBoot, `${c.short}: ${c.lastSecond} of ${c.sinceBoot}`);
    assert.ok(s.windowMs > 0);
    assert.equal(s.recent.length, 16);
    const last = s.recent[15];
    assert.equal(last.cause, g.vm.core.lastTrap.cause);
    assert.ok(s.recent.every((t) => t.name.length > 0 && t.handledIn !== undefined), 'every recent trap went to the firmware or the kernel');
    const sbi = s.recent.find((t) => t.short === 'ecall from S');
    if (sbi) assert.equal(sbi.handledIn, 'M', 'an SBI call is handled by the firmware');
  });

  it('snapshots registers with ABI names and decodes satp as Sv39', () => {
    const snap = g.inspector.snapshot();
    assert.equal(snap.x.length, 32);
    assert.deepEqual(snap.x.slice(0, 4).map((r) => r.name), ['zero', 'ra', 'sp', 'gp']);
    assert.equal(snap.x[0].value, 0n);
    assert.equal(snap.f.length, 32);
    assert.equal(snap.f[10].name, 'fa0');
    assert.deepEqual(
      snap.csrs.map((c) => c.name),
      ['mstatus', 'sstatus', 'satp', 'mip', 'mie', 'mideleg', 'medeleg', 'mtvec', 'stvec', 'mepc', 'sepc', 'mcause', 'scause', 'mtval', 'stval'],
    );
    const satp = snap.csrs.find((c) => c.name === 'satp')!;
    assert.equal(satp.fields.find((f) => f.name === 'MODE')!.meaning, 'Sv39');
    const stvec = snap.csrs.find((c) => c.name === 'stvec')!;
    assert.equal(stvec.fields.find((f) => f.name === 'MODE')!.meaning, 'Direct');
    assert.ok(snap.tlb.length > 0, 'the TLB holds translations');
    assert.ok(snap.code.length > 0 && snap.code[0].pc === snap.pc, 'the code listing starts at pc');
    structuredClone(snap); // plain data: crosses a worker boundary as it is
  });

  it('explains a kernel address down to RAM, and faults on an unmapped user address', () => {
    const kernel = g.inspector.explain(0xffff_ffff_8000_0000n, 'fetch', 'S');
    const t = kernel.translation;
    assert.equal(t.mode, 'Sv39');
    assert.equal(t.fault, undefined, formatTranslation(t));
    assert.equal(t.pa, 0x8020_0000n, 'the kernel image is linked at 0xffffffff80000000 and loaded at 0x80200000');
    assert.equal(kernel.region?.name, 'RAM');
    assert.ok(t.levels.length >= 1 && t.levels.at(-1)!.kind === 'leaf');
    assert.ok(t.levels.at(-1)!.flags!.X, 'kernel text is executable');

    const user = g.inspector.explain(0x10n, 'load', 'U');
    assert.equal(user.translation.fault?.cause, 13, formatTranslation(user.translation));
    assert.equal(user.translation.fault?.tval, 0x10n);
    assert.equal(user.translation.fault?.reason, 'invalid');
    const store = g.inspector.explain(0x10n, 'store', 'U');
    assert.equal(store.translation.fault?.cause, 15);
  });

  it('runs to the next trap and stops at its handler, and to the next privilege change', async () => {
    const r = await g.inspector.stepUntilTrap();
    assert.equal(r.stop, 'trap');
    assert.ok(r.trap, 'the trap is reported');
    assert.equal(r.to.pc, r.trap!.handler, 'stopped at the handler, before it runs');
    assert.equal(g.vm.core.pc, r.trap!.handler);
    // The idle shell's timer ticks stay in S (Sstc); a key press wakes the shell in U.
    g.vm.sendInput('\n');
    const p = await g.inspector.runUntilPrivChange();
    assert.equal(p.stop, 'priv');
    assert.notEqual(p.to.priv, p.from.priv);
    assert.equal(p.instructions, g.vm.core.instructions);
  });
});

describe('VmInspector trap-log filter', () => {
  it('keeps a U-mode ecall and its return, and a page fault with its walk before and after, however many kernel traps come between', async () => {
    const g = await newGuest();
    runUntil(g, (e) => e.kind === 'stage' && e.stage === 'shell');
    for (let i = 0; i < 50 && !g.console().includes('~ # '); i++) g.vm.run(16);
    g.inspector.setTrapLogFilter({ kinds: ['syscall', 'page-fault'], from: ['U'], hideTimer: true, returns: true });
    const start = g.console().length;
    g.vm.sendInput('echo hi\n');
    for (let i = 0; i < 400 && !/hi\r?\n[^]*# $/.test(g.console().slice(start)); i++) {
      g.inspector.beforeSlice(performance.now());
      g.vm.run(16);
      g.inspector.afterSlice(performance.now());
    }
    const s = g.inspector.traps(64);
    assert.deepEqual(s.filter.from, ['U']);
    assert.ok(s.recent.length > 0);
    assert.ok(s.recent.every((t) => t.from === 'U' || t.returnTo === 'U'), 'only traps from U and returns to U');
    assert.ok(s.recent.every((t) => t.kind === 'syscall' || t.kind === 'page-fault' || t.returnTo !== undefined));
    const write = s.recent.findIndex((t) => t.short === 'ecall from U' && t.a7 === 64n);
    assert.ok(write >= 0, 'the shell\'s write() is in the log');
    const ret = s.recent[write + 1];
    assert.equal(ret?.returnTo, 'U', 'followed by its return');
    assert.equal(ret.handler, s.recent[write].pc + 4n, 'sret resumes after the ecall');
    const fault = s.recent.findIndex((t) => t.kind === 'page-fault' && t.returnTo === undefined);
    assert.ok(fault >= 0, 'running echo in a new process faults pages in');
    const before = s.recent[fault].walk;
    const after = s.recent[fault + 1]?.walk;
    assert.ok(before?.fault, 'the walk at the fault fails');
    assert.equal(s.recent[fault + 1].returnTo, 'U');
    assert.ok(after && after.fault === undefined && after.pa !== undefined, formatTranslation(after!));
    structuredClone(s);
  });
});

describe('VmInspector stepping from a breakpoint', () => {
  it('stops the run loop at the kernel entry and single-steps exactly three instructions', async () => {
    const g = await newGuest();
    g.inspector.setBreakpoint(0x8020_0000n);
    const hit = runUntil(g, (e) => e.kind === 'breakpoint');
    assert.deepEqual(hit, { kind: 'breakpoint', pc: 0x8020_0000n, priv: 'S' });
    const snap = g.inspector.snapshot();
    assert.equal(snap.breakpoint, 0x8020_0000n);
    assert.equal(snap.code[0].pc, 0x8020_0000n);

    const start = g.vm.core.instructions;
    const steps = [await g.inspector.step(), await g.inspector.step(), await g.inspector.step()];
    assert.equal(g.vm.core.instructions, start + 3n);
    for (const [i, s] of steps.entries()) {
      assert.equal(s.stop, 'step', `step ${i}: ${s.stop}`);
      assert.equal(s.executed, 1n);
      assert.ok(s.disassembly && !s.disassembly.startsWith('.'), `step ${i} at ${hex(s.from.pc)}: "${s.disassembly}"`);
      if (i > 0) assert.equal(s.from.pc, steps[i - 1].to.pc);
    }
    assert.equal(steps[0].from.pc, 0x8020_0000n);
    assert.equal(steps[0].disassembly, snap.code[0].text, 'the step ran what the listing showed');
    assert.equal(steps[2].to.pc, g.vm.core.pc);

    // Continue: the loop runs on past the breakpoint to the shell.
    g.inspector.setBreakpoint(undefined);
    runUntil(g, (e) => e.kind === 'stage' && e.stage === 'shell');
  });

  it('continues past the breakpoint without stopping there again', async () => {
    const g = await newGuest();
    g.inspector.setBreakpoint(0x8020_0000n);
    runUntil(g, (e) => e.kind === 'breakpoint');
    const at = g.vm.core.instructions;
    g.inspector.continuePastBreakpoint();
    const e = runUntil(g, (ev) => (ev.kind === 'stage' && ev.stage === 'paging') || ev.kind === 'breakpoint');
    assert.equal(e.kind, 'stage', 'paging is turned on after the kernel entry, with no second stop there');
    assert.ok(g.vm.core.instructions > at + 1n, 'the guest ran on');
  });
});

describe('VmInspector stepping a paused realtime guest', () => {
  it('holds guest time while paused: a step after a long look moves the clock by the step only', async () => {
    const vm = await loopingVm({ timeMode: 'realtime' });
    const inspector = new VmInspector(vm);
    vm.runUntil({ maxInsns: 10_000n, maxMs: Infinity });
    const held = vm.core.mtime;
    await new Promise((r) => setTimeout(r, 300));
    const r = await inspector.step();
    assert.equal(r.executed, 1n);
    // 300 ms would be 3,000,000 ticks of the 10 MHz timebase.
    assert.ok(vm.core.mtime - held < 10_000n, `the step moved guest time by ${vm.core.mtime - held} ticks`);
    inspector.dispose();
    await vm.dispose();
  });
});

describe('TrapRateWindow', () => {
  it('subtracts the newest snapshot at least a second old, and reports the window it covers', () => {
    const w = new TrapRateWindow(0, 2);
    assert.deepEqual(w.base(500), { counts: [0, 0], windowMs: 500 }, 'younger than a second: since power-on');
    for (let t = 16; t <= 3000; t += 16) w.record(t, [t, 2 * t]);
    const b = w.base(3000);
    assert.ok(b.windowMs >= 1000 && b.windowMs < 1020, `window ${b.windowMs}`);
    assert.deepEqual(b.counts, [3000 - b.windowMs, 2 * (3000 - b.windowMs)]);
  });

  it('keeps at most one snapshot per spacing, so bursts of tiny slices do not push the window out', () => {
    const w = new TrapRateWindow(0, 1, 1000, 8, 10);
    for (let t = 0.5; t < 1200; t += 0.5) w.record(t, [t]);
    // Eight slots at 10 ms spacing reach back only 80 ms: the window says so instead of lying.
    const b = w.base(1199.5);
    assert.ok(b.windowMs < 1000 && b.windowMs >= 70, `window ${b.windowMs}`);
  });
});
