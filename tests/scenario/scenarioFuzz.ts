// Fuzzer for scenario links: random, mutated and hostile links must each decode to a valid
// Scenario or end in a ScenarioError — never another exception, never inflation past the
// cap (plus one inflate step), never a touched prototype. `fuzzScenarios(count, seed)` is
// what `npm run fuzz` calls for long runs; scenarioFuzz.test.ts runs 10,000 cases.
// `worstDecodeMs(count)` times the slowest links known, for the benchmarks.
import { deflateSync } from 'fflate';
import { encodeBase64url } from '../../src/scenario/base64url.ts';
import { INFLATE_MAX_STEP_OUTPUT } from '../../src/scenario/scenarioUrl.ts';
import { decodeScenarioUrl, encodeScenarioUrl, SCENARIO_LIMITS, ScenarioError, validateScenario, type Scenario } from '../../src/scenario/index.ts';
import { randomScenario } from './randomScenario.ts';
import { SeededRandom } from '../SeededRandom.ts';

export interface ScenarioFuzzStats {
  cases: number;
  /** Cases by generator, to show each kind ran. */
  kinds: Record<string, number>;
  /** Links that decoded to a scenario. */
  accepted: number;
  /** ScenarioError codes seen, with counts: evidence the cases reach every stage of decoding. */
  rejected: Record<string, number>;
  /** The most bytes any case inflated before it was stopped or finished. */
  peakInflatedBytes: number;
  /** The slowest single decode, in milliseconds (reported, never asserted: timing is not a test). */
  worstMs: number;
  /** One line per case that broke a rule; empty when the decoder held. */
  failures: string[];
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const JUNK = '=+/ %#&?.\n\t\u0000é漢🙂\\"\'<>';
/** Keys that mean something to JavaScript objects, the classic pollution and confusion vectors. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then', '', 'version', 'guests'];
const INFLATE_BOUND = SCENARIO_LIMITS.jsonBytes + INFLATE_MAX_STEP_OUTPUT;

const utf8 = (s: string) => new TextEncoder().encode(s);
const linkOf = (bytes: Uint8Array) => `#s=${encodeBase64url(deflateSync(bytes, { level: 6 }))}`;

interface Case {
  kind: string;
  link: string;
  /** For links made from a valid scenario: what decoding must give back. */
  expect?: Scenario;
}

/** Deflate bombs, built once: about 6 MB of output each, the most that fits in a link. */
let bombs: Uint8Array[] | undefined;
function bombPayloads(): Uint8Array[] {
  const big = 6_000_000;
  bombs ??= [
    new Uint8Array(big),
    utf8(`{"version":1,"notes":"${'a'.repeat(big)}"}`),
    utf8('['.repeat(big)),
    utf8(`{"version":1,"guests":[${'{"appliance":{"builtin":"base"}},'.repeat(big / 32)}]}`),
  ].map((b) => deflateSync(b, { level: 9 }));
  return bombs;
}

function validCase(r: SeededRandom): Case {
  const s = randomScenario(r);
  return { kind: 'valid', link: encodeScenarioUrl(s, r.chance(0.5) ? 'https://romvisor.example/play' : ''), expect: s };
}

function mutateText(r: SeededRandom, text: string): string {
  let t = text;
  for (let n = r.int(1, 4); n > 0; n--) {
    const at = r.int(0, t.length);
    switch (r.int(0, 4)) {
      case 0:
        t = t.slice(0, at) + r.text(1, B64URL) + t.slice(at + 1);
        break;
      case 1:
        t = t.slice(0, at) + r.text(r.int(1, 8), r.chance(0.8) ? B64URL : JUNK) + t.slice(at);
        break;
      case 2:
        t = t.slice(0, at) + t.slice(at + r.int(1, 16));
        break;
      case 3:
        t = t.slice(0, at);
        break;
      default:
        t = t + t.slice(at);
    }
  }
  return t;
}

function mutateBytes(r: SeededRandom, bytes: Uint8Array): Uint8Array {
  let b = bytes.slice();
  for (let n = r.int(1, 4); n > 0; n--) {
    const at = r.int(0, Math.max(0, b.length - 1));
    switch (r.int(0, 3)) {
      case 0:
        if (b.length) b[at] = b[at]! ^ (1 << r.int(0, 7));
        break;
      case 1:
        if (b.length) b[at] = r.int(0, 255);
        break;
      case 2:
        b = b.slice(0, at);
        break;
      default: {
        const tail = r.bytes(r.int(1, 32));
        const c = new Uint8Array(b.length + tail.length);
        c.set(b);
        c.set(tail, b.length);
        b = c;
      }
    }
  }
  return b;
}

