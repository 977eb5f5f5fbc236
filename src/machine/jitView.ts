/**
 * The JIT tier as the teaching inspector shows it: the counters (JitStats), the pages
 * warming up and the pages with compiled code (by physical address), and which tier the
 * hart's pc runs in when the guest goes on, with the reason in a sentence. Plain,
 * structured-clone-able data, as the rest of InspectorTypes.ts: it crosses the worker
 * boundary unchanged. Read-only: building it changes nothing in the core or the JIT.
 */
import type { JitMode, JitPages, JitStats } from '../jit/Jit.ts';
import { RAM_BASE, type Core } from './Core.ts';

/** Where the pc's next instructions run: the interpreter, or a wasm function translated from its page. */
export type JitTier = 'compiled' | 'interpreter';

export interface JitPcView {
  pc: bigint;
  /** The physical address the pc fetches from (the page walk, as the hart would), when it maps. */
  pa?: bigint;
  tier: JitTier;
  /** Why, in one sentence a student can follow. */
  why: string;
  /** The page's heat (arrivals and taken jumps counted towards the threshold), while it has no code. */
  heat?: number;
  /** With code: the pc's block (index from 0) among the page's blocks. */
  block?: { index: number; of: number };
}

export interface JitView {
  mode: JitMode;
  stats: JitStats;
  /** Instructions since power-on (all tiers), so the page can tell the share run compiled. */
  instructions: bigint;
  /** Heat at which a page is translated (1 for eager, 0 when off). */
  threshold: number;
  /** The code cache's caps. */
  maxPages: number;
  maxBytes: number;
  /** Pages warming up, hottest first (at most the limit): physical page address, heat. */
  hot: { pa: bigint; heat: number }[];
  /** How many pages are warming up in all. */
  warmingPages: number;
  /** Pages with code alive, most blocks first: physical page address, its blocks' offsets, module bytes. */
  compiled: { pa: bigint; blocks: number[]; bytes: number }[];
  pc: JitPcView;
}

const PAGE = 4096n;

/**
 * The view of `core`'s JIT, with the pc's physical address `pcPa` (undefined: it does not
 * map) and the debugger's breakpoint, whose page never runs compiled code. At most `limit`
 * pages of each kind.
 */
export function jitView(core: Core, pcPa: bigint | undefined, breakpoint: bigint | undefined, limit = 12): JitView {
  const jit = core.jit;
  const pages = jit.inspectPages(core.ramBytes);
  const pageAddress = (page: number) => RAM_BASE + BigInt(page) * PAGE;
  return {
    mode: jit.mode,
    stats: jit.stats(),
    instructions: core.instructions,
    threshold: pages.threshold,
    maxPages: pages.maxPages,
    maxBytes: pages.maxBytes,
    hot: pages.warming.slice(0, limit).map((w) => ({ pa: pageAddress(w.page), heat: w.heat })),
    warmingPages: pages.warming.length,
    compiled: pages.compiled.slice(0, limit).map((c) => ({ pa: pageAddress(c.page), blocks: [...c.blocks], bytes: c.bytes })),
    pc: pcTier(core, pcPa, breakpoint, pages),
  };
}

function pcTier(core: Core, pa: bigint | undefined, breakpoint: bigint | undefined, pages: JitPages): JitPcView {
  const pc = core.pc;
  const jit = core.jit;
  const interpreted = (why: string, heat?: number): JitPcView => ({ pc, pa, tier: 'interpreter', why, ...(heat === undefined ? {} : { heat }) });
  if (jit.mode === 'off') return interpreted('The JIT is off for this VM: the interpreter runs every instruction.');
  if (pa === undefined) return interpreted('pc does not map to memory (its fetch would fault): the interpreter takes the trap.');
  if (pa < RAM_BASE || pa >= RAM_BASE + BigInt(core.ramBytes)) return interpreted('pc is outside RAM (the reset ROM): only RAM pages are translated.');
  if (breakpoint !== undefined && breakpoint / PAGE === pc / PAGE) return interpreted('A breakpoint is set in this page: a page with a breakpoint always runs in the interpreter.');
  const page = Number((pa - RAM_BASE) / PAGE);
  const offset = Number(pa % PAGE);
  const code = pages.compiled.find((c) => c.page === page);
  if (code) {
    const index = code.blocks.indexOf(offset);
    const of = code.blocks.length;
    if (index >= 0) return { pc, pa, tier: 'compiled', why: `This page has wasm code and pc starts its block ${index + 1} of ${of}: when the guest runs on, compiled code runs from here.`, block: { index, of } };
    return interpreted(`This page has wasm code (${of} block${of === 1 ? '' : 's'}), but pc is not where one starts: the interpreter runs until a jump lands on a block's start.`);
  }
  const heat = pages.warming.find((w) => w.page === page)?.heat ?? 0;
  if (jit.mode === 'eager') return interpreted('This page has no code yet: eager translates it the next time execution arrives in it.', heat);
  return interpreted(`This page is warming up: heat ${heat.toLocaleString('en')} of ${pages.threshold.toLocaleString('en')} (arrivals and taken jumps); at the threshold it is translated to wasm.`, heat);
}
