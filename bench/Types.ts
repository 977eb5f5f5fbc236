// The shape every benchmark group returns, so bench/run.ts can print one table and one
// JSON document for bare-metal programs, Linux boots, disk I/O and whatever comes next.
import type { JitStats } from '../src/jit/Jit.ts';
import type { JitPageFigures } from './jitPageFigures.ts';

/** One measured workload, run on romvisor and on its peer (QEMU) in the same run. */
export interface BenchRow {
  /** The group that produced it, e.g. 'bare-metal'. */
  group: string;
  name: string;
  /** Instructions retired, as romvisor counts them (the same binary retires the same
   *  number on QEMU). Undefined when romvisor did not finish. */
  instructions?: bigint;
  /** Wall seconds with start-up removed (each side minus its empty-program run). */
  romvisorSeconds?: number;
  /** Undefined for a figure QEMU has no counterpart of (e.g. decoding a scenario link). */
  qemuSeconds?: number;
  romvisorMips?: number;
  qemuMips?: number;
  /** romvisorSeconds / qemuSeconds: how many times longer romvisor takes. */
  ratio?: number;
  /** The same workload with the JIT tier (--jit auto): seconds, MIPS, seconds / QEMU's. */
  jitSeconds?: number;
  jitMips?: number;
  jitRatio?: number;
  /** The JIT's counters after that run (compiles, code cache, compile ms, ...). */
  jit?: JitStats;
  /** What the inspector's JIT panel shows besides those counters, after that run (bench/jitPageFigures.ts). */
  jitPages?: JitPageFigures;
  /** False when the two printed different results (a correctness bug, not a speed one). */
  outputsMatch: boolean;
  /** Why a row is incomplete, if it is. */
  note?: string;
}

export interface BenchGroup {
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<BenchRow[]>;
}
