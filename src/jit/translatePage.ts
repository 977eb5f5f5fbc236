/**
 * The translator: one 4 KiB page of guest code (RV64IMC; everything else stays with the
 * interpreter) to one WebAssembly module exporting `run(vbase, off, limit) -> executed`,
 * the contract wasm/cpu/jit.ts states. Decoding is the inspector's decoder (src/inspect),
 * the one TypeScript decoder; the core's interpreter is the reference for every semantic.
 *
 * Shape: basic blocks (entries, in-page branch targets, fall-throughs of branches, return
 * sites after calls) in groups of GROUP_BLOCKS or more consecutive ones, one wasm function
 * per group: a dispatch loop around a br_table on the offset, so a jump to a block of the
 * group (a loop) stays in the function; a jump to another group's block returns its offset
 * to `run`, which dispatches to that group's function; anything else returns -1 (the
 * hart's pc and jitExit set). The count so far travels in the module's global `n`.
 * Groups, not one function per page: V8 compiles a function when it first runs (Liftoff)
 * and again when it is hot (TurboFan), so only groups that run cost compile time, and
 * TurboFan's cost grows much faster than a function's size (one function per page of
 * kernel code, ~150 blocks, cost it ~45 ms). Not one function per block either: a call
 * per block made tight loops (bench intmix) half again slower.
 *
 * Exactness: a block runs only if its whole length fits in what is left of `limit`
 * (otherwise `run` returns and the interpreter goes on from there). A slow path that
 * faults returns JIT_TRAP at the faulting instruction, uncounted; a slow store that set
 * blockEnd returns JIT_ENDED after it. Instructions the translator does not handle (A, F/D,
 * SYSTEM, reserved encodings, a 32-bit instruction straddling the page end) end the block
 * before them, so the interpreter executes them.
 *
 * Speed: x registers live in wasm locals within a block (loaded on first use, written
 * through to the register file at once, so exits and calls out need no flush); loads and
 * stores probe the core's TLB inline.
 */
import { decodeBase } from '../inspect/decodeBase.ts';
import { decodeCompressed } from '../inspect/decodeCompressed.ts';
import type { DecodedInsn, Operand } from '../inspect/Types.ts';
import { I32, I64, Op, VOID, WasmEmitter } from './WasmEmitter.ts';

export const PAGE_SIZE = 4096;

/** Functions every compiled module imports from the core (module "core"), in this order. */
export const CORE_FUNCTIONS = [
  'loadSlow', 'storeSlow', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'divw', 'divuw', 'remw', 'remuw',
  'jitStep', 'jitFp',
] as const;
/** Mutable globals every compiled module imports from the core, in this order. */
export const CORE_GLOBALS = [
  ['hartPc', I64], ['hartIcount', I64], ['memFault', I32], ['blockEnd', I32], ['jitExit', I32], ['hartMstatus', I64],
] as const;

const F_LOAD_SLOW = 0;
const F_STORE_SLOW = 1;
const F_STEP = CORE_FUNCTIONS.indexOf('jitStep');
const F_FP = CORE_FUNCTIONS.indexOf('jitFp');
const M_CALLS: Record<string, number> = Object.fromEntries(CORE_FUNCTIONS.map((n, i) => [n, i]).slice(2, F_STEP));
const G_PC = 0, G_ICOUNT = 1, G_MEMFAULT = 2, G_BLOCKEND = 3, G_EXIT = 4, G_MSTATUS = 5;
/** mstatus.FS (wasm/cpu/state.ts): off makes FP instructions illegal; an FP load sets it dirty. */
const MSTATUS_FS = 3 << 13;
/** An FLW result is NaN-boxed: its upper 32 bits set. */
const NAN_BOX = -(2 ** 32);
/** The module's own global: the count so far, handed between `run` and the groups. */
const G_N = CORE_GLOBALS.length;
/** Blocks per group function (see above), unless a loop would be cut (groupBlocks). */
const GROUP_BLOCKS = 16;
/** A group grows to at most this many blocks to keep a loop whole. */
const GROUP_BLOCKS_MAX = 64;
/** jitExit values (wasm/cpu/jit.ts). */
const EXIT_CONTINUE = 0, EXIT_ENDED = 1, EXIT_TRAP = 2, EXIT_UNKNOWN = 3;

