// Bare-metal programs (bench/programs/*.c): each runs once on romvisor (runBareMetal, in
// this process) and once on `qemu-system-riscv64 -M virt -bios none`, one after the other
// so neither competes with the other for the CPU. Start-up is removed by subtracting each
// side's wall time for the empty program.
import { readFileSync } from 'node:fs';
import { runBareMetal } from '../../tests/isa/romvisorBareMetal.ts';
import { runQemu } from '../../tests/isa/runQemu.ts';
import { benchElfPath, benchProgramNames, buildBenchPrograms } from '../buildPrograms.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import type { JitMode, JitStats } from '../../src/jit/Jit.ts';

const BASELINE = 'empty';
/** Far beyond any program here (~1e9 instructions); a hang ends as 'budget'. */
const MAX_INSTRUCTIONS = 20_000_000_000n;

interface Measured {
  uart: string;
  seconds: number;
  ok: boolean;
  instructions?: bigint;
  note?: string;
  jit?: JitStats;
}

async function onQemu(name: string): Promise<Measured> {
  const r = await runQemu(benchElfPath(name), { timeoutMs: 120_000 });
  return { uart: r.uart, seconds: r.wallSeconds, ok: r.exitCode === 0 && !r.timedOut, note: r.timedOut ? 'QEMU timed out' : undefined };
}

async function onRomvisor(name: string, jit: JitMode = 'off'): Promise<Measured> {
  const elf = new Uint8Array(readFileSync(benchElfPath(name)));
  const start = process.hrtime.bigint();
  const r = await runBareMetal(elf, { maxInstructions: MAX_INSTRUCTIONS, jit });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const ok = r.exitCode === 0;
  const note = ok ? undefined : `romvisor${jit === 'off' ? '' : ` --jit ${jit}`}: ${r.outcome} at pc 0x${r.pc.toString(16)}`;
  return { uart: r.uart, seconds, ok, instructions: r.instructions, note, jit: r.jit };
}

export const bareMetalGroup: BenchGroup = {
  name: 'bare-metal',
  description: 'bare-metal C programs (-O2, rv64gc) in M-mode, romvisor (interpreter, and --jit auto) vs QEMU TCG',
  async run(log) {
    await buildBenchPrograms();
    const names = benchProgramNames().filter((n) => n !== BASELINE);
    const qBase = await onQemu(BASELINE);
    let rBase: Measured | undefined;
    let jBase: Measured | undefined;
    let romvisorError: string | undefined;
    try {
      rBase = await onRomvisor(BASELINE);
      jBase = await onRomvisor(BASELINE, 'auto');
    } catch (e) {
      romvisorError = e instanceof Error ? e.message : String(e);
      log(`bare-metal: romvisor unavailable: ${romvisorError}`);
    }
    const rows: BenchRow[] = [];
    for (const name of names) {
      log(`bare-metal: ${name}`);
      const q = await onQemu(name);
      const qemuSeconds = Math.max(q.seconds - qBase.seconds, 1e-6);
      const row: BenchRow = { group: 'bare-metal', name, qemuSeconds, outputsMatch: false, note: q.ok ? undefined : `QEMU failed: ${q.uart.trim()}` };
      if (rBase && !romvisorError) {
        let r: Measured | undefined;
        try {
          r = await onRomvisor(name);
        } catch (e) {
          row.note = `romvisor threw: ${e instanceof Error ? e.message : String(e)}`;
        }
        if (r) {
          row.outputsMatch = r.uart === q.uart;
          if (!row.outputsMatch) row.note ??= `outputs differ: romvisor ${JSON.stringify(r.uart.slice(0, 120))}, QEMU ${JSON.stringify(q.uart.slice(0, 120))}`;
          if (r.note) row.note = r.note;
          if (r.ok && r.instructions !== undefined) {
            const romvisorSeconds = Math.max(r.seconds - rBase.seconds, 1e-6);
            const insns = Number(r.instructions);
            Object.assign(row, {
              instructions: r.instructions,
              romvisorSeconds,
              romvisorMips: insns / romvisorSeconds / 1e6,
              qemuMips: insns / qemuSeconds / 1e6,
              ratio: romvisorSeconds / qemuSeconds,
            });
          }
          // The JIT tier on the same program, start-up removed the same way.
          const j = await onRomvisor(name, 'auto');
          if (j.uart !== q.uart) {
            row.outputsMatch = false;
            row.note ??= `--jit auto output differs: romvisor ${JSON.stringify(j.uart.slice(0, 120))}, QEMU ${JSON.stringify(q.uart.slice(0, 120))}`;
          }
          if (j.note) row.note = j.note;
          if (j.ok && jBase && j.instructions !== undefined) {
            const jitSeconds = Math.max(j.seconds - jBase.seconds, 1e-6);
            Object.assign(row, { jitSeconds, jitMips: Number(j.instructions) / jitSeconds / 1e6, jitRatio: jitSeconds / qemuSeconds, jit: j.jit });
          }
        }
      } else {
        row.note = `romvisor unavailable: ${romvisorError}`;
      }
      rows.push(row);
    }
    return rows;
  },
};