/** A random JSON value of bounded depth, as text. */
function randomJson(r: SeededRandom, depth: number): string {
  switch (r.int(0, depth > 0 ? 7 : 4)) {
    case 0:
      return r.pick(['null', 'true', 'false']);
    case 1:
      return r.pick(['0', '-0', '1', '64', '2049', '1.5', '-1', '1e999', '-1e999', '123456789012345678901234567890', '1e-400']);
    case 2:
      return JSON.stringify(r.text(r.int(0, 20), `${B64URL}${JUNK}`));
    case 3:
      return JSON.stringify(r.pick(['base', 'https://x.example/a.vhd', 'console', 'deterministic', '__proto__', '# ']));
    case 4:
      return `"${'x'.repeat(r.int(0, 5000))}"`;
    case 5:
      return `[${Array.from({ length: r.int(0, 5) }, () => randomJson(r, depth - 1)).join(',')}]`;
    default: {
      const keys = ['version', 'title', 'notes', 'view', 'guests', 'appliance', 'builtin', 'url', 'sha256', 'local', 'memoryMiB', 'cmdline', 'time', 'script', ...HOSTILE_KEYS];
      return `{${Array.from({ length: r.int(0, 6) }, () => `${JSON.stringify(r.pick(keys))}:${randomJson(r, depth - 1)}`).join(',')}}`;
    }
  }
}

/** Text that stands in for a node of the tree, replaced after stringifying (deep values would overflow JSON.stringify). */
const HOLE = '\u{1F573}hole';

/** A structural poison for one node, as JSON text: huge, deep, or numerically odd. */
function poison(r: SeededRandom): string {
  switch (r.int(0, 5)) {
    case 0: {
      const n = r.pick([5, 201, 1000, 30_000, 100_000]);
      return `[${'0,'.repeat(n - 1)}0]`;
    }
    case 1: {
      const d = r.pick([100, 5000, 30_000]);
      return '['.repeat(d) + ']'.repeat(d);
    }
    case 2: {
      const d = r.pick([100, 5000, 12_000]);
      return `${'{"__proto__":'.repeat(d)}1${'}'.repeat(d)}`;
    }
    case 3:
      return `"${'x'.repeat(r.pick([121, 1025, 4001, 70_000]))}"`;
    case 4:
      return `[${'{"send":"x","wait":1},'.repeat(r.int(1, 300))}{}]`;
    default:
      return randomJson(r, 3);
  }
}

/** Every object and array in the tree, the targets of mutations and checks. */
function nodes(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (typeof v === 'object' && v !== null) {
    out.push(v as Record<string, unknown>);
    for (const child of Object.values(v)) nodes(child, out);
  }
  return out;
}

function hostileJsonCase(r: SeededRandom): Case {
  const tree = JSON.parse(JSON.stringify(randomScenario(r))) as Record<string, unknown>;
  let holes: string[] = [];
  for (let n = r.int(1, 3); n > 0; n--) {
    const target = r.pick(nodes(tree));
    const keys = Object.keys(target);
    switch (r.int(0, 3)) {
      case 0: {
        // An own property even for "__proto__", as JSON.parse would make it.
        const key = r.pick(HOSTILE_KEYS);
        Object.defineProperty(target, key, { value: JSON.parse(randomJson(r, 2)), enumerable: true, writable: true, configurable: true });
        break;
      }
      case 1:
        if (keys.length) target[r.pick(keys)] = JSON.parse(randomJson(r, 2));
        break;
      case 2:
        if (keys.length) {
          target[r.pick(keys)] = HOLE;
          holes.push(poison(r));
        }
        break;
      default:
        if (keys.length) delete target[r.pick(keys)];
    }
  }
  let text = JSON.stringify(tree);
  // Holes are filled in order; one may have been overwritten by a later mutation.
  const parts = text.split(JSON.stringify(HOLE));
  holes = holes.slice(0, parts.length - 1);
  text = parts.reduce((acc, part, i) => acc + (i > 0 ? holes[i - 1] ?? 'null' : '') + part, '');
  if (r.chance(0.1)) text = text.replace('{', `{"version":${r.pick(['2', '1', '"1"', 'null'])},`);
  return { kind: 'hostile-json', link: linkOf(utf8(text)) };
}

function makeCase(r: SeededRandom): Case {
  const roll = r.int(0, 99);
  if (roll < 10) return validCase(r);
  if (roll < 20) {
    const alphabet = r.chance(0.9) ? B64URL : `${B64URL}${JUNK}`;
    return { kind: 'random-text', link: `#s=${r.text(r.chance(0.05) ? r.int(8000, 12_000) : r.int(0, 600), alphabet)}` };
  }
  if (roll < 30) return { kind: 'random-bytes', link: `#s=${encodeBase64url(r.bytes(r.int(0, 2000)))}` };
  if (roll < 45) return { kind: 'mutated-link', link: mutateText(r, validCase(r).link) };
  if (roll < 60) {
    const json = utf8(JSON.stringify(randomScenario(r)));
    return { kind: 'mutated-deflate', link: `#s=${encodeBase64url(mutateBytes(r, deflateSync(json, { level: r.int(0, 9) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 })))}` };
  }
  if (roll < 63) {
    const bomb = r.pick(bombPayloads());
    const cut = r.chance(0.3) ? bomb.subarray(0, r.int(1, bomb.length)) : bomb;
    return { kind: 'bomb', link: `#s=${encodeBase64url(cut)}` };
  }
  if (roll < 88) return hostileJsonCase(r);
  if (roll < 95) return { kind: 'random-json', link: linkOf(utf8(randomJson(r, 4))) };
  const shapes = [
    'https://romvisor.example/',
    'https://romvisor.example/#x=1',
    `#s=${'A'.repeat(r.int(10_300, 40_000))}`,
    '#s=',
    's=',
    '',
    '#',
    `${validCase(r).link}=`,
    `${validCase(r).link}%3D`,
    validCase(r).link.replace('#s=', '#S='),
    `#s=${'\u{1F600}'.repeat(r.int(1, 100))}`,
  ];
  return { kind: 'shape', link: r.pick(shapes) };
}