// Locals of `run`: its parameters, then the offset to run and icount at entry.
const L_VBASE = 0, L_OFF = 1, L_LIMIT = 2, L_RCUR = 3, L_RIC0 = 4;
// Locals of a group's function: its parameters (the page's virtual base, the offset to
// run, the count so far, the limit, icount at entry), scratch, then x1..x31.
const L_CUR = 1, L_N = 2, L_GLIMIT = 3, L_IC0 = 4, L_VA = 5, L_E = 6, L_T = 7;
const xLocal = (r: number) => 7 + r;
/** Function indexes: the imports, `run`, then one per group. */
const F_RUN = CORE_FUNCTIONS.length;

/** Where the core keeps what compiled code touches (from the core's exports). */
export interface CoreLayout {
  regsOffset: number;
  fregsOffset: number;
  tlbLoad: number;
  tlbStore: number;
  tlbEntries: number;
}

export interface TranslatedPage {
  bytes: Uint8Array;
  /** Offsets of the blocks the module dispatches to. */
  blocks: number[];
  /** Guest instructions translated. */
  instructions: number;
}

interface Insn {
  off: number;
  len: number;
  d: DecodedInsn;
  /** Valid, but run by the interpreter (jitStep): A, SYSTEM. */
  step: boolean;
  /** OP-FP or a fused multiply-add: the core's FP code runs it (jitFp). */
  fp: boolean;
  /** The 32-bit encoding (0 for a compressed instruction). */
  raw: number;
}

const LOADS: Record<string, [size: number, fast: number, ext: number | undefined]> = {
  lb: [1, Op.i64Load8S, Op.i64Extend8S], lh: [2, Op.i64Load16S, Op.i64Extend16S], lw: [4, Op.i64Load32S, Op.i64Extend32S],
  ld: [8, Op.i64Load, undefined], lbu: [1, Op.i64Load8U, undefined], lhu: [2, Op.i64Load16U, undefined],
  lwu: [4, Op.i64Load32U, undefined],
};
const STORES: Record<string, [size: number, op: number]> = {
  sb: [1, Op.i64Store8], sh: [2, Op.i64Store16], sw: [4, Op.i64Store32], sd: [8, Op.i64Store],
};
/** FP loads and stores move f registers (in memory, as the interpreter keeps them). */
const FP_LOADS: Record<string, [size: number, fast: number, ext: undefined]> = {
  flw: [4, Op.i64Load32U, undefined], fld: [8, Op.i64Load, undefined],
};
const FP_STORES: Record<string, [size: number, op: number]> = { fsw: [4, Op.i64Store32], fsd: [8, Op.i64Store] };
const BRANCHES: Record<string, number> = {
  beq: Op.i64Eq, bne: Op.i64Ne, blt: Op.i64LtS, bge: Op.i64GeS, bltu: Op.i64LtU, bgeu: Op.i64GeU,
};
const OP_IMM: Record<string, number> = {
  addi: Op.i64Add, xori: Op.i64Xor, ori: Op.i64Or, andi: Op.i64And, slli: Op.i64Shl, srli: Op.i64ShrU, srai: Op.i64ShrS,
};
const OP_REG: Record<string, number> = {
  add: Op.i64Add, sub: Op.i64Sub, sll: Op.i64Shl, srl: Op.i64ShrU, sra: Op.i64ShrS, xor: Op.i64Xor, or: Op.i64Or,
  and: Op.i64And, mul: Op.i64Mul,
};
const OP_W: Record<string, number> = { sllw: Op.i32Shl, srlw: Op.i32ShrU, sraw: Op.i32ShrS };
const OP_IMM_W: Record<string, number> = { slliw: Op.i32Shl, srliw: Op.i32ShrU, sraiw: Op.i32ShrS };
const NOPS = new Set(['fence', 'fence.tso', 'fence.i']);

/** The instruction at `off`, or undefined when the block must end before it (a reserved
 *  encoding: the interpreter raises its exception; a 32-bit one straddling the page end). */
function decodeAt(code: Uint8Array, off: number): Insn | undefined {
  if (off + 2 > PAGE_SIZE) return undefined;
  const lo = code[off]! | (code[off + 1]! << 8);
  let d: DecodedInsn | undefined;
  let len: number;
  let raw = 0;
  if ((lo & 3) !== 3) {
    d = decodeCompressed(lo, BigInt(off))?.expanded;
    len = 2;
  } else {
    if (off + 4 > PAGE_SIZE) return undefined; // straddles the page end: the interpreter fetches it
    raw = (lo | (code[off + 2]! << 16) | (code[off + 3]! << 24)) >>> 0;
    d = decodeBase(raw | 0, BigInt(off));
    len = 4;
  }
  if (d === undefined) return undefined;
  const op = raw & 0x7f;
  const fp = raw !== 0 && (op === 0x53 || op === 0x43 || op === 0x47 || op === 0x4b || op === 0x4f);
  return { off, len, d, step: !fp && !HANDLED.has(d.mnemonic), fp, raw };
}

