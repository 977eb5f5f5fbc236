// The JIT panel's figures beyond JitStats, for a bench row: the same JitView the page's
// inspector shows (from a Vm in node, or from a VM's worker in the page), reduced to numbers.
import type { JitStats } from '../src/jit/Jit.ts';
import type { JitView } from '../src/machine/jitView.ts';

export interface JitPageFigures {
  /** Heat at which a page is translated (1 for eager). */
  threshold: number;
  /** The code cache's caps. */
  maxPages: number;
  maxBytes: number;
  /** Pages warming up (heat, no code) when the run ended. */
  warmingPages: number;
  /** Of all instructions since power-on, the share compiled code ran (0..1). */
  compiledShare: number;
  /** Compile cost per translated page: host ms and module bytes. */
  msPerCompile: number;
  bytesPerCompile: number;
}

/** What one page's translation cost on average: host ms (translator + V8's compile and instantiation) and module bytes. */
export function compileCost(s: JitStats): { msPerCompile: number; bytesPerCompile: number } {
  const per = (x: number) => (s.compiles > 0 ? x / s.compiles : 0);
  return { msPerCompile: Math.round(per(s.compileMs) * 100) / 100, bytesPerCompile: Math.round(per(s.totalBytes)) };
}

export function jitPageFigures(v: JitView): JitPageFigures {
  const s = v.stats;
  return {
    threshold: v.threshold,
    maxPages: v.maxPages,
    maxBytes: v.maxBytes,
    warmingPages: v.warmingPages,
    compiledShare: v.instructions > 0n ? s.jitInsns / Number(v.instructions) : 0,
    ...compileCost(s),
  };
}
