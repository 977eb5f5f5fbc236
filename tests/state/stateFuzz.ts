// Mutation fuzzer for machine state files: a damaged, truncated, re-versioned or forged
// state must end in a StateError before anything is applied (the machine it was to be
// restored into is exactly as before), or be restored; never another exception. Forged
// cases re-seal mutated sections with correct sha256s, so they get past the checksums to
// the field checks and to Vm.applyState. `fuzzStates(count, seed)` is what `npm run fuzz
// -- --target state` calls; stateFuzz.test.ts runs a smaller count.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elfLoader } from '../../src/boot/bareMetal.ts';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { MemoryBackend } from '../../src/disk/index.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import type { VmState } from '../../src/machine/index.ts';
import { decodeMachineState, encodeMachineState } from '../../src/state/MachineStateFile.ts';
import { sha256Hex } from '../../src/format/sha256.ts';
import { decodeContainer, encodeContainer } from '../../src/state/StateContainer.ts';
import { StateError } from '../../src/state/StateError.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { CoreScalar } from '../../wasm/machineMap.ts';

export interface StateFuzzStats {
  cases: number;
  /** Cases whose state was restored (a mutation that left a valid state). */
  restored: number;
  /** StateError codes seen, with counts: evidence the mutations reach each check. */
  rejected: Record<string, number>;
  failures: string[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const RAM = 4 << 20;
const DISK_BYTES = 1 << 20;

function buildElf(): ElfImage {
  const out = join(here, '..', '..', 'build', 'state');
  mkdirSync(out, { recursive: true });
  const elf = join(out, 'smp_atomics-2.elf');
  execFileSync('riscv64-unknown-elf-gcc', [
    '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static', '-nostdlib', '-nostartfiles',
    '-DHARTS=2', '-T', join(here, '..', 'isa', 'env', 'link.ld'), join(here, '..', 'smp', 'smp_atomics.S'), '-o', elf,
  ]);
  return ElfImage.parse(new Uint8Array(readFileSync(elf)));
}

/** The machine every case restores into: two harts, a virtio console and a disk. */
async function machine(elf: ElfImage): Promise<Vm> {
  return Vm.create(await loadCoreModule(), {
    ramBytes: RAM, harts: 2, timeMode: 'deterministic', boot: elfLoader(elf), detectCrash: false,
    console: { cols: 80, rows: 24 }, disks: [{ disk: new MemoryBackend(DISK_BYTES) }],
  });
}

/**
 * The seed: the machine mid-run, its devices given live queues and a pending disk
 * completion (as a driver and a read in flight would leave them), so that every field of
 * the format is present to be mutated.
 */
async function seedState(elf: ElfImage): Promise<Uint8Array> {
  const vm = await machine(elf);
  vm.runUntil({ maxInsns: 20_000n, idle: 'skip' });
  const s = await vm.captureState();
  const ringAt = 0x80300000;
  const live = (q: VmState['devices'][number]['transport']['queues'][number], i: number) => {
    const base = ringAt + i * 0x4000;
    Object.assign(q, { num: 16, ready: true, desc: [base, 0], driver: [base + 0x1000, 0], device: [base + 0x2000, 0], kicked: false, lastAvail: 3, usedIdx: 3 });
  };
  s.devices.forEach((d, k) => {
    d.transport.status = 0x0f;
    d.transport.driverFeatures = 1n << 32n;
    d.transport.queues.forEach((q, i) => live(q, k * 2 + i));
  });
  const blk = s.devices.find((d) => d.deviceId === 2)!;
  s.completions.push({
    due: s.core.scalars[CoreScalar.Icount]! + 5000n,
    slot: blk.slot,
    record: { queue: 0, head: 2, epoch: 0, statusAt: 0x2f0000, status: 0, written: 512, inflight: 512, data: new Uint8Array(512).fill(7), dataIn: [{ offset: 0x2e0000, length: 512 }] },
  });
  s.pendingInput = new TextEncoder().encode('ls\n');
  // Self-contained (--self-contained): the overlay embedded (section "V000"), the base named by sha256.
  const overlay = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
  const sha = await sha256Hex(overlay);
  const chain = [{ path: '/tmp/x.vhd', sha256: sha, bytes: overlay.length, embedded: true }, { path: '/tmp/base.vhd', sha256: 'ab'.repeat(32), bytes: 8192 }];
  return encodeMachineState(s, { disks: [{ chain }], files: new Map([[sha, overlay]]) });
}

/** Every id the format knows, with a generous cap: for re-sealing, not for checking. */
const ANY_SECTION = (id: string) => (['META', 'CORE', 'DEVS', 'RAM '].includes(id) || /^V\d{3}$/.test(id) ? 1 << 30 : undefined);

/** A JSON value's leaves (and containers), as paths. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function oddValue(r: SeededRandom): unknown {
  return r.pick<() => unknown>([
    () => -1, () => 0, () => 2 ** 53, () => 0xffff_ffff + r.below(3), () => r.below(100_000), () => 1.5, () => null, () => true,
    () => '', () => 'x'.repeat(r.below(100)), () => '18446744073709551616', () => String(r.u64()), () => '0xz', () => [], () => [1, 2],
    () => ({}), () => 'AAAA', () => 'A', () => r.text(8, 'abcdef0123456789'),
  ])();
}

/** Sets (or deletes) the value at `path` in a JSON tree. */
function setAt(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    // An earlier mutation of this case may have replaced a parent with a scalar.
    if (!o || typeof o !== 'object') return root;
    o = o[k] as Record<string | number, unknown>;
  }
  if (!o || typeof o !== 'object') return root;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(o)) delete o[last];
  else o[last] = value;
  return root;
}

