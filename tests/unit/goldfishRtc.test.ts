// The goldfish RTC at 0x101000, as a guest driver uses it: TIME_LOW latches TIME_HIGH, writes
// set the clock, the alarm registers keep what is written; its time is mtime's, from a base
// the Vm sets (a fixed date in deterministic time, the host's clock in realtime), and a
// machine state carries it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Core } from '../../src/machine/Core.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { RAM_BASE, RTC_BASE } from '../../src/machine/physicalMap.ts';
import { DETERMINISTIC_EPOCH_MS } from '../../src/machine/TimeMode.ts';
import { Vm } from '../../src/machine/Vm.ts';

const A0 = 10;
const lw = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x03;
const sw = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 0x1f) << 7) | 0x23;
const NS_PER_TICK = 100n; // mtime runs at 10 MHz

/** Runs one load or store (its offset in the instruction, a0 = RTC_BASE) in M-mode at the start of RAM, t0 = value; gives t0. */
function access(core: Core, insn: number, value = 0n): bigint {
  new DataView(core.ram.buffer, core.ram.byteOffset).setUint32(0, insn >>> 0, true);
  core.pc = RAM_BASE;
  core.setX(A0, RTC_BASE);
  core.setX(5, value);
  core.run(1);
  assert.equal(core.trapCount, 0n, `${insn.toString(16)} trapped`);
  return BigInt.asUintN(32, core.getX(5));
}

async function newCore(): Promise<Core> {
  const core = await Core.instantiate(await loadCoreModule(), { ramBytes: 1 << 20, mmio: { read: () => 0n, write: () => {} } });
  core.reset();
  return core;
}

const readTime = (core: Core) => {
  const low = access(core, lw(5, A0, 0x00));
  const high = access(core, lw(5, A0, 0x04));
  return (high << 32n) | low;
};

describe('the goldfish RTC', () => {
  it('reads the base plus mtime in nanoseconds, TIME_HIGH latched by TIME_LOW', async () => {
    const core = await newCore();
    const base = 0x1234_5678_9abc_def0n;
    core.setRtcBase(base);
    core.syncTime(1_000n);
    assert.equal(readTime(core), base + core.mtime * NS_PER_TICK);
    // The low half wraps between two reads: TIME_HIGH still matches the TIME_LOW read.
    core.setRtcBase(0x1_ffff_ffffn - core.mtime * NS_PER_TICK);
    const low = access(core, lw(5, A0, 0x00));
    core.syncTime(core.mtime + 10n);
    assert.equal(access(core, lw(5, A0, 0x04)), 1n, 'TIME_HIGH as latched');
    assert.equal(low, 0xffff_ffffn);
  });

  it('is set by the guest writing TIME_HIGH then TIME_LOW, and moves on from there', async () => {
    const core = await newCore();
    core.setRtcBase(5n);
    const want = 1_700_000_000_000_000_000n;
    access(core, sw(5, A0, 0x04), want >> 32n);
    access(core, sw(5, A0, 0x00), want & 0xffff_ffffn);
    const t0 = readTime(core);
    assert.ok(t0 >= want && t0 - want < 10n * NS_PER_TICK, `read ${t0} after setting ${want}`);
    core.syncTime(core.mtime + 10_000_000n); // one second of guest time
    assert.equal(readTime(core) - t0, 1_000_000_000n);
  });

  it('keeps an alarm: ALARM_STATUS says it is set until CLEAR_ALARM', async () => {
    const core = await newCore();
    access(core, sw(5, A0, 0x0c), 7n);
    access(core, sw(5, A0, 0x08), 9n);
    assert.equal(access(core, lw(5, A0, 0x08)), 9n);
    assert.equal(access(core, lw(5, A0, 0x0c)), 7n);
    assert.equal(access(core, lw(5, A0, 0x18)), 1n);
    access(core, sw(5, A0, 0x14), 1n);
    assert.equal(access(core, lw(5, A0, 0x18)), 0n);
    access(core, sw(5, A0, 0x10), 1n);
    assert.equal(access(core, lw(5, A0, 0x10)), 1n);
  });

  it('starts at 2024-01-01 in deterministic time and at the host clock in realtime; a machine state carries it', async () => {
    const module = await loadCoreModule();
    const boot = { load: () => {} };
    const det = await Vm.create(module, { ramBytes: 1 << 20, timeMode: 'deterministic', boot, detectCrash: false });
    assert.equal(readTime(det.core), BigInt(DETERMINISTIC_EPOCH_MS) * 1_000_000n + det.core.mtime * NS_PER_TICK);
    access(det.core, sw(5, A0, 0x04), 1n); // the guest moves its clock
    const state = await det.captureState();
    const copy = await Vm.create(module, { ramBytes: 1 << 20, timeMode: 'deterministic', boot, detectCrash: false });
    copy.applyState(state);
    assert.equal(readTime(copy.core) >> 32n, 1n, 'the restored machine reads the time its guest set');

    const before = BigInt(Date.now()) * 1_000_000n;
    const real = await Vm.create(module, { ramBytes: 1 << 20, timeMode: 'realtime', boot, detectCrash: false });
    const t = readTime(real.core);
    assert.ok(t >= before && t - before < 5_000_000_000n, `realtime RTC ${t} vs host ${before}`);
  });
});