const HANDLED = new Set([
  ...Object.keys(LOADS), ...Object.keys(STORES), ...Object.keys(FP_LOADS), ...Object.keys(FP_STORES), ...Object.keys(BRANCHES), ...Object.keys(OP_IMM), ...Object.keys(OP_REG),
  ...Object.keys(OP_W), ...Object.keys(OP_IMM_W), ...Object.keys(M_CALLS), ...NOPS,
  'lui', 'auipc', 'jal', 'jalr', 'slti', 'sltiu', 'slt', 'sltu', 'addiw', 'addw', 'subw', 'mulw',
]);

/** Target of a branch or jal as an offset from the page base (may lie outside the page). */
function targetOf(op: Operand | undefined): number {
  if (op?.kind !== 'target') throw new Error('translator: a branch without a target operand');
  return Number(BigInt.asIntN(64, op.address));
}
const reg = (op: Operand | undefined): number => {
  if (op?.kind !== 'x') throw new Error('translator: expected an x register operand');
  return op.reg;
};
const fReg = (op: Operand | undefined): number => {
  if (op?.kind !== 'f') throw new Error('translator: expected an f register operand');
  return op.reg;
};
const immOf = (op: Operand | undefined): number => {
  if (op?.kind !== 'imm') throw new Error('translator: expected an immediate operand');
  return op.value;
};
const memOf = (op: Operand | undefined): { base: number; offset: number } => {
  if (op?.kind !== 'mem') throw new Error('translator: expected a memory operand');
  return { base: op.base, offset: op.offset ?? 0 };
};

const inPage = (t: number) => t >= 0 && t < PAGE_SIZE;
const ends = (m: string) => m in BRANCHES || m === 'jal' || m === 'jalr';

/** Decodes each offset of one page once per translation. */
type Decoder = (off: number) => Insn | undefined;
function decoderFor(code: Uint8Array): Decoder {
  const seen = new Map<number, Insn | undefined>();
  return (off) => {
    if (seen.has(off)) return seen.get(off);
    const i = decodeAt(code, off);
    seen.set(off, i);
    return i;
  };
}

/** Every block start reachable inside the page from `entries`. */
function discover(decode: Decoder, entries: Iterable<number>): number[] {
  const starts = new Set<number>();
  const work = [...entries];
  const add = (t: number) => {
    if (inPage(t) && !starts.has(t)) work.push(t);
  };
  while (work.length > 0) {
    const s = work.pop()!;
    if (starts.has(s)) continue;
    starts.add(s);
    for (let off = s; ;) {
      const i = decode(off);
      if (!i) break;
      const m = i.d.mnemonic;
      if (m in BRANCHES) {
        add(targetOf(i.d.operands[2]));
        add(off + i.len);
        break;
      }
      if (m === 'jal' || m === 'jalr') {
        if (m === 'jal') add(targetOf(i.d.operands[1]));
        // After a call its return lands. (Not after a plain jump: blocks there made
        // pages' modules five times larger, and V8's compile time follows the size.)
        if (reg(i.d.operands[0]) !== 0) add(off + i.len);
        break;
      }
      off += i.len;
      if (starts.has(off) || off >= PAGE_SIZE) break;
    }
  }
  return [...starts].sort((a, b) => a - b);
}

