// A machine saved mid-run and restored into a fresh machine goes on exactly as the original:
// two harts on bare metal (AMOs, LR/SC, a spinlock and IPIs, tests/smp/smp_atomics.S),
// saved at several points, each restored copy run to the end with the same instruction
// count, UART output and final state as the machine that was never saved.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { elfLoader } from '../../src/boot/bareMetal.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { shapeDifference } from '../../src/machine/VmState.ts';
import { decodeMachineState, encodeMachineState } from '../../src/state/MachineStateFile.ts';
import { StateError } from '../../src/state/StateError.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '..', '..', 'build', 'state');
mkdirSync(out, { recursive: true });

function buildSmp(harts: number): ElfImage {
  const elf = join(out, `smp_atomics-${harts}.elf`);
  execFileSync('riscv64-unknown-elf-gcc', [
    '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static', '-nostdlib', '-nostartfiles',
    `-DHARTS=${harts}`, '-T', join(here, '..', 'isa', 'env', 'link.ld'), join(here, '..', 'smp', 'smp_atomics.S'), '-o', elf,
  ]);
  return ElfImage.parse(new Uint8Array(readFileSync(elf)));
}

const RAM = 16 << 20;

async function machine(elf: ElfImage, harts: number): Promise<{ vm: Vm; uart: () => string }> {
  const vm = await Vm.create(await loadCoreModule(), { ramBytes: RAM, harts, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false });
  let text = '';
  vm.onConsole((b) => (text += new TextDecoder().decode(b)));
  return { vm, uart: () => text };
}

/** Runs to the program's end (HTIF) or `limit` instructions; the outcome's kind and the count. */
function runToEnd(vm: Vm, limit = 50_000_000n): { kind: string; instructions: bigint } {
  for (;;) {
    const o = vm.runUntil({ maxInsns: limit - vm.core.instructions, idle: 'skip' });
    if (o.kind !== 'running') return { kind: o.kind, instructions: vm.core.instructions };
  }
}

describe('machine state: save and restore', () => {
  it('a two-hart program restored from any point ends exactly as the uninterrupted run', async () => {
    const elf = buildSmp(2);
    const ref = await machine(elf, 2);
    const end = runToEnd(ref.vm);
    assert.equal(end.kind, 'poweroff', 'the reference run ends');
    assert.equal(ref.uart(), 'PASS\n');
    const refFinal = await ref.vm.captureState();

    for (const at of [1n, 4097n, end.instructions / 3n, (end.instructions * 2n) / 3n]) {
      const a = await machine(elf, 2);
      a.vm.runUntil({ maxInsns: at, idle: 'skip' });
      const file = await encodeMachineState(await a.vm.captureState(), { disks: [] });
      const { state } = await decodeMachineState(file);
      // The restored machine is built the way a fresh one is, then given the state.
      const b = await machine(elf, 2);
      b.vm.applyState(state);
      assert.equal(b.vm.core.instructions, a.vm.core.instructions);
      const got = runToEnd(b.vm);
      assert.deepEqual(got, end, `restored at ${at}: ended differently`);
      assert.equal(a.uart() + b.uart(), 'PASS\n', `restored at ${at}: UART output`);
      const final = await b.vm.captureState();
      assert.deepEqual(final.core.scalars, refFinal.core.scalars, `restored at ${at}: core scalars at the end`);
      assert.deepEqual(final.core.regions, refFinal.core.regions, `restored at ${at}: core regions at the end`);
      assert.ok(Buffer.from(b.vm.core.ram).equals(Buffer.from(ref.vm.core.ram)), `restored at ${at}: RAM at the end`);
    }
  });

  it('refuses a state for another machine shape and leaves the machine untouched', async () => {
    const elf = buildSmp(2);
    const a = await machine(elf, 2);
    a.vm.runUntil({ maxInsns: 10_000n, idle: 'skip' });
    const { state } = await decodeMachineState(await encodeMachineState(await a.vm.captureState(), { disks: [] }));
    const b = await Vm.create(await loadCoreModule(), { ramBytes: RAM, harts: 1, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false });
    const before = await b.captureState();
    const beforeRam = Buffer.from(b.core.ram);
    assert.throws(() => b.applyState(state), (e: unknown) => e instanceof StateError && e.code === 'state-other-machine' && /harts is 2 in the state, 1 in this machine/.test(e.message));
    // The same shape with its keys in another order (as a state file's JSON may have them) fits.
    const reordered = { ...state, shape: Object.fromEntries(Object.entries(a.vm.shape).reverse()) as typeof state.shape };
    assert.equal(shapeDifference(reordered.shape, a.vm.shape), undefined);
    const after = await b.captureState();
    assert.deepEqual(after.core.scalars, before.core.scalars);
    assert.ok(Buffer.from(b.core.ram).equals(beforeRam));
  });
});
