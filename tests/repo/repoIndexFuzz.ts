// Fuzzer for repository.json, which comes from whoever runs a server: random valid indexes,
// and mutations of them (fields deleted, retyped, set to edge values or hostile keys; bytes
// flipped, cut, inserted), must each parse to an index that keeps the schema's promises or
// end in RepoError('bad-index'), never another exception or a touched prototype.
// `fuzzRepositoryIndex(count, seed)` is what `npm run fuzz -- --target repo` calls;
// repoIndexFuzz.test.ts runs a smaller count inside `npm test`.
import { findVersion, parseRepositoryIndex, REPOSITORY_SCHEMA, RepoError, type RepositoryIndex } from '../../src/repo/index.ts';
import { SeededRandom } from '../SeededRandom.ts';

export interface RepoIndexFuzzStats {
  cases: number;
  accepted: number;
  /** Refusal messages by their field path's last part, to show the checks were reached. */
  rejectedFields: Record<string, number>;
  failures: string[];
}

const HEX = '0123456789abcdef';
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'then', '', 'schema', 'appliances', 'versions', 'chunks'];
/** A fresh value each call: containers put into the index are mutated later in the same case. */
const EDGE_VALUES: (() => unknown)[] = [null, true, 0, -1, 0.5, 1e308, -0, 2 ** 53, 65536, 131072, 262144, '', 'x', 'javascript:alert(1)', '//evil/x', 'http://h/x.vhd', '../up.vhd', 'a'.repeat(5000)]
  .map((v) => () => v as unknown)
  .concat([() => [], () => ({}), () => [[]], () => JSON.parse('{"__proto__": {"polluted": 1}}')]);

function randomIndex(r: SeededRandom): Record<string, unknown> {
  const appliances = Array.from({ length: r.int(0, 3) }, (_, i) => ({
    name: `app${i}-${r.text(r.int(0, 6), 'abc._-9')}`,
    title: r.text(r.int(0, 20), 'ab c\u00e9'),
    description: r.text(r.int(0, 40), 'xyz '),
    memoryMiB: r.int(64, 2048),
    ...(r.chance(0.5) ? { dataDiskMiB: r.int(1, 1024) } : {}),
    versions: Array.from({ length: r.int(1, 3) }, (_, j) => {
      const chunkSize = r.pick([65536, 131072, 262144]);
      const size = r.int(512, 2 * 2 ** 20);
      return {
        version: `${j + 1}.${r.int(0, 9)}`,
        url: r.pick([`v${j}.vhd`, `sub/v${j}.vhd`, `https://cdn.example/v${j}.vhd`]),
        size,
        virtualSize: r.int(512, 2 ** 30),
        sha256: r.text(64, HEX),
        chunkSize,
        chunks: Array.from({ length: Math.ceil(size / chunkSize) }, () => r.text(64, HEX)),
      };
    }),
  }));
  return { schema: REPOSITORY_SCHEMA, name: r.text(r.int(0, 12), 'Repo '), appliances };
}

/** Every container in `v`, with how to reach it, for picking a place to mutate. */
function containers(v: unknown, out: (Record<string, unknown> | unknown[])[] = []): (Record<string, unknown> | unknown[])[] {
  if (typeof v === 'object' && v !== null) {
    out.push(v as Record<string, unknown>);
    for (const child of Object.values(v)) containers(child, out);
  }
  return out;
}

function mutateJson(r: SeededRandom, o: Record<string, unknown>): void {
  for (let n = r.int(1, 3); n > 0; n--) {
    const target = r.pick(containers(o));
    const keys = Object.keys(target);
    const key = keys.length > 0 && r.chance(0.8) ? r.pick(keys) : r.pick(HOSTILE_KEYS);
    const value = r.pick(EDGE_VALUES)();
    if (Array.isArray(target)) {
      if (r.chance(0.3)) target.pop();
      else if (r.chance(0.3)) target.push(value);
      else if (target.length) target[r.below(target.length)] = value;
    } else if (r.chance(0.3)) {
      delete target[key];
    } else {
      // JSON.parse makes "__proto__" an own key; so does defineProperty here.
      Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
}

function mutateBytes(r: SeededRandom, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  for (let n = r.int(1, 4); n > 0; n--) {
    const at = r.below(out.length + 1);
    switch (r.below(4)) {
      case 0:
        if (out.length) out[Math.min(at, out.length - 1)] ^= 1 << r.below(8);
        break;
      case 1:
        out.splice(at, r.int(1, 20));
        break;
      case 2:
        out.splice(at, 0, ...r.bytes(r.int(1, 8)));
        break;
      default:
        out.length = at;
    }
  }
  return Uint8Array.from(out);
}

/** What an accepted index must hold, whatever the bytes were. */
function checkAccepted(index: RepositoryIndex): string | undefined {
  const names = new Set<string>();
  for (const a of index.appliances) {
    if (names.has(a.name)) return `duplicate appliance ${a.name}`;
    names.add(a.name);
    if (!/^[A-Za-z0-9._-]+$/.test(a.name)) return `bad name ${JSON.stringify(a.name)}`;
    if (a.versions.length === 0) return `${a.name} has no versions`;
    for (const v of a.versions) {
      if (v.chunks.length !== Math.ceil(v.size / v.chunkSize)) return `${a.name}@${v.version}: ${v.chunks.length} chunks for ${v.size} bytes of ${v.chunkSize}`;
      if (![v.sha256, ...v.chunks].every((h) => /^[0-9a-f]{64}$/.test(h))) return `${a.name}@${v.version}: a hash that is not sha256 hex`;
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v.url)?.[1]?.toLowerCase();
      if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return `${a.name}@${v.version}: url ${v.url}`;
      if (findVersion(index, a.name, v.version).version !== v) return `findVersion misses ${a.name}@${v.version}`;
    }
  }
  return undefined;
}

export function fuzzRepositoryIndex(count: number, seed: number): RepoIndexFuzzStats {
  const r = new SeededRandom(seed);
  const stats: RepoIndexFuzzStats = { cases: 0, accepted: 0, rejectedFields: {}, failures: [] };
  const enc = new TextEncoder();
  for (let i = 0; i < count; i++) {
    const o = randomIndex(r);
    const kind = r.weighted({ valid: 1, json: 5, bytes: 3 });
    if (kind === 'json') mutateJson(r, o);
    let bytes: Uint8Array = enc.encode(JSON.stringify(o));
    if (kind === 'bytes') bytes = mutateBytes(r, bytes);
    stats.cases++;
    try {
      const index = parseRepositoryIndex(bytes, 'repository.json');
      stats.accepted++;
      const broken = checkAccepted(index);
      if (broken) stats.failures.push(`case ${i} (${kind}): accepted an index that breaks the schema: ${broken}`);
    } catch (e) {
      if (kind === 'valid') {
        stats.failures.push(`case ${i}: a valid index was refused: ${(e as Error).message}`);
      } else if (!(e instanceof RepoError) || e.code !== 'bad-index') {
        stats.failures.push(`case ${i} (${kind}): ${(e as Error).name}: ${(e as Error).message}`);
      } else {
        const field = /: ([\w[\]."]+?)(?:\[\d+\])? (must|is|names|may)/.exec(e.message)?.[1]?.split('.').pop() ?? (/not UTF-8 JSON/.test(e.message) ? 'json' : 'other');
        stats.rejectedFields[field] = (stats.rejectedFields[field] ?? 0) + 1;
      }
    }
    if (({} as Record<string, unknown>).polluted !== undefined) stats.failures.push(`case ${i}: Object.prototype was polluted`);
  }
  return stats;
}
