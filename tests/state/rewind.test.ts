// Step back is exact: the base appliance boots in deterministic time with checkpoints
// every few million instructions; at the shell it gets console input (a disk write and the
// page-fault demo). The machine is captured at instruction N on the way (core scalars —
// every register and CSR —, its regions, RAM, console so far, the disk's bytes), runs on to
// N + k, and goes back to N: everything equals the capture. Running on from there feeds the
// logged input again and prints what the uninterrupted run printed. "Run back to the
// previous trap" lands on a trap stop with no other trap between it and where it started.
// The same exactness in lockstep quanta (a scenario guest's network: DHCP frames both ways,
// each quantum's time limit), where the log holds frames and limits as well as input, with
// the JIT on. And a bare teaching kernel (UART, a raw disk it writes) the same way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openApplianceDisk, type ApplianceDisk } from '../../src/boot/applianceDisk.node.ts';
import { readApplianceBoot } from '../../src/boot/applianceBoot.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { UndoLogDisk } from '../../src/disk/UndoLogDisk.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Rewind, RewindError } from '../../src/machine/Rewind.ts';
import { guestConsoleOf, Vm } from '../../src/machine/Vm.ts';
import { Lockstep, macFromName, runToBoundary } from '../../src/net/index.ts';
import { bareKernelVmConfig } from '../../src/boot/bareKernel.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { MemoryBackend } from '../../src/disk/index.ts';
import { buildTeachKernel } from '../boot/teachKernelElf.ts';

const BASE = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const FIRMWARE = fileURLToPath(new URL('../../roms/opensbi/fw_dynamic.bin', import.meta.url));
const PROMPT = '~ # ';
const INTERVAL = 2_000_000n;

interface Capture {
  at: bigint;
  scalars: bigint[];
  regions: string[];
  ram: string;
  console: string;
  disk: string;
}