/** Translates one page. `code` is its 4096 bytes; `entries` the offsets execution entered at. */
export function translatePage(code: Uint8Array, entries: Iterable<number>, layout: CoreLayout): TranslatedPage {
  const decode = decoderFor(code);
  const starts = discover(decode, entries);
  const startSet = new Set(starts);
  const blocks = starts.map((st) => blockAt(decode, st, startSet));
  const K = starts.length;
  const firsts = groupBlocks(starts, blocks);
  const groups = firsts.length;
  const groupOf = new Map<number, number>();
  for (let g = 0; g < groups; g++) for (let i = firsts[g]!; i < (firsts[g + 1] ?? K); i++) groupOf.set(starts[i]!, g);

  // --- run: dispatch to the group that holds cur ---
  const f = new WasmEmitter(1024);
  f.i64(0).op(Op.globalSet).u32(G_N);
  f.op(Op.globalGet).u32(G_ICOUNT).set(L_RIC0);
  f.get(L_OFF).set(L_RCUR);
  f.op(Op.loop).byte(VOID);
  f.op(Op.block).byte(VOID); // $next
  f.op(Op.block).byte(VOID); // $unknown
  for (let i = groups - 1; i >= 0; i--) f.op(Op.block).byte(VOID);
  // Dispatch on cur / 2: group i is at depth i, $unknown at depth `groups`.
  const table = new Array<number>((starts[K - 1]! >> 1) + 1).fill(groups);
  for (const st of starts) table[st >> 1] = groupOf.get(st)!;
  f.get(L_RCUR).i32(1).op(Op.i32ShrU).op(Op.brTable).u32(table.length);
  for (const t of table) f.u32(t);
  f.u32(groups);
  for (let g = 0; g < groups; g++) {
    f.op(Op.end); // closes group g's block: the call follows, inside the blocks of g+1.., $unknown and $next
    f.get(L_VBASE).get(L_RCUR).op(Op.globalGet).u32(G_N).get(L_LIMIT).get(L_RIC0);
    f.op(Op.call).u32(F_RUN + 1 + g).set(L_RCUR).op(Op.br).u32(groups - g);
  }
  f.op(Op.end); // $unknown
  f.get(L_VBASE).get(L_RCUR).op(Op.i64ExtendI32U).op(Op.i64Add).op(Op.globalSet).u32(G_PC);
  f.i32(EXIT_UNKNOWN).op(Op.globalSet).u32(G_EXIT);
  f.op(Op.globalGet).u32(G_N).op(Op.return);
  f.op(Op.end); // $next: a group returned the next offset, or -1 to return
  f.get(L_RCUR).i32(0).op(Op.i32GeS).op(Op.brIf).u32(0);
  f.op(Op.globalGet).u32(G_N).op(Op.return);
  f.op(Op.end); // loop
  f.op(Op.unreachable);
  f.op(Op.end);

  // --- one function per group, all emitted into one buffer ---
  let instructions = 0;
  const body = new WasmEmitter(16384);
  const ends: number[] = [];
  for (let g = 0; g < groups; g++) {
    const first = firsts[g]!;
    const last = (firsts[g + 1] ?? K) - 1;
    const G = last - first + 1;
    const maxLen = Math.max(1, ...blocks.slice(first, last + 1).map((bl) => bl.length));
    body.op(Op.loop).byte(VOID);
    // Exactness, checked once per dispatch: the next block runs only if the group's
    // longest block still fits in the limit; otherwise back to the interpreter, which runs
    // the last few instructions (a per-block check made every block larger).
    body.get(L_N).i64(maxLen).op(Op.i64Add).get(L_GLIMIT).op(Op.i64GtU).op(Op.if).byte(VOID);
    exit(body, () => body.get(L_VBASE).get(L_CUR).op(Op.i64ExtendI32U).op(Op.i64Add), EXIT_CONTINUE, () => body.get(L_N));
    body.op(Op.end);
    body.op(Op.block).byte(VOID); // $other: not a block of this group: back to run
    for (let i = G - 1; i >= 0; i--) body.op(Op.block).byte(VOID);
    // Dispatch on (cur - the group's first start) / 2: block i is at depth i, $other at depth G.
    const base = starts[first]!;
    const gt = new Array<number>(((starts[last]! - base) >> 1) + 1).fill(G);
    for (let i = 0; i < G; i++) gt[(starts[first + i]! - base) >> 1] = i;
    body.get(L_CUR);
    if (base !== 0) body.i32(base).op(Op.i32Sub);
    body.i32(1).op(Op.i32ShrU).op(Op.brTable).u32(gt.length);
    for (const t of gt) body.u32(t);
    body.u32(G);
    for (let i = 0; i < G; i++) {
      body.op(Op.end); // closes block i: its code follows, inside blocks i+1..G-1, $other and the loop
      const b = first + i;
      instructions += emitBlock(body, blocks[b]!, starts[b]!, startSet, (t) => groupOf.get(t) === g, G - i, layout);
    }
    body.op(Op.end); // $other
    body.get(L_N).op(Op.globalSet).u32(G_N).get(L_CUR).op(Op.return);
    body.op(Op.end); // loop
    body.op(Op.unreachable);
    body.op(Op.end);
    ends.push(body.length);
  }
  return { bytes: wrapModule(f, body, ends), blocks: starts, instructions };
}