/** Own keys only, all of them known fields: a decoded scenario is plain validated data. */
function plainProblems(s: Scenario): string | undefined {
  const again = validateScenario(s);
  if (JSON.stringify(again) !== JSON.stringify(s)) return 'the decoded scenario does not validate to itself';
  for (const n of nodes(s)) {
    const proto = Object.getPrototypeOf(n);
    if (proto !== Object.prototype && proto !== Array.prototype) return 'the decoded scenario has an object with a foreign prototype';
  }
  return undefined;
}

function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');
}

export function fuzzScenarios(count: number, seed: number): ScenarioFuzzStats {
  const stats: ScenarioFuzzStats = { cases: 0, kinds: {}, accepted: 0, rejected: {}, peakInflatedBytes: 0, worstMs: 0, failures: [] };
  const protos = prototypeSnapshot();
  for (let i = 0; i < count; i++) {
    // A seed per case, so a failure names the one case to re-run.
    const caseSeed = (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
    const c = makeCase(new SeededRandom(caseSeed));
    stats.cases++;
    stats.kinds[c.kind] = (stats.kinds[c.kind] ?? 0) + 1;
    let peak = 0;
    const fail = (why: string) => stats.failures.push(`case ${i} (seed ${caseSeed}, ${c.kind}): ${why}; link ${JSON.stringify(c.link.slice(0, 80))}`);
    const started = performance.now();
    try {
      const s = decodeScenarioUrl(c.link, { onInflate: (n) => (peak = Math.max(peak, n)) });
      stats.accepted++;
      if (c.expect && JSON.stringify(s) !== JSON.stringify(c.expect)) fail('decoded to a different scenario');
      const why = plainProblems(s);
      if (why) fail(why);
    } catch (e) {
      if (!(e instanceof ScenarioError)) {
        fail(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      } else {
        stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
        if (c.expect) fail(`a valid scenario's link was refused: ${e.message}`);
        if (e.message.includes('\n') || e.message.length > 16_000) fail(`message is not one bounded line (${e.message.length} chars)`);
        if (e.problems.length === 0 || e.problems.some((p) => typeof p !== 'string' || p.includes('\n'))) fail('problems are not one-line strings');
      }
    }
    stats.worstMs = Math.max(stats.worstMs, performance.now() - started);
    stats.peakInflatedBytes = Math.max(stats.peakInflatedBytes, peak);
    if (peak > INFLATE_BOUND) fail(`inflated ${peak} bytes, past the cap of ${SCENARIO_LIMITS.jsonBytes} plus one step`);
    if (prototypeSnapshot() !== protos || ({} as Record<string, unknown>).polluted !== undefined) {
      fail('a built-in prototype changed');
      break;
    }
  }
  return stats;
}

/** Links that make the decoder work hardest: maximal bombs, the biggest valid scenario, deep nesting, a flood of problems. */
function slowLinks(): string[] {
  const script = Array.from({ length: 200 }, (_, i) => ({ send: `echo step ${i}\n` }));
  const biggest: Scenario = {
    version: 1,
    title: 'T'.repeat(SCENARIO_LIMITS.titleChars),
    notes: 'Watch the traps panel. '.repeat(200).slice(0, SCENARIO_LIMITS.notesChars),
    view: ['console', 'timeline', 'traps', 'inspector'],
    guests: Array.from({ length: 4 }, () => ({ appliance: { builtin: 'base' }, memoryMiB: 2048, cmdline: 'x'.repeat(1024), time: 'deterministic' as const, script })),
  };
  const badSteps = `[${'{"expect":{"regex":"(a+)+$","flags":"ims"},"timeout":-1},'.repeat(199)}{}]`;
  const floods = `{"version":1,"guests":[${Array.from({ length: 4 }, () => `{"appliance":{"url":"ftp://x","sha256":"z"},"script":${badSteps}}`).join(',')}]}`;
  return [
    ...bombPayloads().map((b) => `#s=${encodeBase64url(b)}`),
    encodeScenarioUrl(biggest),
    linkOf(utf8('['.repeat(SCENARIO_LIMITS.jsonBytes - 1))),
    linkOf(utf8(floods.slice(0, SCENARIO_LIMITS.jsonBytes))),
    `#s=${'A'.repeat(SCENARIO_LIMITS.urlPayloadChars)}`,
  ];
}

/** The slowest of `count` decodes cycling through the hardest links known, in milliseconds. */
export function worstDecodeMs(count: number): number {
  const links = slowLinks();
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    try {
      decodeScenarioUrl(links[i % links.length]!);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
    }
    worst = Math.max(worst, performance.now() - started);
  }
  return worst;
}
