/**
 * The JIT tier's host side, one per core: translates a hot page when the core asks
 * (`jitCompile`, imported by the core), compiles the module synchronously (a worker and
 * node allow any size), instantiates it against the core's memory, globals and slow paths,
 * and installs its `run` in the core's function table, where the run loop calls it with
 * call_indirect (no JS on the way). wasm/cpu/jit.ts is the core's side and the contract.
 *
 * The code cache is bounded: one table slot per page (a page translated again reuses its
 * slot), and when the slots or the bytes of the modules alive pass their caps, every
 * compiled page is dropped at once (v86 does the same): cheap, and a hot page comes back
 * after its threshold.
 */
import { CodedError } from '../errors/CodedError.ts';
import { CORE_FUNCTIONS, CORE_GLOBALS, PAGE_SIZE, translatePage, type CoreLayout } from './translatePage.ts';

/** off: the interpreter alone; auto: hot pages are translated; eager: a page on its first run (for tests). */
export type JitMode = 'off' | 'auto' | 'eager';
export const JIT_MODES: readonly JitMode[] = ['off', 'auto', 'eager'];

/** The mode when none is named (no --jit, no ?jit=): auto, since hot-page translation made
 *  every boot row of `npm run bench` faster than the interpreter (bare-metal about 6x). */
export const DEFAULT_JIT_MODE: JitMode = 'auto';

/** The mode when none is named: ROMVISOR_JIT in node if set (so a whole suite runs with the
 *  interpreter: `ROMVISOR_JIT=off npm test -- boot`; child processes inherit it), else the default. */
export function defaultJitMode(): JitMode {
  const v = globalThis.process?.env?.ROMVISOR_JIT;
  return v === undefined || v === '' ? DEFAULT_JIT_MODE : parseJitMode(v, 'ROMVISOR_JIT');
}

/** The mode a user named (CLI flag, page parameter), or a typed error naming what was given. */
export function parseJitMode(value: string, where: string): JitMode {
  if ((JIT_MODES as readonly string[]).includes(value)) return value as JitMode;
  throw new CodedError('bad-jit-mode', `${where} "${value}" must be one of ${JIT_MODES.join(', ')}`);
}

/**
 * Heat (arrivals into a page and taken jumps inside it, about one per 5 instructions) before
 * auto translates it. A translation costs ~5-25 ms (the translator's JavaScript, cold at
 * first, and V8's compiles), what the interpreter takes for a few million instructions,
 * and compiled code saves a few ns an instruction: a page must run millions more to pay
 * back. At 1,000 a Linux boot translated ~650 pages and ran 8-10x slower than the
 * interpreter alone; at 500,000 the stock kernel's boot still lost ~12% of CPU time; at
 * 1,000,000 (~5M instructions in the page) boots break even and a CPU-bound loop is
 * translated after a few tens of milliseconds (npm run bench: linux-boot, stock-boot,
 * bare-metal).
 */
const AUTO_THRESHOLD = 1_000_000;
/** ROMVISOR_JIT_THRESHOLD overrides it in node, for measuring. */
const autoThreshold = (): number => envCount('ROMVISOR_JIT_THRESHOLD', AUTO_THRESHOLD);