/**
 * Where the groups start (indexes into `starts`, sorted; the first is 0). A group takes
 * GROUP_BLOCKS blocks, more (up to GROUP_BLOCKS_MAX) when the cut there would split a loop
 * (a jump back from a later block to an earlier one across it), since each pass of such a
 * loop went through `run` twice (bench intmix ran ~25% slower that way); if no cut in
 * reach is free of loops, the one that splits fewest.
 */
function groupBlocks(starts: number[], blocks: Insn[][]): number[] {
  const K = starts.length;
  const index = new Map(starts.map((st, i) => [st, i]));
  // crossing[c]: loops that a cut before block c splits (a difference array, summed below).
  const crossing = new Array<number>(K + 1).fill(0);
  blocks.forEach((insns, b) => {
    const last = insns[insns.length - 1];
    if (!last) return;
    const m = last.d.mnemonic;
    const target = m in BRANCHES ? targetOf(last.d.operands[2]) : m === 'jal' ? targetOf(last.d.operands[1]) : -1;
    const t = index.get(target);
    if (t === undefined || t > b) return;
    crossing[t + 1]!++;
    crossing[b + 1]!--;
  });
  for (let c = 1; c <= K; c++) crossing[c]! += crossing[c - 1]!;
  const firsts: number[] = [];
  for (let first = 0; first < K;) {
    firsts.push(first);
    let cut = Math.min(K, first + GROUP_BLOCKS);
    for (let c = cut; c <= Math.min(K, first + GROUP_BLOCKS_MAX) && crossing[cut]! > 0; c++) {
      if (crossing[c]! < crossing[cut]!) cut = c;
    }
    first = cut;
  }
  return firsts;
}

/** Leaves the group and `run`: sets pc and jitExit, the count `n` pushes, returns -1. */
function exit(f: WasmEmitter, pc: (() => void) | undefined, status: number, n: () => void): void {
  if (pc) {
    pc();
    f.op(Op.globalSet).u32(G_PC);
  }
  f.i32(status).op(Op.globalSet).u32(G_EXIT);
  n();
  f.op(Op.globalSet).u32(G_N);
  f.i32(-1).op(Op.return);
}

/** The instructions of the block at `start`: to a jump, the page end, the next block, or
 *  what only the interpreter may start (a reserved encoding, a straddling instruction). */
function blockAt(decode: Decoder, start: number, starts: Set<number>): Insn[] {
  const insns: Insn[] = [];
  let next = start;
  for (;;) {
    const i = decode(next);
    if (!i) break;
    insns.push(i);
    next += i.len;
    if (ends(i.d.mnemonic) || next >= PAGE_SIZE || starts.has(next)) break;
  }
  return insns;
}

/**
 * Emits the block at `start` inside its group's function; `inGroup` says which offsets are
 * blocks of the same group, `loopDepth` is the br depth of the group's dispatch loop from
 * the block's top level. Returns how many instructions it holds.
 */
