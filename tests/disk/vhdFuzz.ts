// Mutation fuzzer for the VHD layer: damaged images must end in success or a VhdError,
// never another exception, a hang or an unbounded allocation. `fuzzVhd(count, seed)` is
// what `npm run fuzz` calls for long runs; vhdFuzz.test.ts runs 1,000 cases.
import { checkVhd, MemoryBackend, VhdDisk, VhdError, type ParentResolver } from '../../src/disk/index.ts';
import { SeededRandom } from '../SeededRandom.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Writes and exports on a mutated image may grow it; beyond this is a bug, not a case. */
const BACKEND_LIMIT = 600 * MiB;
/** arrayBuffers above this after a case means something allocated without bound. */
const MEMORY_ALARM = 1536 * MiB;

export interface FuzzStats {
  cases: number;
  opened: number;
  /** VhdError codes seen, with counts: evidence the mutations reach deep validation. */
  rejected: Record<string, number>;
  /** One line per case that ended in anything but success or a VhdError. */
  failures: string[];
}

interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  /** Offset of the checksum that covers the field, relative to the structure start. */
  structure: 'footer' | 'header' | 'none';
}

interface Seed {
  name: string;
  bytes: Uint8Array;
  /** Fields worth overwriting, as absolute offsets in `bytes`. */
  fields: Field[];
  /** Ranges [start, end) where bit flips matter most (metadata). */
  hot: [number, number][];
  footerAt: number[];
  headerAt?: number;
  /** Parent images by unique id, for the resolver. */
  parents: Map<string, Uint8Array>;
}

const FOOTER_FIELDS: [number, 1 | 2 | 4 | 8][] = [[8, 4], [12, 4], [16, 8], [24, 4], [28, 4], [40, 8], [48, 8], [56, 2], [58, 1], [59, 1], [60, 4], [68, 8], [76, 8]];
const HEADER_FIELDS: [number, 1 | 2 | 4 | 8][] = [[8, 8], [16, 8], [24, 4], [28, 4], [32, 4], [40, 8], [48, 8], [56, 4], [64, 8],
  ...Array.from({ length: 8 }, (_, i): [number, 4 | 8][] => [[576 + i * 24, 4], [580 + i * 24, 4], [584 + i * 24, 4], [592 + i * 24, 8]]).flat()];

function rd32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(at);
}

function describeSeed(name: string, bytes: Uint8Array, parents: Map<string, Uint8Array>): Seed {
  const footerAt = [bytes.length - 512];
  const fields: Field[] = [];
  const hot: [number, number][] = [[bytes.length - 512, bytes.length]];
  let headerAt: number | undefined;
  const type = rd32(bytes, bytes.length - 512 + 60);
  for (const [f, w] of FOOTER_FIELDS) fields.push({ at: bytes.length - 512 + f, width: w, structure: 'footer' });
  if (type !== 2) {
    footerAt.push(0);
    hot.push([0, 512]);
    for (const [f, w] of FOOTER_FIELDS) fields.push({ at: f, width: w, structure: 'footer' });
    headerAt = 512;
    hot.push([512, 1536]);
    for (const [f, w] of HEADER_FIELDS) fields.push({ at: 512 + f, width: w, structure: 'header' });
    const tableOffset = rd32(bytes, 512 + 20);
    const entries = rd32(bytes, 512 + 28);
    hot.push([tableOffset, tableOffset + entries * 4]);
    for (let i = 0; i < entries; i++) fields.push({ at: tableOffset + i * 4, width: 4, structure: 'none' });
    for (let i = 0; i < 8; i++) {
      const len = rd32(bytes, 512 + 576 + i * 24 + 8);
      const off = rd32(bytes, 512 + 576 + i * 24 + 20);
      if (len > 0) hot.push([off, off + len]);
    }
  }
  return { name, bytes, fields, hot, footerAt, headerAt, parents };
}

