// Several harts on bare metal (tests/smp/*.S): counters that harts add to with AMOs, LR/SC
// and a spinlock come out exact, and IPIs through the CLINT wake harts from WFI. Each
// program runs on QEMU (-smp N, the reference) and on romvisor with as many harts; both
// must print PASS. romvisor's interleaving is fixed, so two runs take the same instructions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBareMetal } from '../isa/romvisorBareMetal.ts';
import { elfLoader } from '../../src/boot/bareMetal.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { VmInspector } from '../../src/machine/VmInspector.ts';
import { runQemu } from '../isa/runQemu.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '..', '..', 'build', 'smp');
mkdirSync(out, { recursive: true });

/** Builds `name`.S for `harts` harts (the program's HARTS). */
function build(name: string, harts: number): string {
  const elf = join(out, `${name}-${harts}.elf`);
  execFileSync('riscv64-unknown-elf-gcc', [
    '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static', '-nostdlib', '-nostartfiles',
    `-DHARTS=${harts}`, '-T', join(here, '..', 'isa', 'env', 'link.ld'), join(here, `${name}.S`), '-o', elf,
  ]);
  return elf;
}

const MAX_INSTRUCTIONS = 20_000_000n;

describe('SMP bare metal: AMO, LR/SC and spinlock counters, IPIs', () => {
  for (const harts of [2, 4, 8]) {
    const elf = build('smp_atomics', harts);
    it(`adds up exactly on ${harts} harts on QEMU`, async () => {
      const r = await runQemu(elf, { harts, timeoutMs: 30_000 });
      assert.equal(r.timedOut, false, `QEMU did not power off; UART ${JSON.stringify(r.uart)}`);
      assert.equal(r.uart, 'PASS\n');
    });
    it(`adds up exactly on ${harts} harts on romvisor, the same way twice`, async () => {
      const bytes = new Uint8Array(readFileSync(elf));
      const a = await runBareMetal(bytes, { harts, maxInstructions: MAX_INSTRUCTIONS });
      assert.equal(a.outcome, 'pass', `${a.message}; UART ${JSON.stringify(a.uart)}`);
      assert.equal(a.uart, 'PASS\n');
      const b = await runBareMetal(bytes, { harts, maxInstructions: MAX_INSTRUCTIONS });
      assert.equal(b.instructions, a.instructions, 'a fixed interleaving: the same instruction count');
    });
  }

  it("shows each hart's privilege and pc in the inspector, and which hart mhartid names", async () => {
    const elf = ElfImage.parse(new Uint8Array(readFileSync(build('smp_atomics', 2))));
    const vm = await Vm.create(await loadCoreModule(), { ramBytes: 16 << 20, harts: 2, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false });
    const inspector = new VmInspector(vm);
    let s = inspector.snapshot();
    assert.deepEqual(s.harts.map((h) => [h.id, h.priv, h.pc, h.sleeping]), [[0, 'M', elf.entry, false], [1, 'M', elf.entry, false]]);
    // Both harts start alike except a0 = hart id (QEMU's virt with -bios none).
    assert.equal(s.x[10].value, 0n);
    vm.runUntil({ maxInsns: 5000n, maxMs: Infinity });
    s = inspector.snapshot();
    assert.equal(s.hart, 1, 'after one quantum hart 1 runs');
    assert.equal(vm.core.csr(0xf14), 1n, 'mhartid of the live hart');
    assert.ok(s.harts.every((h) => h.priv === 'M' && h.pc >= elf.entry));
    await vm.dispose();
  });

  it('waits forever with fewer harts than the program needs (the harts really are separate)', async () => {
    const r = await runBareMetal(new Uint8Array(readFileSync(build('smp_atomics', 2))), { harts: 1, maxInstructions: 2_000_000n });
    assert.equal(r.outcome, 'budget');
  });
});