function emitBlock(
  f: WasmEmitter, insns: Insn[], start: number, starts: Set<number>, inGroup: (off: number) => boolean, loopDepth: number,
  layout: CoreLayout,
): number {
  const last = insns[insns.length - 1];
  const next = last ? last.off + last.len : start;
  const L = insns.length;
  // x registers: read once per block into locals, written through to memory at once, so
  // every exit and call out finds memory up to date and needs no write-back code (which
  // made modules several times larger: a flush at each of the many exits).
  const cached = new Set<number>();
  let depth = 0; // ifs opened around the current code

  const readX = (r: number) => {
    if (r === 0) f.i64(0);
    else if (cached.has(r)) f.get(xLocal(r));
    else {
      f.i32(0).mem(Op.i64Load, layout.regsOffset + 8 * r).tee(xLocal(r));
      cached.add(r);
    }
  };
  /** Pops the value on the stack into x[r]. */
  const writeX = (r: number) => {
    if (r === 0) f.op(Op.drop);
    else {
      f.set(xLocal(r));
      f.i32(0).get(xLocal(r)).mem(Op.i64Store, layout.regsOffset + 8 * r);
      cached.add(r);
    }
  };
  const vpc = (off: number) => () => f.get(L_VBASE).i64(off).op(Op.i64Add);
  /** n after `done` instructions of this block (n already counts all L). */
  const nAfter = (done: number) => () => {
    f.get(L_N);
    if (done !== L) f.i64(L - done).op(Op.i64Sub);
  };
  const setIcount = (done: number) => {
    f.get(L_IC0);
    nAfter(done)();
    f.op(Op.i64Add).op(Op.globalSet).u32(G_ICOUNT);
  };
  /** Continues at page offset t after the block: the group's dispatch if t is one of its
   *  blocks, run's if t is another group's, else out to the interpreter. */
  const goTo = (t: number) => {
    if (inGroup(t)) {
      f.i32(t).set(L_CUR).op(Op.br).u32(loopDepth + depth);
    } else if (starts.has(t)) {
      f.get(L_N).op(Op.globalSet).u32(G_N).i32(t).op(Op.return);
    } else {
      exit(f, vpc(t), EXIT_CONTINUE, nAfter(L));
    }
  };

  if (L === 0) {
    // The entry is something only the interpreter runs.
    exit(f, vpc(start), EXIT_CONTINUE, () => f.get(L_N));
    return 0;
  }
  // (The dispatch checked that it fits.)
  f.get(L_N).i64(L).op(Op.i64Add).set(L_N);

  for (let j = 0; j < L; j++) {
    const { off, len, d, step, fp, raw } = insns[j]!;
    const m = d.mnemonic;
    const o = d.operands;
    if (fp) {
      // FP arithmetic in the core's softfloat; it may read or write an x register.
      f.i32(raw | 0).op(Op.call).u32(F_FP).op(Op.i32Eqz).op(Op.if).byte(VOID);
      exit(f, vpc(off), EXIT_CONTINUE, nAfter(j));
      f.op(Op.end);
      cached.clear();
      continue;
    }
    if (step) {
      // The interpreter runs it (memory holds every register); they are reloaded after.
      setIcount(j);
      vpc(off)();
      f.op(Op.call).u32(F_STEP).op(Op.if).byte(VOID);
      exit(f, undefined, EXIT_ENDED, nAfter(j + 1));
      f.op(Op.end);
      f.op(Op.globalGet).u32(G_PC);
      vpc(off + len)();
      f.op(Op.i64Ne).op(Op.if).byte(VOID);
      exit(f, undefined, EXIT_CONTINUE, nAfter(j + 1));
      f.op(Op.end);
      cached.clear();
      continue;
    }
    if (m in LOADS || m in STORES || m in FP_LOADS || m in FP_STORES) {
      const fpMem = m in FP_LOADS || m in FP_STORES;
      const isLoad = m in LOADS || m in FP_LOADS;
      const [size, fastOp, ext] = isLoad ? (LOADS[m] ?? FP_LOADS[m])! : [...(STORES[m] ?? FP_STORES[m])!, undefined];
      const { base, offset } = memOf(o[1]);
      if (fpMem) {
        // FS off: the instruction is illegal; the interpreter raises it.
        f.op(Op.globalGet).u32(G_MSTATUS).i64(MSTATUS_FS).op(Op.i64And).op(Op.i64Eqz).op(Op.if).byte(VOID);
        exit(f, vpc(off), EXIT_CONTINUE, nAfter(j));
        f.op(Op.end);
      }
      readX(base);
      f.i64(offset).op(Op.i64Add).set(L_VA);
      if (!isLoad) {
        if (fpMem) f.i32(0).mem(Op.i64Load, layout.fregsOffset + 8 * fReg(o[0]));
        else readX(reg(o[0]));
        f.set(L_T);
      }
      const tlb = isLoad ? layout.tlbLoad : layout.tlbStore;
      // The core's TLB probe (mmu.ts): tag == va with in-page bits cleared except those below the size.
      f.get(L_VA).i64(12).op(Op.i64ShrU).op(Op.i32WrapI64).i32(layout.tlbEntries - 1).op(Op.i32And).i32(4).op(Op.i32Shl).tee(L_E);
      f.mem(Op.i64Load, tlb);
      f.get(L_VA).i64(~(0xfff ^ (size - 1))).op(Op.i64And).op(Op.i64Eq);
      f.op(Op.if).byte(isLoad ? I64 : VOID);
      depth++;
      f.get(L_VA).get(L_E).mem(Op.i64Load, tlb + 8).op(Op.i64Add).op(Op.i32WrapI64);
      if (isLoad) f.mem(fastOp, 0);
      else f.get(L_T).mem(fastOp, 0);
      f.op(Op.else);
      setIcount(j);
      if (isLoad) {
        f.get(L_VA).i32(size).op(Op.call).u32(F_LOAD_SLOW);
        if (ext !== undefined) f.op(ext);
      } else {
        f.get(L_VA).i32(size).get(L_T).op(Op.call).u32(F_STORE_SLOW);
      }
      f.op(Op.globalGet).u32(G_MEMFAULT).op(Op.if).byte(VOID);
      exit(f, vpc(off), EXIT_TRAP, nAfter(j));
      f.op(Op.end);
      if (!isLoad) {
        // A device write, a stop request or a store into a page with code ends the block here.
        f.op(Op.globalGet).u32(G_BLOCKEND).op(Op.if).byte(VOID);
        f.i32(0).op(Op.globalSet).u32(G_BLOCKEND);
        exit(f, vpc(off + len), EXIT_ENDED, nAfter(j + 1));
        f.op(Op.end);
      }
      f.op(Op.end);
      depth--;
      if (isLoad && fpMem) {
        // f[rd] = the value (an FLW's NaN-boxed), and mstatus.FS dirty, as the interpreter does.
        if (size === 4) f.i64(NAN_BOX).op(Op.i64Or);
        f.set(L_T).i32(0).get(L_T).mem(Op.i64Store, layout.fregsOffset + 8 * fReg(o[0]));
        f.op(Op.globalGet).u32(G_MSTATUS).i64(MSTATUS_FS).op(Op.i64Or).op(Op.globalSet).u32(G_MSTATUS);
      } else if (isLoad) {
        writeX(reg(o[0]));
      }
      continue;
    }
    if (m in BRANCHES) {
      readX(reg(o[0]));
      readX(reg(o[1]));
      f.op(BRANCHES[m]!);
      f.op(Op.if).byte(VOID);
      depth++;
      goTo(targetOf(o[2]));
      f.op(Op.end);
      depth--;
      goTo(off + len);
      return L;
    }
    switch (m) {
      case 'lui':
        f.i64((immOf(o[1]) << 12) | 0);
        writeX(reg(o[0]));
        break;
      case 'auipc':
        f.get(L_VBASE).i64(off + ((immOf(o[1]) << 12) | 0)).op(Op.i64Add);
        writeX(reg(o[0]));
        break;
      case 'jal':
        f.get(L_VBASE).i64(off + len).op(Op.i64Add);
        writeX(reg(o[0]));
        goTo(targetOf(o[1]));
        return L;
      case 'jalr': {
        const { base, offset } = memOf(o[1]);
        readX(base);
        f.i64(offset).op(Op.i64Add).i64(-2).op(Op.i64And).set(L_T);
        f.get(L_VBASE).i64(off + len).op(Op.i64Add);
        writeX(reg(o[0]));
        // A target in this page goes back to the dispatch; an unknown one exits there.
        f.get(L_T).get(L_VBASE).op(Op.i64Sub).i64(PAGE_SIZE).op(Op.i64LtU).op(Op.if).byte(VOID);
        // (To the group's dispatch, which hands it to run's if it is not the group's.)
        f.get(L_T).get(L_VBASE).op(Op.i64Sub).op(Op.i32WrapI64).set(L_CUR).op(Op.br).u32(loopDepth + depth + 1);
        f.op(Op.end);
        exit(f, () => f.get(L_T), EXIT_CONTINUE, nAfter(L));
        return L;
      }
      case 'slti':
      case 'sltiu':
        readX(reg(o[1]));
        f.i64(immOf(o[2])).op(m === 'slti' ? Op.i64LtS : Op.i64LtU).op(Op.i64ExtendI32U);
        writeX(reg(o[0]));
        break;
      case 'slt':
      case 'sltu':
        readX(reg(o[1]));
        readX(reg(o[2]));
        f.op(m === 'slt' ? Op.i64LtS : Op.i64LtU).op(Op.i64ExtendI32U);
        writeX(reg(o[0]));
        break;
      case 'addiw':
        readX(reg(o[1]));
        f.i64(immOf(o[2])).op(Op.i64Add).op(Op.i64Extend32S);
        writeX(reg(o[0]));
        break;
      case 'addw':
      case 'subw':
      case 'mulw':
        readX(reg(o[1]));
        readX(reg(o[2]));
        f.op(m === 'addw' ? Op.i64Add : m === 'subw' ? Op.i64Sub : Op.i64Mul).op(Op.i64Extend32S);
        writeX(reg(o[0]));
        break;
      default:
        if (m in OP_IMM) {
          readX(reg(o[1]));
          f.i64(immOf(o[2])).op(OP_IMM[m]!);
          writeX(reg(o[0]));
        } else if (m in OP_REG) {
          readX(reg(o[1]));
          readX(reg(o[2]));
          f.op(OP_REG[m]!);
          writeX(reg(o[0]));
        } else if (m in OP_IMM_W) {
          readX(reg(o[1]));
          f.op(Op.i32WrapI64).i32(immOf(o[2])).op(OP_IMM_W[m]!).op(Op.i64ExtendI32S);
          writeX(reg(o[0]));
        } else if (m in OP_W) {
          readX(reg(o[1]));
          f.op(Op.i32WrapI64);
          readX(reg(o[2]));
          f.op(Op.i32WrapI64).op(OP_W[m]!).op(Op.i64ExtendI32S);
          writeX(reg(o[0]));
        } else if (m in M_CALLS) {
          readX(reg(o[1]));
          readX(reg(o[2]));
          f.op(Op.call).u32(M_CALLS[m]!);
          writeX(reg(o[0]));
        } else if (!NOPS.has(m)) {
          throw new Error(`translator: no translation for ${m}`);
        }
    }
  }
  // Straight-line end: the next block, or back to the interpreter before what it must run.
  goTo(next);
  return L;
}