/** Builds the unmutated images: fixed, dynamic (2 MiB and 4 KiB blocks), a chain, a loop. */
async function buildSeeds(): Promise<Seed[]> {
  const fill = (n: number, k: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + k * 7 + (i >> 9)) & 0xff);
  const seeds: Seed[] = [];

  const fixed = new MemoryBackend();
  const f = await VhdDisk.createFixed(fixed, 128 * KiB, { timeStamp: 1 });
  await f.write(4 * KiB, fill(8 * KiB, 1));
  seeds.push(describeSeed('fixed', fixed.bytes(), new Map()));

  const big = new MemoryBackend();
  const d = await VhdDisk.createDynamic(big, 6 * MiB, { timeStamp: 2 });
  await d.write(2 * MiB + 512, fill(3 * KiB, 2));
  seeds.push(describeSeed('dynamic-2M', big.bytes(), new Map()));

  const small = new MemoryBackend();
  const s = await VhdDisk.createDynamic(small, 256 * KiB + 512, { blockSize: 4 * KiB, timeStamp: 3 });
  for (let i = 0; i < 12; i++) await s.write(i * 20 * KiB + 512 * (i % 8), fill(1024, i));
  seeds.push(describeSeed('dynamic-4K', small.bytes(), new Map()));

  const parentB = new MemoryBackend();
  const parent = await VhdDisk.createDynamic(parentB, 256 * KiB, { blockSize: 8 * KiB, timeStamp: 4 });
  await parent.write(0, fill(256 * KiB, 9));
  const childB = new MemoryBackend();
  const child = await VhdDisk.createDifferencing(childB, parent, { parentRelativePath: './parent.vhd', parentAbsolutePath: '/images/parent.vhd', timeStamp: 5 });
  for (let i = 0; i < 6; i++) await child.write(i * 40 * KiB + 1024, fill(2048, 20 + i));
  seeds.push(describeSeed('differencing', childB.bytes(), new Map([[parent.uuid, parentB.bytes()]])));

  // C -> P2 -> C: P2 claims P's unique id but is itself a child of C.
  const p2B = new MemoryBackend();
  await VhdDisk.createDifferencing(p2B, child, { uniqueId: parent.footer.uniqueId, timeStamp: 6 });
  seeds.push(describeSeed('loop', childB.bytes(), new Map([[parent.uuid, p2B.bytes()], [child.uuid, childB.bytes()]])));
  return seeds;
}

const EXTREMES = [0, 1, 2, 3, 4, 0x1ff, 0x200, 0x201, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function fixChecksum(bytes: Uint8Array, start: number, length: number, checksumOffset: number): void {
  if (start < 0 || start + length > bytes.length) return;
  let sum = 0;
  for (let i = 0; i < length; i++) if (i < checksumOffset || i >= checksumOffset + 4) sum += bytes[start + i]!;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(start + checksumOffset, ~sum >>> 0);
}

function mutate(seed: Seed, rnd: () => number): { bytes: Uint8Array; what: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let bytes = seed.bytes.slice();
  const view = (): DataView => new DataView(bytes.buffer, bytes.byteOffset);
  const steps: string[] = [];
  const rounds = 1 + Math.floor(rnd() * 3);
  for (let r = 0; r < rounds; r++) {
    const kind = rnd();
    if (kind < 0.3) {
      const [a, b] = rnd() < 0.85 ? pick(seed.hot) : [0, bytes.length];
      const flips = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < flips && b > a; i++) {
        const at = a + Math.floor(rnd() * (b - a));
        if (at < bytes.length) bytes[at]! ^= 1 << Math.floor(rnd() * 8);
      }
      steps.push(`flip ${flips} bits in [${a}, ${b})`);
    } else if (kind < 0.75) {
      const f = pick(seed.fields);
      if (f.at + f.width > bytes.length) continue;
      const v = rnd() < 0.7 ? pick(EXTREMES) : pick([bytes.length, bytes.length / 512, bytes.length - 512, Math.floor(rnd() * 2 ** 32), (bytes.length / 512) >>> 0]);
      const dv = view();
      if (f.width === 1) dv.setUint8(f.at, v & 0xff);
      else if (f.width === 2) dv.setUint16(f.at, v & 0xffff);
      else if (f.width === 4) dv.setUint32(f.at, v >>> 0);
      else {
        dv.setUint32(f.at, rnd() < 0.5 ? 0 : pick(EXTREMES));
        dv.setUint32(f.at + 4, v >>> 0);
      }
      steps.push(`set ${f.width}-byte field at ${f.at} to ${v}`);
    } else if (kind < 0.85) {
      const cut = rnd() < 0.5 ? Math.floor(rnd() * bytes.length) : bytes.length - 1 - Math.floor(rnd() * 4096);
      bytes = bytes.slice(0, Math.max(0, cut));
      steps.push(`truncate to ${bytes.length}`);
    } else if (kind < 0.9) {
      const extra = new Uint8Array(Math.floor(rnd() * 8192));
      for (let i = 0; i < extra.length; i++) extra[i] = Math.floor(rnd() * 256);
      const grown = new Uint8Array(bytes.length + extra.length);
      grown.set(bytes);
      grown.set(extra, bytes.length);
      bytes = grown;
      steps.push(`append ${extra.length} random bytes`);
    } else if (seed.headerAt !== undefined && bytes.length > seed.headerAt + 1024) {
      // Point the parent id at this disk itself (a one-disk loop) or at random bytes.
      const own = bytes.slice(bytes.length - 512 + 68, bytes.length - 512 + 84);
      bytes.set(rnd() < 0.5 ? own : own.map(() => Math.floor(rnd() * 256)), seed.headerAt + 40);
      steps.push('rewrite parent unique id');
    }
  }
  // Most of the time, make checksums right again so validation beyond them is reached.
  if (rnd() < 0.7) {
    const tail = bytes.length - 512;
    if (tail >= 0) fixChecksum(bytes, tail, 512, 64);
    if (seed.headerAt !== undefined) {
      fixChecksum(bytes, 0, 512, 64);
      fixChecksum(bytes, seed.headerAt, 1024, 36);
    }
    steps.push('fix checksums');
  }
  return { bytes, what: steps.join('; ') };
}

