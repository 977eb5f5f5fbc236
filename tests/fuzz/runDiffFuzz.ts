// The differential fuzzer: generates programs from a seed, runs each batch (one ELF) on
// QEMU and on romvisor, and requires byte-equal UART dumps. QEMU is the oracle; a program
// that traps or does not finish on QEMU is a generator bug and is reported as such.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLimiter } from '../isa/createLimiter.ts';
import { runBareMetal as romvisor, type RunBareMetal } from '../isa/romvisorBareMetal.ts';
import type { JitMode } from '../../src/jit/Jit.ts';
import { runQemu, type QemuResult } from '../isa/runQemu.ts';
import { buildFuzzElf, DUMP_LINES, DUMP_NAMES } from './buildFuzzElf.ts';
import { mix32 } from '../SeededRandom.ts';

export const FUZZ_DIR = fileURLToPath(new URL('../../build/fuzz/', import.meta.url));

export interface DiffFuzzOptions {
  /** Number of programs. */
  count: number;
  /** Master seed: program i's seed is programSeed(seed, i). */
  seed: number;
  /** Programs per ELF (one QEMU start-up each). The UART output of a batch stays well
   *  under romvisor's 64 KiB transmit ring at 25. */
  batchSize?: number;
  /** Approximate instructions per program body. */
  length?: number;
  /** Generate misaligned plain loads/stores (default true: QEMU performs them). */
  misaligned?: boolean;
  /** QEMU processes at once. */
  jobs?: number;
  /** Progress and mismatch reports. */
  log?: (line: string) => void;
  /** Run exactly these program seeds instead of deriving them from `seed` (reproduction). */
  programSeeds?: readonly number[];
  /** The machine under test; romvisor's runBareMetal unless given (tests of the fuzzer). */
  runner?: RunBareMetal;
  /** romvisor runs every batch once per JIT mode here (default: off only), each against QEMU. */
  jits?: readonly JitMode[];
}

export interface DiffMismatch {
  programSeed: number;
  /** Index of the program in the run (0-based). */
  program: number;
  /** The first differing dump line: a register name, 'fcsr', 'scratch checksum', or a
   *  description when the outputs differ in shape (a trap, a missing dump). */
  register: string;
  qemu: string;
  romvisor: string;
  /** The JIT mode romvisor ran with. */
  jit: JitMode;
  /** The batch ELF and a one-program ELF for this seed, kept for reproduction. */
  batchElf: string;
  programElf: string;
}

export interface DiffFuzzResult {
  seed: number;
  programs: number;
  batches: number;
  instructions: bigint;
  /** Of those, the ones compiled code ran (zero when every mode was off). */
  jitInstructions: bigint;
  mismatches: DiffMismatch[];
  /** Batches where QEMU itself did not run the programs through (generator bugs). */
  oracleFailures: string[];
}

export function programSeed(seed: number, index: number): number {
  return mix32((seed ^ mix32(index + 0x632be5ab)) >>> 0);
}

function describeLine(line: number, programs: number): { program: number; register: string } {
  const program = Math.floor(line / DUMP_LINES);
  if (program >= programs) return { program: programs - 1, register: 'end of run (DONE)' };
  return { program, register: DUMP_NAMES[line % DUMP_LINES] };
}