/** The type and import sections are the same for every page: built once, at the first
 *  compile (not at import: the page's main thread imports this module and never compiles). */
let moduleHead: Uint8Array | undefined;
/** Type indexes (buildModuleHead). */
const T_RUN = 0, T_GROUP = 6;
function buildModuleHead(): Uint8Array {
  const m = new WasmEmitter();
  m.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  // Types: 0 run, 1 loadSlow, 2 storeSlow, 3 the M helpers, 4 jitStep, 5 jitFp, 6 a group.
  const types = new WasmEmitter().u32(7);
  types.byte(0x60).u32(3).bytes([I64, I32, I64]).u32(1).byte(I64);
  types.byte(0x60).u32(2).bytes([I64, I32]).u32(1).byte(I64);
  types.byte(0x60).u32(3).bytes([I64, I32, I64]).u32(0);
  types.byte(0x60).u32(2).bytes([I64, I64]).u32(1).byte(I64);
  types.byte(0x60).u32(1).byte(I64).u32(1).byte(I32);
  types.byte(0x60).u32(1).byte(I32).u32(1).byte(I32);
  types.byte(0x60).u32(5).bytes([I64, I32, I64, I64, I64]).u32(1).byte(I32);
  m.section(1, types);
  const imports = new WasmEmitter().u32(1 + CORE_FUNCTIONS.length + CORE_GLOBALS.length);
  imports.name('env').name('memory').byte(0x02).byte(0x00).u32(0);
  CORE_FUNCTIONS.forEach((n, i) => imports.name('core').name(n).byte(0x00).u32(i === 0 ? 1 : i === 1 ? 2 : i === F_STEP ? 4 : i === F_FP ? 5 : 3));
  for (const [n, t] of CORE_GLOBALS) imports.name('core').name(n).byte(0x03).byte(t).byte(0x01);
  m.section(2, imports);
  return m.finish();
}