async function mutate(seed: Uint8Array, sections: Map<string, Uint8Array>, r: SeededRandom): Promise<{ bytes: Uint8Array; how: string }> {
  const kind = r.weighted({ flip: 3, truncate: 1, append: 1, version: 1, json: 6, binary: 2, table: 1 });
  const b = seed.slice();
  switch (kind) {
    case 'flip': {
      const n = r.int(1, 4);
      const hot = r.chance(0.5);
      for (let i = 0; i < n; i++) {
        const at = hot ? r.below(Math.min(b.length, 64 + 4 * 64)) : r.below(b.length);
        b[at]! ^= 1 << r.below(8);
      }
      return { bytes: b, how: `${n} bit flips${hot ? ' in the header' : ''}` };
    }
    case 'truncate': {
      const len = r.chance(0.3) ? r.below(320) : r.below(b.length);
      return { bytes: b.subarray(0, len), how: `truncated to ${len}` };
    }
    case 'append':
      return { bytes: new Uint8Array([...b, ...new Uint8Array(r.int(1, 64))]), how: 'bytes appended' };
    case 'version': {
      const v = r.pick([0, 2, 3, 0xffff_ffff]);
      new DataView(b.buffer).setUint32(8, v, true);
      return { bytes: b, how: `version ${v}` };
    }
    case 'table': {
      // The section table rewritten (its own sha256 recomputed): offsets, lengths, ids.
      const count = new DataView(b.buffer).getUint32(12, true);
      const e = 64 + r.below(count) * 64;
      const field = r.pick([0, 4, 8, 16, 24]);
      const v = new DataView(b.buffer);
      if (field === 0) b[e + r.below(4)] = 0x20 + r.below(95);
      else if (field === 4) v.setUint32(e + 4, r.u32(), true);
      else v.setBigUint64(e + field, r.chance(0.5) ? r.u64() : BigInt(r.below(b.length * 2)), true);
      const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', b.subarray(64, 64 + count * 64)));
      b.set(sum, 24);
      return { bytes: b, how: `table entry ${(e - 64) / 64} field +${field} (table re-sealed)` };
    }
    case 'json': {
      const id = r.pick(['META', 'DEVS']);
      const tree: unknown = JSON.parse(new TextDecoder().decode(sections.get(id)!));
      const all = paths(tree).filter((p) => p.length > 0);
      const n = r.int(1, 3);
      let t = tree;
      const what: string[] = [];
      for (let i = 0; i < n; i++) {
        const p = r.pick(all);
        const remove = r.chance(0.15);
        t = setAt(t, p, oddValue(r), remove);
        what.push(`${remove ? 'removed' : 'set'} ${p.join('.')}`);
      }
      return { bytes: await reseal(sections, id, new TextEncoder().encode(JSON.stringify(t))), how: `${id}: ${what.join(', ')}` };
    }
    case 'binary': {
      const id = r.pick(['CORE', 'RAM ', 'DEVS', 'META', 'V000']);
      let s: Uint8Array = sections.get(id)!.slice();
      const how = r.pick(['cut', 'grow', 'flip']);
      if (how === 'cut') s = s.subarray(0, r.below(s.length));
      else if (how === 'grow') s = concat(s, r.int(1, 9));
      else for (let i = 0; i < r.int(1, 8); i++) s[r.below(Math.min(s.length, 4096))]! ^= 1 << r.below(8);
      return { bytes: await reseal(sections, id, s), how: `${id}: ${how} (re-sealed)` };
    }
  }
}

function concat(a: Uint8Array, extra: number): Uint8Array {
  const out = new Uint8Array(a.length + extra);
  out.set(a);
  return out;
}

async function reseal(sections: Map<string, Uint8Array>, id: string, bytes: Uint8Array): Promise<Uint8Array> {
  return encodeContainer([...sections].map(([sid, b]) => ({ id: sid, bytes: sid === id ? bytes : b, deflate: sid !== 'META' })));
}

export async function fuzzStates(count: number, seed: number): Promise<StateFuzzStats> {
  const elf = buildElf();
  const seedFile = await seedState(elf);
  const sections = await decodeContainer(seedFile, ANY_SECTION);
  // The seed itself must restore, or the cases prove nothing.
  (await machine(elf)).applyState((await decodeMachineState(seedFile)).state);
  const r = new SeededRandom(seed);
  const stats: StateFuzzStats = { cases: 0, restored: 0, rejected: {}, failures: [] };
  let target = await machine(elf);
  const before = await target.captureState();
  const beforeRam = Buffer.from(target.core.ram);
  const beforeDevices = JSON.stringify(before.devices, big);
  for (let i = 0; i < count; i++) {
    stats.cases++;
    const { bytes, how } = await mutate(seedFile, sections, r);
    try {
      const { state } = await decodeMachineState(bytes);
      try {
        target.applyState(state);
      } catch (e) {
        // Refused at apply: the machine must be exactly as before.
        const after = await target.captureState();
        if (!Buffer.from(target.core.ram).equals(beforeRam) || after.core.scalars.some((x, k) => x !== before.core.scalars[k]) || JSON.stringify(after.devices, big) !== beforeDevices) {
          stats.failures.push(`case ${i} (${how}): refused at apply but the machine changed`);
        }
        throw e;
      }
      stats.restored++;
      // Restored: later cases need an untouched machine again (one as fresh as this was).
      target = await machine(elf);
    } catch (e) {
      if (e instanceof StateError) stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
      else stats.failures.push(`case ${i} (${how}): ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  return stats;
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