const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('step back in a deterministic machine', () => {
  let appliance: ApplianceDisk;
  let undo: UndoLogDisk;
  let vm: Vm;
  let rewind: Rewind;
  let shown = '';

  before(async () => {
    appliance = await openApplianceDisk({ image: BASE, overlay: { kind: 'snapshot' } });
    const boot = await readApplianceBoot(appliance.disk);
    const bootargs = boot.manifest.cmdline;
    undo = new UndoLogDisk(appliance.disk);
    vm = await Vm.create(await loadCoreModule(), {
      ramBytes: 128 << 20,
      timeMode: 'deterministic',
      boot: linuxLoader({ ...boot.images, firmware: new Uint8Array(readFileSync(FIRMWARE)), bootargs }),
      console: { cols: 80, rows: 24 },
      guestConsole: guestConsoleOf(bootargs),
      disks: [{ disk: undo, serial: boot.manifest.name }],
    });
    rewind = new Rewind(vm, [undo], { interval: INTERVAL });
    rewind.onConsole((b) => (shown += text(b)));
    await rewind.checkpoint();
  });
  after(async () => {
    await vm?.dispose();
    await appliance?.dispose();
  });

  /** A host's run loop through the rewind's hooks, until `done` (or instruction `to`, exactly). */
  async function run(done: () => boolean, to?: bigint): Promise<void> {
    const until = Date.now() + 240_000;
    while (!done() && (to === undefined || vm.core.instructions < to)) {
      assert.ok(Date.now() < until, `timed out; console ends: ${JSON.stringify(shown.slice(-300))}`);
      let limit = rewind.runLimit();
      if (to !== undefined && (limit === undefined || to - vm.core.instructions < limit)) limit = to - vm.core.instructions;
      const o = vm.runUntil({ maxMs: 20, ...(limit !== undefined ? { maxInsns: limit } : {}) });
      assert.ok(o.kind === 'running' || o.kind === 'idle' || o.kind === 'budget', `the guest ended: ${o.kind}`);
      const work = vm.pendingWork();
      if (work) await work;
      await rewind.afterRun();
      if (o.kind === 'idle' && o.wakeInMs === undefined && !work && rewind.runLimit() === undefined) assert.fail('the guest waits for input that never comes');
    }
  }

  async function capture(): Promise<Capture> {
    const s = await vm.captureState();
    return {
      at: vm.core.instructions,
      scalars: [...s.core.scalars],
      regions: s.core.regions.map(hash),
      ram: hash(Buffer.concat([Buffer.from(s.ram.pages.buffer), s.ram.data])),
      console: text(rewind.consoleOutput()),
      disk: hash(await undo.read(0, undo.size)),
    };
  }

  it('goes back to instruction N exactly, disk and console included, and replays the same future', async () => {
    await run(() => shown.includes(PROMPT));
    const prompt = vm.core.instructions;
    // A checkpoint before the input, and N before the next one: going back to N replays the input.
    await rewind.checkpoint();
    rewind.sendInput(new TextEncoder().encode('echo written > /root/f; sync; pagefault-demo; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; cat /root/f\n'));
    // N: a little after the input, while the command runs.
    const n = prompt + 1_500_000n;
    await run(() => false, n);
    assert.equal(vm.core.instructions, n);
    const atN = await capture();
    await run(() => /written\r?\n.*~ # $/s.test(shown.slice(shown.indexOf('cat /root/f'))));
    const end = vm.core.instructions;
    const whole = text(rewind.consoleOutput());
    assert.ok(end - n > 2n * INTERVAL, `the run went on past several checkpoints (${end - n} instructions)`);
    assert.ok(rewind.stats.checkpoints > 3, `checkpoints held: ${rewind.stats.checkpoints}`);
    assert.notEqual(atN.disk, hash(await undo.read(0, undo.size)), 'the disk was written after N');

    await rewind.rewindTo(n);
    const back = await capture();
    assert.equal(back.at, n);
    assert.deepEqual(back.scalars, atN.scalars, 'every core scalar (registers, CSRs, counters) as at N');
    assert.deepEqual(back.regions, atN.regions, 'register files, PLIC/CLINT, UART rings, trap log as at N');
    assert.equal(back.ram, atN.ram, 'RAM as at N');
    assert.equal(back.console, atN.console, 'the console output as at N');
    assert.equal(back.disk, atN.disk, 'the disk as at N (the writes after it undone)');

    // Forward again: the logged input lands again, the same bytes come out.
    await run(() => false, end);
    assert.equal(text(rewind.consoleOutput()), whole);
  });

  it('runs back to the previous trap: a trap stop, with no trap between it and where it started', async () => {
    const from = { at: vm.core.instructions, traps: vm.core.trapCount };
    assert.equal(await rewind.runBack('trap'), true);
    const at = { at: vm.core.instructions, traps: vm.core.trapCount };
    assert.ok(at.at < from.at || at.traps < from.traps, 'it went back');
    assert.ok(at.traps <= from.traps);
    // From there to where it started, running with stops on traps meets none before the start.
    const stops: bigint[] = [];
    while (vm.core.instructions < from.at) {
      const o = vm.runUntil({ maxInsns: from.at - vm.core.instructions, maxMs: Infinity, stopOn: 'trap' });
      if (o.kind === 'debug') stops.push(vm.core.instructions);
      else if (o.kind === 'running' || o.kind === 'idle') await vm.pendingWork();
      else assert.equal(o.kind, 'budget');
    }
    assert.deepEqual(stops.filter((s) => s < from.at), [], 'no trap between the previous trap and the start');

    // And to the previous privilege change, twice: each lands earlier.
    assert.equal(await rewind.runBack('priv'), true);
    const p1 = vm.core.instructions;
    assert.equal(await rewind.runBack('priv'), true);
    assert.ok(vm.core.instructions <= p1);
  });

  it('refuses to go before its oldest checkpoint, and realtime machines', async () => {
    await assert.rejects(rewind.rewindTo(-1n), RewindError);
    const rt = await Vm.create(await loadCoreModule(), { ramBytes: 64 << 20, timeMode: 'realtime', boot: { load: () => {} } });
    try {
      assert.throws(() => new Rewind(rt, []), /deterministic time/);
    } finally {
      await rt.dispose();
    }
  });
});

describe('step back in lockstep, frames and quantum limits logged', () => {
  it('goes back to a point N exactly and replays the same future', async () => {
    const appliance = await openApplianceDisk({ image: BASE, overlay: { kind: 'snapshot' } });
    const boot = await readApplianceBoot(appliance.disk);
    const bootargs = boot.manifest.cmdline;
    const undo = new UndoLogDisk(appliance.disk);
    const vm = await Vm.create(await loadCoreModule(), {
      ramBytes: 128 << 20,
      timeMode: 'deterministic',
      boot: linuxLoader({ ...boot.images, firmware: new Uint8Array(readFileSync(FIRMWARE)), bootargs }),
      console: { cols: 80, rows: 24 },
      guestConsole: guestConsoleOf(bootargs),
      disks: [{ disk: undo, serial: boot.manifest.name }],
      net: { mac: macFromName('base') },
      // With the JIT: a restored checkpoint drops compiled code, the replay compiles it again.
      jit: 'auto',
    });
    const rewind = new Rewind(vm, [undo], { interval: INTERVAL });
    let shown = '';
    rewind.onConsole((b) => (shown += text(b)));
    const ls = new Lockstep(vm.core.mtime);
    const port = ls.join('base');
    rewind.onTransmit = (f) => port.send(f);
    let framesIn = 0;
    await rewind.checkpoint();
    // One quantum as the page's worker runs it: frames in, the limit, the run, the crossing.
    const quantum = async () => {
      for (const f of port.takeInbox()) {
        framesIn++;
        rewind.receiveFrame(f);
      }
      rewind.setTimeLimit(ls.boundary);
      await runToBoundary(vm, ls.boundary, {
        run: (opts) => vm.runUntil(opts),
        after: () => false,
        turn: () => new Promise<void>((r) => setImmediate(r)),
      });
      await rewind.afterRun();
      ls.cross();
    };
    try {
      const until = Date.now() + 240_000;
      while (!shown.includes(PROMPT)) {
        assert.ok(Date.now() < until, `no prompt; console ends: ${JSON.stringify(shown.slice(-300))}`);
        await quantum();
      }
      assert.ok(framesIn > 0, 'the guest got frames (DHCP) from the switch');
      rewind.sendInput(new TextEncoder().encode('echo lockstep > /root/g; sync; cat /root/g; pagefault-demo\n'));
      for (let i = 0; i < 3; i++) await quantum();
      const n = vm.core.instructions;
      const atN = await vm.captureState();
      const consoleAtN = text(rewind.consoleOutput());
      const diskAtN = hash(await undo.read(0, undo.size));
      while (!/\(\+1\)[\s\S]*# $/.test(shown)) await quantum();
      const end = vm.core.instructions;
      const whole = text(rewind.consoleOutput());
      assert.ok(end - n > INTERVAL, `past a checkpoint (${end - n} instructions)`);

      await rewind.rewindTo(n);
      const back = await vm.captureState();
      assert.equal(vm.core.instructions, n);
      assert.deepEqual([...back.core.scalars], [...atN.core.scalars], 'every core scalar as at N');
      assert.deepEqual(back.core.regions.map(hash), atN.core.regions.map(hash));
      assert.equal(hash(back.ram.data), hash(atN.ram.data));
      assert.equal(text(rewind.consoleOutput()), consoleAtN);
      assert.equal(hash(await undo.read(0, undo.size)), diskAtN);
      assert.equal(rewind.behind, true);
      // Forward through the log (its frames and limits): the same bytes, back at the horizon.
      while (rewind.behind) await rewind.forward(end);
      assert.equal(vm.core.instructions, end);
      assert.equal(text(rewind.consoleOutput()), whole);
    } finally {
      await vm.dispose();
      await appliance.dispose();
    }
  });
});

describe('step back in a bare kernel', () => {
  it('goes back to a point N exactly, its disk writes undone, and runs to the same end', async () => {
    const path = buildTeachKernel();
    const elf = ElfImage.parse(new Uint8Array(readFileSync(path)), 'kernel.elf');
    const bytes = new Uint8Array(64 * 1024);
    bytes.set(new TextEncoder().encode('ROMVISOR TEACHING DISK\n'));
    const undo = new UndoLogDisk(new MemoryBackend(bytes, { maxSize: bytes.length }));
    const vm = await Vm.create(await loadCoreModule(), bareKernelVmConfig({ elf, ramBytes: 128 << 20, timeMode: 'deterministic', bootargs: '', disks: [{ disk: undo, slot: 0 }] }));
    const rewind = new Rewind(vm, [undo], { interval: 20_000n });
    let shown = '';
    rewind.onConsole((b) => (shown += text(b)));
    await rewind.checkpoint();
    /** Runs to instruction `to` (or the kernel's end); says how it ended. */
    const runTo = async (to: bigint): Promise<string> => {
      for (;;) {
        const left = to - vm.core.instructions;
        if (left <= 0n) return 'reached';
        const o = vm.runUntil({ maxMs: 20, maxInsns: left });
        const work = vm.pendingWork();
        if (work) await work;
        await rewind.afterRun();
        if (o.kind === 'poweroff') return 'poweroff';
        assert.ok(o.kind !== 'crashed' && o.kind !== 'reboot', o.kind);
      }
    };
    try {
      // Once to its end, to learn how long it runs; then back to the middle, exactly.
      assert.equal(await runTo(1n << 40n), 'poweroff');
      const end = vm.core.instructions;
      const whole = shown;
      const diskAtEnd = hash(await undo.read(0, undo.size));
      assert.ok(undo.mark > 0, 'the kernel wrote its disk');
      const n = end / 2n;
      await rewind.rewindTo(n);
      const atN = { state: await vm.captureState(), console: text(rewind.consoleOutput()), disk: hash(await undo.read(0, undo.size)) };
      assert.ok(whole.startsWith(atN.console) && atN.console.length < whole.length, 'the console as it was half way');
      await runTo(end - 1n);
      await rewind.rewindTo(n);
      const back = await vm.captureState();
      assert.deepEqual([...back.core.scalars], [...atN.state.core.scalars]);
      assert.deepEqual(back.core.regions.map(hash), atN.state.core.regions.map(hash));
      assert.equal(hash(back.ram.data), hash(atN.state.ram.data));
      assert.equal(hash(await undo.read(0, undo.size)), atN.disk);
      assert.equal(text(rewind.consoleOutput()), atN.console);
      assert.equal(await runTo(1n << 40n), 'poweroff');
      assert.equal(vm.core.instructions, end);
      assert.equal(text(rewind.consoleOutput()), whole);
      assert.equal(hash(await undo.read(0, undo.size)), diskAtEnd);
    } finally {
      await vm.dispose();
    }
  });
});
