// The core's teaching and debugging hooks, on a real boot: stages recorded in order,
// traps counted and logged, single steps, breakpoints, stepping to a trap or a mode change.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { loadLinuxBoot } from '../../src/boot/linuxBoot.ts';
import { BOOT_STAGES, Core, StopReason } from '../../src/machine/Core.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';

const root = new URL('../../', import.meta.url);
const images = {
  firmware: readFileSync(new URL('roms/opensbi/fw_dynamic.bin', root)),
  kernel: gunzipSync(readFileSync(new URL('appliances/boot/Image.gz', root))),
  initrd: readFileSync(new URL('appliances/boot/initramfs.cpio.gz', root)),
  bootargs: 'console=ttyS0',
};

async function bootedCore(): Promise<Core> {
  const core = await Core.instantiate(await loadCoreModule(), { ramBytes: 128 << 20 });
  loadLinuxBoot(core, images, core.timebaseHz);
  return core;
}

/** Runs until the shell has gone idle (deterministic: idle time is skipped). */
function runToShell(core: Core, limit = 400_000_000n): string {
  let out = '';
  while (core.bootStages()[BOOT_STAGES.indexOf('shell')] === undefined && core.instructions < limit) {
    const r = core.run(1_000_000);
    out += Buffer.from(core.drainConsole()).toString('latin1');
    if (r === StopReason.Wfi) core.skipToTimer();
  }
  return out;
}

describe('boot stages', () => {
  it('are reached in order, from the machine alone, up to the idle shell', async () => {
    const core = await bootedCore();
    const out = runToShell(core);
    const stages = core.bootStages();
    for (let i = 0; i < BOOT_STAGES.length; i++) assert.notEqual(stages[i], undefined, `${BOOT_STAGES[i]} reached`);
    for (let i = 1; i < BOOT_STAGES.length; i++) assert.ok(stages[i]! > stages[i - 1]!, `${BOOT_STAGES[i]} after ${BOOT_STAGES[i - 1]}`);
    assert.equal(stages[1], 6n, 'the reset ROM runs six instructions before the firmware');
    assert.match(out, /~ # $/);
  });
});

describe('trap accounting', () => {
  it('counts traps by cause and logs the latest with their handlers', async () => {
    const core = await bootedCore();
    runToShell(core);
    const counts = core.trapCounts();
    assert.ok(counts.exceptions[9] > 0n, 'ecalls from S-mode (SBI calls)');
    assert.ok(counts.exceptions[8] > 0n, 'ecalls from U-mode (system calls)');
    // Linux 6.1 programs its tick through Sstc's stimecmp: supervisor timer interrupts,
    // taken in S without a detour through the firmware.
    assert.ok(counts.interrupts[5] > 0n, 'supervisor timer interrupts');
    const total = [...counts.exceptions, ...counts.interrupts].reduce((a, b) => a + b, 0n);
    assert.equal(total, core.lastTrap.count);
    const log = core.trapLog(16);
    assert.equal(log.length, 16);
    const last = log[log.length - 1];
    assert.equal(last.cause, core.lastTrap.cause);
    assert.equal(last.pc, core.lastTrap.pc);
    assert.ok(log.every((t, i) => i === 0 || t.seq === log[i - 1].seq + 1));
  });
});

describe('the debugger', () => {
  it('single-steps exactly one instruction at a time', async () => {
    const core = await bootedCore();
    assert.equal(core.pc, 0x1000n);
    core.run(1);
    assert.equal(core.pc, 0x1004n);
    assert.equal(core.instructions, 1n);
    core.run(5);
    assert.equal(core.pc, 0x8000_0000n, 'the reset ROM jumped to the firmware');
  });

  it('stops before a breakpoint and continues past it', async () => {
    const core = await bootedCore();
    core.setBreakpoint(0x8020_0000n); // the kernel's entry
    assert.equal(core.run(50_000_000), StopReason.Breakpoint);
    assert.equal(core.pc, 0x8020_0000n);
    assert.equal(core.priv, 1, 'the firmware entered the kernel in S-mode');
    const at = core.instructions;
    core.resumeFromBreakpoint();
    core.setBreakpoint(undefined);
    core.run(1);
    assert.equal(core.instructions, at + 1n);
    assert.notEqual(core.pc, 0x8020_0000n);
  });

  it('runs to the next trap, and to the next privilege change', async () => {
    const core = await bootedCore();
    core.stopOnTrap = true;
    assert.equal(core.run(50_000_000), StopReason.Trap);
    const t = core.trapLog(1)[0];
    assert.equal(core.pc, t.handler, 'stopped at the handler, before it runs');
    core.stopOnTrap = false;
    core.stopOnPrivChange = true;
    const before = core.priv;
    assert.equal(core.run(50_000_000), StopReason.Priv);
    assert.notEqual(core.priv, before);
  });
});
