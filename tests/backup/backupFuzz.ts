// Mutation fuzzer for backup archives: a damaged, cut, lengthened, re-versioned or forged
// archive must end in a typed error (a CodedError, BackupError for all the format knows)
// with NOTHING written: the server directory a restore was to make does not exist
// afterwards; or, when the mutation left a sound archive, be restored. Forged cases re-seal
// a mutated manifest (or an entry and its sha256) so they reach the field, consistency,
// VHD and state checks behind the checksums. `fuzzBackups(count, seed)` is what
// `npm run fuzz -- --target backup` calls; backupFuzz.test.ts runs a smaller count.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupArchive } from '../../src/backup/index.ts';
import { restoreServerDirectory, type BuiltinImages } from '../../src/backup/ServerDirectory.node.ts';
import { MemoryBackend } from '../../src/disk/index.ts';
import { CodedError } from '../../src/errors/CodedError.ts';
import { Sha256 } from '../../src/format/sha256.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { sampleArchive } from './sampleArchive.ts';

export interface BackupFuzzStats {
  cases: number;
  restored: number;
  /** Error codes seen, with counts: evidence the mutations reach each check. */
  rejected: Record<string, number>;
  failures: string[];
}

/** No built-in appliance here: an archive that names one is refused as unavailable. */
const NO_BUILTINS: BuiltinImages = { gz: async () => undefined, unpack: async (gz) => gz };

const JUNK: (() => unknown)[] = [() => null, () => -1, () => 2 ** 60, () => 'x', () => '', () => [], () => ({}), () => true, () => ({ $entry: 'records/2.bin' }), () => ({ $bigint: 'z' }), () => 'a'.repeat(400)];

function manifestOf(a: Uint8Array): { json: Record<string, any>; rest: Uint8Array } {
  const len = new DataView(a.buffer, a.byteOffset).getUint32(0x10, true);
  return { json: JSON.parse(new TextDecoder().decode(a.subarray(64, 64 + len))), rest: a.subarray(64 + len) };
}

function seal(header: Uint8Array, json: unknown, rest: Uint8Array): Uint8Array {
  const m = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(64 + m.length + rest.length);
  out.set(header.subarray(0, 64));
  out.set(m, 64);
  out.set(rest, 64 + m.length);
  const v = new DataView(out.buffer);
  v.setUint32(0x10, m.length, true);
  v.setBigUint64(0x18, BigInt(out.length), true);
  out.set(new Sha256().update(m).digest(), 0x20);
  return out;
}

/** Every [container, key] of a JSON value, to pick one to damage. */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push([v as Record<string, unknown>, k]), slots(x, out));
  return out;
}

function mutate(r: SeededRandom, a: Uint8Array): Uint8Array {
  const b = a.slice();
  switch (r.below(9)) {
    case 0: // a few bytes flipped anywhere
      for (let n = r.int(1, 8); n > 0; n--) b[r.below(b.length)] ^= 1 << r.below(8);
      return b;
    case 1: // cut
      return b.subarray(0, r.below(b.length));
    case 2: {
      // bytes appended
      const out = new Uint8Array(b.length + r.int(1, 600));
      out.set(b);
      out.set(r.bytes(out.length - b.length), b.length);
      return out;
    }
    case 3: {
      // a header field
      const v = new DataView(b.buffer);
      const at = r.pick([0, 8, 12, 16, 20, 24, 32]);
      if (at === 24) v.setBigUint64(24, BigInt(r.below(2 ** 30)), true);
      else v.setUint32(at, r.chance(0.5) ? r.below(4) : r.int(0, 0xffffffff), true);
      return b;
    }
    case 4:
    case 5: {
      // a manifest field damaged, the manifest re-sealed
      const { json, rest } = manifestOf(b);
      const all = slots(json);
      for (let n = r.int(1, 3); n > 0; n--) {
        const [obj, key] = r.pick(all);
        if (r.chance(0.25) && !Array.isArray(obj)) delete (obj as Record<string, unknown>)[key as string];
        else (obj as Record<string | number, unknown>)[key] = r.pick(JUNK)();
      }
      return seal(b, json, rest);
    }
    case 6: {
      // an entry's bytes changed and its sha256 fixed, re-sealed: the disk and state checks judge it
      const { json, rest } = manifestOf(b);
      const entries = json.entries as { name: string; size: number; sha256: string }[];
      const k = r.below(entries.length);
      let at = 0;
      for (let i = 0; i < k; i++) at += entries[i]!.size;
      const e = entries[k]!;
      if (e.size === 0) return b;
      const body = rest.slice();
      for (let n = r.int(1, 16); n > 0; n--) body[at + r.below(e.size)] ^= 1 << r.below(8);
      e.sha256 = new Sha256().update(body.subarray(at, at + e.size)).hex();
      return seal(b, json, body);
    }
    case 7: {
      // the server's parts made not to fit, re-sealed: an image dropped, or a reference
      // (a VM's disk or data disk, a parent, a state's VM) pointed at another id it holds
      const { json, rest } = manifestOf(b);
      const server = json.server as { images: Record<string, unknown>[] };
      if (r.chance(0.3) && server.images.length) server.images.splice(r.below(server.images.length), 1);
      else {
        const refs = slots(server).filter(([obj, key]) => typeof (obj as Record<string | number, unknown>)[key] === 'string' && /^(diskImageId|dataImageId|parentUuid|vmId|entry|imageId)$/.test(String(key)));
        const ids = [...new Set(slots(server).map(([obj, key]) => (obj as Record<string | number, unknown>)[key]).filter((v): v is string => typeof v === 'string' && /^[a-z]+-[0-9a-z-]+$/.test(v)))];
        if (refs.length) {
          const [obj, key] = r.pick(refs);
          (obj as Record<string | number, unknown>)[key] = r.pick([...ids, 'gone-1']);
        }
      }
      return seal(b, json, rest);
    }
    default: {
      // two entries swapped in the manifest, re-sealed
      const { json, rest } = manifestOf(b);
      const entries = json.entries as unknown[];
      const i = r.below(entries.length);
      const j = r.below(entries.length);
      [entries[i], entries[j]] = [entries[j], entries[i]];
      return seal(b, json, rest);
    }
  }
}

export async function fuzzBackups(count: number, seed: number): Promise<BackupFuzzStats> {
  const r = new SeededRandom(seed);
  // Two samples: with a built-in base named (never available here) and without (restorable).
  const withBuiltin = (await sampleArchive()).archive;
  const restorable = (await sampleArchive(({ server }) => (server.images = server.images.filter((i) => !i.base)))).archive;
  const work = mkdtempSync(join(tmpdir(), 'romvisor-backup-fuzz-'));
  const stats: BackupFuzzStats = { cases: 0, restored: 0, rejected: {}, failures: [] };
  try {
    for (let i = 0; i < count; i++) {
      const bytes = mutate(r, r.chance(0.8) ? restorable : withBuiltin);
      const dir = join(work, `s${i}`);
      stats.cases++;
      try {
        const archive = await BackupArchive.open(new MemoryBackend(bytes, { readOnly: true }));
        await restoreServerDirectory(archive, dir, NO_BUILTINS);
        stats.restored++;
      } catch (e) {
        if (!(e instanceof CodedError)) {
          stats.failures.push(`case ${i} (seed ${seed}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
          continue;
        }
        stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
        if (existsSync(dir) || existsSync(`${dir}.partial`)) stats.failures.push(`case ${i} (seed ${seed}): refused with ${e.code} but left ${dir} behind`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return stats;
}