/** The module around `run` and the groups' functions (`bodies`, each ending at its entry
 *  of `ends`): imports, functions, the global n, the export. */
function wrapModule(run: WasmEmitter, bodies: WasmEmitter, ends: number[]): Uint8Array {
  const m = new WasmEmitter(bodies.length + run.length + 4096);
  m.bytes((moduleHead ??= buildModuleHead()));
  const funcs = new WasmEmitter(ends.length + 8).u32(1 + ends.length).u32(T_RUN);
  for (let i = 0; i < ends.length; i++) funcs.u32(T_GROUP);
  m.section(3, funcs);
  m.section(6, new WasmEmitter().u32(1).byte(I64).byte(0x01).i64(0).op(Op.end));
  m.section(7, new WasmEmitter().u32(1).name('run').byte(0x00).u32(F_RUN));
  const code = new WasmEmitter(bodies.length + run.length + 16 * ends.length + 64).u32(1 + ends.length);
  // run's locals after its 3 parameters: cur, ic0.
  const runLocals = [2, 1, I32, 1, I64];
  code.u32(runLocals.length + run.length).bytes(runLocals).bytes(run.view());
  // A group's locals after its 5 parameters: va, e, t, x1..x31.
  const locals = [4, 1, I64, 1, I32, 1, I64, 31, I64];
  let start = 0;
  for (const end of ends) {
    code.u32(locals.length + end - start).bytes(locals).bytes(bodies.view(start, end));
    start = end;
  }
  m.section(10, code);
  return m.finish();
}
