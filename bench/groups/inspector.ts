// What watching costs: the same deterministic boot to the shell, once with nothing reading
// the machine and once with the teaching views' reads after every slice (boot stages, trap
// counters and log, TLB entries, registers, main CSRs), as an open inspector would poll.
// QEMU's boot of the same images is the peer column.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN, builtinInitramfsImages, readMaybeGzip } from '../../src/cli/bootImages.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { qemuToPrompt } from '../qemuToPrompt.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import { qemuInitramfsArgs } from './linuxBoot.ts';

const PROMPT = '~ # ';
const CSRS = [0x300, 0x100, 0x180, 0x344, 0x304, 0x342, 0x142, 0x341, 0x141];

async function boot(watch: boolean): Promise<{ seconds: number; instructions: bigint; reads: number }> {
  const images = await builtinInitramfsImages();
  const vm = await Vm.create(await loadCoreModule(), { ramBytes: 256 << 20, timeMode: 'deterministic', boot: linuxLoader(images) });
  let text = '';
  vm.onConsole((b) => (text += Buffer.from(b).toString('latin1')));
  let reads = 0;
  const start = performance.now();
  while (!text.includes(PROMPT)) {
    // 16 ms slices: what the page's worker runs between two animation frames.
    const r = vm.run(16);
    if (r.kind === 'poweroff' || r.kind === 'reboot') throw new Error(`boot ended: ${r.kind}`);
    if (watch) {
      const c = vm.core;
      c.bootStages();
      c.trapCounts();
      c.trapLog(64);
      c.tlbEntries();
      for (let i = 0; i < 32; i++) c.getX(i);
      for (const n of CSRS) c.csr(n);
      reads++;
    }
    const work = vm.pendingWork();
    if (work) await work;
  }
  const seconds = (performance.now() - start) / 1000;
  await vm.dispose();
  return { seconds, instructions: vm.core.instructions, reads };
}

async function qemuBoot(kernel: string): Promise<number> {
  const r = await qemuToPrompt(qemuInitramfsArgs(kernel), PROMPT);
  if (!r.ok) throw new Error(r.note);
  return r.seconds;
}

export const inspectorGroup: BenchGroup = {
  name: 'inspector',
  description: 'boot to shell with the teaching views reading the machine after every slice vs not (deterministic time)',
  async run(log) {
    const dir = fileURLToPath(new URL('../../build/bench/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}Image`, await readMaybeGzip(BUILTIN.kernel));
    const q = Math.min(await qemuBoot(`${dir}Image`), await qemuBoot(`${dir}Image`));
    const rows: BenchRow[] = [];
    // Alternate off/on five times and take each one's median: the machine is shared, and
    // a one-off stall in either run would otherwise decide the figure.
    const times = { off: [] as number[], on: [] as number[] };
    let insns = 0n;
    let reads = 0;
    for (let i = 0; i < 5; i++) {
      for (const watch of [false, true]) {
        const r = await boot(watch);
        log(`inspector: ${watch ? 'on' : 'off'} ${r.seconds.toFixed(3)} s`);
        times[watch ? 'on' : 'off'].push(r.seconds);
        insns = r.instructions;
        if (watch) reads = r.reads;
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const best = { off: median(times.off), on: median(times.on) };
    for (const k of ['off', 'on'] as const) {
      rows.push({
        group: 'inspector',
        name: `boot, inspector ${k}`,
        instructions: insns,
        romvisorSeconds: best[k],
        romvisorMips: Number(insns) / best[k] / 1e6,
        qemuSeconds: q,
        ratio: best[k] / q,
        outputsMatch: true,
        note: k === 'on' ? `${reads} polls; cost of watching ${(((best.on - best.off) / best.off) * 100).toFixed(1)}%` : undefined,
      });
    }
    return rows;
  },
};