export async function runDiffFuzz(opts: DiffFuzzOptions): Promise<DiffFuzzResult> {
  const batchSize = opts.batchSize ?? 25;
  const gen = { length: opts.length ?? 120, misaligned: opts.misaligned ?? true };
  const log = opts.log ?? (() => {});
  const limit = createLimiter(opts.jobs ?? 2);
  const runBareMetal = opts.runner ?? romvisor;
  mkdirSync(FUZZ_DIR, { recursive: true });

  const count = opts.programSeeds?.length ?? opts.count;
  const seedOf = (i: number): number => opts.programSeeds?.[i] ?? programSeed(opts.seed, i);
  const batches: number[][] = [];
  for (let i = 0; i < count; i += batchSize) {
    batches.push(Array.from({ length: Math.min(batchSize, count - i) }, (_, k) => i + k));
  }
  // Each batch's ELF goes to a file for QEMU, which runs a few batches ahead in the
  // background while romvisor (in this process) works through them in order. A batch's
  // file is deleted once both machines agree on it, and kept when they don't.
  interface Prepared {
    seeds: number[];
    path: string;
    qemu: Promise<QemuResult>;
  }
  const prepare = (b: number): Prepared => {
    const seeds = batches[b].map(seedOf);
    const path = join(FUZZ_DIR, `seed-${opts.seed}-batch-${b}.elf`);
    writeFileSync(path, buildFuzzElf(seeds, gen));
    return { seeds, path, qemu: limit(() => runQemu(path, { timeoutMs: 60_000 })) };
  };
  const lookahead = 2 * (opts.jobs ?? 2);
  const pending = new Map<number, Prepared>();

  const result: DiffFuzzResult = { seed: opts.seed, programs: count, batches: batches.length, instructions: 0n, jitInstructions: 0n, mismatches: [], oracleFailures: [] };
  for (let b = 0; b < batches.length; b++) {
    for (let next = b; next < Math.min(batches.length, b + 1 + lookahead); next++) {
      if (!pending.has(next)) pending.set(next, prepare(next));
    }
    const batch = { ...pending.get(b)!, indices: batches[b] };
    pending.delete(b);
    const q = await batch.qemu;
    if (q.timedOut || q.exitCode !== 0 || !q.uart.endsWith('DONE\n')) {
      result.oracleFailures.push(`batch ${b} (${batch.path}): QEMU exit ${q.exitCode}${q.timedOut ? ' (timed out)' : ''}, output ends ${JSON.stringify(q.uart.slice(-200))}`);
      log(result.oracleFailures[result.oracleFailures.length - 1]);
      continue;
    }
    let agreed = true;
    for (const jit of opts.jits ?? ['off']) {
      const r = await runBareMetal(new Uint8Array(readFileSync(batch.path)), { maxInstructions: 200_000_000n, jit });
      result.instructions += r.instructions;
      result.jitInstructions += BigInt(r.jit.jitInsns);
      if (r.uart === q.uart) continue;
      agreed = false;

      // A batch prints DUMP_LINES lines per program, then DONE.
      const ql = q.uart.split('\n');
      const rl = r.uart.split('\n');
      let line = 0;
      while (line < ql.length && ql[line] === rl[line]) line++;
      const where = describeLine(line, batch.indices.length);
      const programIndex = batch.indices[where.program];
      const seed = batch.seeds[where.program];
      const programElf = join(FUZZ_DIR, `program-${seed}.elf`);
      writeFileSync(programElf, buildFuzzElf([seed], gen));
      const mismatch: DiffMismatch = {
        programSeed: seed,
        program: programIndex,
        register: rl[line]?.startsWith('TRAP') ? `${where.register} (romvisor trapped: ${rl.slice(line, line + 4).join(' ')})` : where.register,
        qemu: ql[line] ?? '(nothing)',
        romvisor: rl[line] ?? `(nothing; romvisor stopped: ${r.outcome} at pc 0x${r.pc.toString(16)})`,
        jit,
        batchElf: batch.path,
        programElf,
      };
      result.mismatches.push(mismatch);
      log(
        `MISMATCH (--jit ${jit}): master seed ${opts.seed}, program ${programIndex} (program seed ${seed}): first difference in ${mismatch.register}: ` +
          `qemu ${mismatch.qemu}, romvisor ${mismatch.romvisor}\n  reproduce: npm run fuzz -- --program ${seed}   (ELF: ${programElf})`,
      );
    }
    if (agreed) rmSync(batch.path);
  }
  return result;
}