/** A positive whole number from node's environment variable `name`, else `fallback` (the page has no environment). */
function envCount(name: string, fallback: number): number {
  const v = Number(globalThis.process?.env?.[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}
/** Code cache caps: pages with a module alive, and their modules' bytes. */
const MAX_PAGES = 4096;
const MAX_BYTES = 48 << 20;


export interface JitStats {
  mode: JitMode;
  /** Pages translated (a page translated again, with new entries or after a write, counts again). */
  compiles: number;
  /** Pages with a module alive now. */
  pages: number;
  /** Blocks in the modules alive now. */
  blocks: number;
  /** Guest instructions translated, over all compiles. */
  translatedInsns: number;
  /** Module bytes alive now, and over all compiles. */
  bytes: number;
  totalBytes: number;
  compileMs: number;
  /** Of compileMs: the translator (TypeScript) alone; the rest is V8 compiling and instantiating. */
  translateMs: number;
  /** Times the whole cache was dropped because it was full. */
  evictions: number;
  /** Pages whose code was discarded because the guest or a device wrote them. */
  invalidations: number;
  /** Entries into compiled code, and the guest instructions it ran. */
  entries: number;
  jitInsns: number;
  /** Of jitInsns: instructions compiled code handed to the interpreter one at a time. */
  steps: number;
  /** Entries at an offset the page's code did not know (the interpreter ran from there). */
  misses: number;
}

/** The JIT's pages as the teaching inspector shows them (`Jit.inspectPages`: read-only). */
export interface JitPages {
  /** Heat at which a page is translated (auto's threshold; 1 for eager, 0 when off). */
  threshold: number;
  /** The code cache's caps: pages with a module alive, and their modules' bytes. */
  maxPages: number;
  maxBytes: number;
  /** RAM pages without code that have heat (warming up), hottest first. */
  warming: { page: number; heat: number }[];
  /** RAM pages with code alive, most blocks first: the blocks' offsets in the page, module bytes. */
  compiled: { page: number; blocks: readonly number[]; bytes: number }[];
}

/** What the Jit needs of the core's raw exports. */
export interface JitCoreExports {
  REGS_OFFSET: WebAssembly.Global;
  FREGS_OFFSET: WebAssembly.Global;
  TLB_LOAD: WebAssembly.Global;
  TLB_STORE: WebAssembly.Global;
  TLB_ENTRIES: WebAssembly.Global;
  RAM_OFFSET: WebAssembly.Global;
  RAM_GUARD: WebAssembly.Global;
  jitRecordBytes(ramBytes: bigint): number;
  jitConfigure(on: number, threshold: number): void;
  jitForgetAll(): void;
  jitInvalidateRange(ramOff: bigint, length: bigint): void;
  jitPageSlot(page: number): number;
  jitEntries: WebAssembly.Global;
  jitInsns: WebAssembly.Global;
  jitInvalidations: WebAssembly.Global;
  jitSteps: WebAssembly.Global;
  jitMisses: WebAssembly.Global;
}

interface PageCode {
  slot: number;
  entries: Set<number>;
  blocks: number[];
  bytes: number;
}

export class Jit {
  private core: (JitCoreExports & Record<string, unknown>) | undefined;
  private layout: CoreLayout | undefined;
  private imports: WebAssembly.Imports | undefined;
  private ramOffset = 0;
  private readonly pages = new Map<number, PageCode>();
  /** Entries learned for pages without code yet (jitNote while they warm up). */
  private readonly learned = new Map<number, PageCode>();
  private readonly freeSlots: number[] = [];
  private liveBytes = 0;
  private compiles = 0;
  private translatedInsns = 0;
  private totalBytes = 0;
  private compileMs = 0;
  private translateMs = 0;
  private evictions = 0;
  /** ROMVISOR_JIT_MAX_PAGES overrides the page cap in node, so a test fills the cache and watches it dropped. */
  private readonly maxPages = envCount('ROMVISOR_JIT_MAX_PAGES', MAX_PAGES);

  constructor(
    readonly mode: JitMode,
    private readonly memory: WebAssembly.Memory,
    /** The core's function table (imported by the core, growable). */
    readonly table: WebAssembly.Table,
  ) {}

  /** Connects the instantiated core and turns compiled code on as the mode says. */
  attach(exports: JitCoreExports): void {
    const e = exports as JitCoreExports & Record<string, unknown>;
    this.core = e;
    this.layout = {
      regsOffset: e.REGS_OFFSET.value as number,
      fregsOffset: e.FREGS_OFFSET.value as number,
      tlbLoad: e.TLB_LOAD.value as number,
      tlbStore: e.TLB_STORE.value as number,
      tlbEntries: e.TLB_ENTRIES.value as number,
    };
    this.ramOffset = e.RAM_OFFSET.value as number;
    const core: Record<string, unknown> = {};
    for (const n of CORE_FUNCTIONS) core[n] = e[n];
    for (const [n] of CORE_GLOBALS) core[n] = e[n];
    this.imports = { env: { memory: this.memory }, core: core as WebAssembly.ModuleImports };
    this.configure();
  }

  /** Sets the core's switch again (after a reset, which keeps it, or at attach). */
  configure(): void {
    this.core?.jitConfigure(this.mode === 'off' ? 0 : 1, this.mode === 'eager' ? 1 : autoThreshold());
  }

  /** The core's `jitNote` import: execution entered RAM page `page` at `off` (the page is
   *  warming up, or its code did not know the entry): its next translation includes it. */
  note(page: number, off: number): void {
    let pc = this.pages.get(page) ?? this.learned.get(page);
    if (!pc) this.learned.set(page, (pc = { slot: 0, entries: new Set(), blocks: [], bytes: 0 }));
    pc.entries.add(off);
  }

  /** The core's `jitCompile` import: translate RAM page `page` with entry `off`; the slot, or 0. */
  compile(page: number, off: number): number {
    const core = this.core;
    if (!core || !this.layout || !this.imports) return 0;
    const start = performance.now();
    let pc = this.pages.get(page);
    if (!pc && (this.pages.size >= this.maxPages || this.liveBytes >= MAX_BYTES)) this.evictAll();
    const entries = pc?.entries ?? this.learned.get(page)?.entries ?? new Set<number>();
    this.learned.delete(page);
    entries.add(off);
    const at = this.ramOffset + page * PAGE_SIZE;
    const code = new Uint8Array(this.memory.buffer, at, PAGE_SIZE);
    const t = translatePage(code, entries, this.layout);
    this.translateMs += performance.now() - start;
    const module = new WebAssembly.Module(t.bytes as BufferSource);
    const instance = new WebAssembly.Instance(module, this.imports);
    const slot = pc?.slot ?? this.allocSlot();
    this.table.set(slot, instance.exports.run as WebAssembly.ExportValue as (...args: unknown[]) => unknown);
    if (pc) this.liveBytes -= pc.bytes;
    pc = { slot, entries, blocks: t.blocks, bytes: t.bytes.length };
    this.pages.set(page, pc);
    this.liveBytes += t.bytes.length;
    this.compiles++;
    this.translatedInsns += t.instructions;
    this.totalBytes += t.bytes.length;
    this.compileMs += performance.now() - start;
    return slot;
  }

  private allocSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.table.length;
    this.table.grow(64);
    for (let s = slot + 63; s > slot; s--) this.freeSlots.push(s);
    return slot;
  }

  /** The cache is full: drop every page's code (the core forgets its slots first). */
  private evictAll(): void {
    this.core?.jitForgetAll();
    for (const p of this.pages.values()) {
      this.table.set(p.slot, null);
      this.freeSlots.push(p.slot);
    }
    this.pages.clear();
    this.learned.clear();
    this.liveBytes = 0;
    this.evictions++;
  }

  /** The host wrote guest RAM [ramOffset, ramOffset + length) (DMA, a loader): drop the code there. */
  invalidate(ramOffset: number, length: number): void {
    if (this.mode === 'off' || length <= 0) return;
    this.core?.jitInvalidateRange(BigInt(ramOffset), BigInt(length));
  }

  /** After a reset the core forgot every page: forget the modules too. */
  reset(): void {
    if (this.pages.size > 0) this.evictAll();
    this.configure();
  }

  /** Whether RAM page `page` runs compiled code now (its code was not discarded since). */
  isCompiled(page: number): boolean {
    return (this.core?.jitPageSlot(page) ?? 0) !== 0;
  }

  /** Pages with a module alive, hottest first by known blocks: RAM page, blocks, bytes. */
  compiledPages(): { page: number; blocks: number; bytes: number; live: boolean }[] {
    return [...this.pages.entries()]
      .map(([page, p]) => ({ page, blocks: p.blocks.length, bytes: p.bytes, live: this.isCompiled(page) }))
      .sort((a, b) => b.blocks - a.blocks);
  }

  /**
   * The pages of `ramBytes` of RAM as the inspector shows them. Heat is read from the core's page records (wasm/cpu/jit.ts: after the RAM guard,
   * one record per page, the slot at +0 and the heat at +4).
   */
  inspectPages(ramBytes: number): JitPages {
    const warming: JitPages['warming'] = [];
    const c = this.core;
    if (c && this.mode !== 'off') {
      const count = Math.floor(ramBytes / PAGE_SIZE);
      const recordSize = c.jitRecordBytes(BigInt(ramBytes)) / count;
      const words = new DataView(this.memory.buffer, this.ramOffset + ramBytes + (c.RAM_GUARD.value as number), count * recordSize);
      for (let p = 0; p < count; p++) {
        if (words.getUint32(p * recordSize, true) !== 0) continue;
        const heat = words.getUint32(p * recordSize + 4, true);
        if (heat > 0) warming.push({ page: p, heat });
      }
      warming.sort((a, b) => b.heat - a.heat);
    }
    const compiled = [...this.pages.entries()]
      .filter(([page]) => this.isCompiled(page))
      .map(([page, p]) => ({ page, blocks: p.blocks, bytes: p.bytes }))
      .sort((a, b) => b.blocks.length - a.blocks.length);
    const threshold = this.mode === 'off' ? 0 : this.mode === 'eager' ? 1 : autoThreshold();
    return { threshold, maxPages: this.maxPages, maxBytes: MAX_BYTES, warming, compiled };
  }

  stats(): JitStats {
    const c = this.core;
    let blocks = 0;
    for (const p of this.pages.values()) blocks += p.blocks.length;
    return {
      mode: this.mode,
      compiles: this.compiles,
      pages: this.pages.size,
      blocks,
      translatedInsns: this.translatedInsns,
      bytes: this.liveBytes,
      totalBytes: this.totalBytes,
      compileMs: Math.round(this.compileMs * 10) / 10,
      translateMs: Math.round(this.translateMs * 10) / 10,
      evictions: this.evictions,
      invalidations: c ? Number(c.jitInvalidations.value as bigint) : 0,
      entries: c ? Number(c.jitEntries.value as bigint) : 0,
      jitInsns: c ? Number(c.jitInsns.value as bigint) : 0,
      steps: c ? Number(c.jitSteps.value as bigint) : 0,
      misses: c ? Number(c.jitMisses.value as bigint) : 0,
    };
  }
}