function resolverFor(seed: Seed, all: Seed[], rnd: () => number): ParentResolver {
  const mode = rnd();
  const stranger = all[Math.floor(rnd() * all.length)]!;
  return async (ref) => {
    if (mode < 0.1) return undefined;
    // The wrong image (another seed): must be refused as a mismatch, not read.
    if (mode < 0.2) return new MemoryBackend(stranger.bytes, { maxSize: BACKEND_LIMIT });
    const found = seed.parents.get(ref.uniqueId);
    if (mode < 0.3 && seed.parents.size > 0) {
      // A parent damaged in the same ways, to push errors up through the chain.
      const [first] = seed.parents.values();
      return new MemoryBackend(mutate(describeSeed('parent', first!, new Map()), rnd).bytes, { maxSize: BACKEND_LIMIT });
    }
    return found ? new MemoryBackend(found, { maxSize: BACKEND_LIMIT }) : undefined;
  };
}

async function exercise(bytes: Uint8Array, seed: Seed, all: Seed[], rnd: () => number, stats: FuzzStats): Promise<void> {
  const disk = await VhdDisk.open(new MemoryBackend(bytes, { maxSize: BACKEND_LIMIT }), { parentResolver: resolverFor(seed, all, rnd) });
  stats.opened++;
  try {
    const size = disk.virtualSize;
    const head = Math.min(size, 512 * KiB);
    for (let at = 0; at < head; at += 64 * KiB) await disk.read(at, Math.min(64 * KiB, head - at));
    for (let i = 0; i < 8; i++) {
      const at = Math.floor((rnd() * size) / 512) * 512;
      await disk.read(at, Math.min(4096, size - at));
    }
    await disk.changedBytes();
    await disk.layoutWarnings();
    // Writes allocate up to one block; skip them for the (legal) giant block sizes.
    if (disk.blockSize <= 8 * MiB || disk.type === 'fixed') {
      for (let i = 0; i < 3; i++) {
        const at = Math.floor(rnd() * size);
        const len = Math.min(1 + Math.floor(rnd() * 3000), size - at);
        const data = new Uint8Array(len).fill(0xa5);
        await disk.write(at, data);
        const back = await disk.read(at, len);
        if (!back.every((b) => b === 0xa5)) throw new Error(`read-back after write at ${at} (+${len}) differs`);
      }
      if (size <= 16 * MiB && rnd() < 0.3) await disk.exportTo(new MemoryBackend(undefined, { maxSize: BACKEND_LIMIT }), rnd() < 0.5 ? 'dynamic' : 'fixed');
    }
  } finally {
    await disk.dispose();
  }
}

/** Runs `count` mutated images through open, read, write, export and check. */
export async function fuzzVhd(count: number, seedValue: number): Promise<FuzzStats> {
  const seeds = await buildSeeds();
  const random = new SeededRandom(seedValue);
  const rnd = (): number => random.next();
  const stats: FuzzStats = { cases: 0, opened: 0, rejected: {}, failures: [] };
  const note = (e: unknown, label: string): void => {
    if (e instanceof VhdError) stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
    else stats.failures.push(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
  for (let i = 0; i < count; i++) {
    const seed = seeds[i % seeds.length]!;
    const { bytes, what } = mutate(seed, rnd);
    const label = `case ${i} (seed ${seedValue}, ${seed.name}: ${what})`;
    stats.cases++;
    try {
      await exercise(bytes, seed, seeds, rnd, stats);
    } catch (e) {
      note(e, label);
    }
    try {
      const report = await checkVhd(new MemoryBackend(bytes, { maxSize: BACKEND_LIMIT }), { parentResolver: resolverFor(seed, seeds, rnd) });
      if (!Array.isArray(report.problems)) throw new Error('check returned no problem list');
    } catch (e) {
      note(e, `${label} [check]`);
    }
    if (i % 64 === 0 && process.memoryUsage().arrayBuffers > MEMORY_ALARM) {
      stats.failures.push(`${label}: ${process.memoryUsage().arrayBuffers} bytes of ArrayBuffers in use after the case`);
    }
  }
  return stats;
}

// Let the module run directly: node --import tsx tests/disk/vhdFuzz.ts [count] [seed]
if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 10000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  const t0 = performance.now();
  const stats = await fuzzVhd(count, seed);
  console.log(JSON.stringify({ seed, ...stats, seconds: (performance.now() - t0) / 1000 }, null, 2));
  process.exitCode = stats.failures.length === 0 ? 0 : 1;
}
