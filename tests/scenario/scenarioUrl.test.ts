import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'fflate';
import { encodeBase64url } from '../../src/scenario/base64url.ts';
import { INFLATE_MAX_STEP_OUTPUT } from '../../src/scenario/scenarioUrl.ts';
import {
  decodeScenarioUrl,
  encodeScenarioUrl,
  parseScenarioJson,
  SCENARIO_LIMITS,
  ScenarioError,
  scenarioToJson,
  validateScenario,
  type Scenario,
  type ScenarioErrorCode,
} from '../../src/scenario/index.ts';
import { randomScenario } from './randomScenario.ts';
import { SeededRandom } from '../SeededRandom.ts';

const BASIC: Scenario = { version: 1, guests: [{ appliance: { builtin: 'base' }, memoryMiB: 128, cmdline: '', time: 'realtime' }] };

/** A link whose payload is these bytes deflated, as an attacker would build it. */
const linkOf = (bytes: Uint8Array | string) => `#s=${encodeBase64url(deflateSync(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, { level: 9 }))}`;

function refusal(f: () => unknown): ScenarioError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `expected a ScenarioError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a refusal');
}

function refused(f: () => unknown, code: ScenarioErrorCode, message: string | RegExp): void {
  const e = refusal(f);
  assert.equal(e.code, code, e.message);
  if (typeof message === 'string') assert.equal(e.message, message);
  else assert.match(e.message, message);
}

describe('scenario links', () => {
  it('are #s= and base64url after the page address, replacing any fragment it had', () => {
    const url = encodeScenarioUrl(BASIC, 'https://romvisor.example/play?x=1#old');
    assert.match(url, /^https:\/\/romvisor\.example\/play\?x=1#s=[A-Za-z0-9_-]+$/);
    assert.match(encodeScenarioUrl(BASIC), /^#s=[A-Za-z0-9_-]+$/);
  });

  it('decode from a whole link, a fragment, or the bare parameter', () => {
    const hash = encodeScenarioUrl(BASIC);
    for (const form of [`https://romvisor.example/${hash}`, hash, hash.slice(1), ` ${hash}\n`]) {
      assert.deepEqual(decodeScenarioUrl(form), BASIC);
    }
  });

  it('give back exactly the scenario, over 500 generated ones, and so do files', () => {
    const r = new SeededRandom(0x5ce7a);
    for (let i = 0; i < 500; i++) {
      const s = randomScenario(r);
      assert.deepEqual(validateScenario(s), s, `generated scenario ${i} is not normalized`);
      const url = encodeScenarioUrl(s, 'https://romvisor.example/');
      assert.deepEqual(decodeScenarioUrl(url), s, `scenario ${i} through a link`);
      assert.equal(encodeScenarioUrl(decodeScenarioUrl(url), 'https://romvisor.example/'), url, `scenario ${i} link is not stable`);
      assert.deepEqual(parseScenarioJson(scenarioToJson(s)), s, `scenario ${i} through a file`);
    }
  });

  it('carry a scenario at the size limits when it compresses well', () => {
    const script = Array.from({ length: 200 }, (_, i) => ({ send: `echo step ${i}\n` }));
    const big: Scenario = {
      version: 1,
      title: 'T'.repeat(SCENARIO_LIMITS.titleChars),
      notes: 'Watch the traps panel. '.repeat(170).slice(0, SCENARIO_LIMITS.notesChars),
      view: ['console', 'timeline', 'traps', 'inspector'],
      guests: Array.from({ length: 4 }, () => ({ appliance: { builtin: 'base' }, memoryMiB: 2048, cmdline: 'x'.repeat(1024), time: 'deterministic' as const, script })),
    };
    assert.deepEqual(decodeScenarioUrl(encodeScenarioUrl(big)), big);
  });

  it('are not made for a scenario that would not fit, or that is invalid', () => {
    const r = new SeededRandom(7);
    // Random text barely compresses: 4,000 CJK characters and four full command lines.
    const cjk = Array.from({ length: 256 }, (_, i) => String.fromCharCode(0x4e00 + i * 7)).join('');
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    const noisy = { ...BASIC, notes: r.text(4000, cjk) };
    noisy.guests = Array.from({ length: 4 }, () => ({ ...BASIC.guests[0]!, cmdline: r.text(1024, ascii) }));
    refused(() => encodeScenarioUrl(noisy), 'too-large', /^the scenario compresses to \d+ characters of link, the limit is 8192; shorten its notes or scripts, or share it as a file$/);
    refused(() => encodeScenarioUrl({ ...BASIC, guests: [] }), 'invalid', 'invalid scenario: guests: is empty; a scenario needs at least one guest');
  });
});

describe('links that are refused', () => {
  it('say when they carry no scenario', () => {
    refused(() => decodeScenarioUrl('https://romvisor.example/'), 'bad-url', 'the link carries no scenario ("#s=..."): it has no "#" fragment');
    refused(() => decodeScenarioUrl('https://romvisor.example/#x=abc'), 'bad-url', 'the link carries no scenario ("#s=..."): its fragment starts with "x=abc"');
    refused(() => decodeScenarioUrl('#s='), 'bad-url', 'the link has "#s=" but no scenario after it');
    refused(() => decodeScenarioUrl(42 as unknown as string), 'bad-url', 'a scenario link must be a string, got number');
  });

  it('are refused by length before anything is decoded', () => {
    refused(() => decodeScenarioUrl(`#s=${'A'.repeat(8193)}`), 'too-large', 'the scenario in the link is 8193 characters long, the limit is 8192');
    refused(() => decodeScenarioUrl(`#s=${'A'.repeat(1_000_000)}`), 'too-large', 'the link is 1000003 characters long, the limit is 10240');
  });

  it('name the character that is not base64url', () => {
    refused(() => decodeScenarioUrl('#s=abc$def'), 'bad-base64', 'the scenario in the link is damaged: character 3 is "$", which is not base64url');
    refused(() => decodeScenarioUrl('#s=ab+/'), 'bad-base64', /character 2 is "\+", which is not base64url \(standard base64, not base64url\)$/);
    refused(() => decodeScenarioUrl('#s=abc='), 'bad-base64', /character 3 is "=", which is not base64url \(padding is not used\)$/);
    refused(() => decodeScenarioUrl('#s=abcde'), 'bad-base64', /5 characters cannot be base64url .*cut short\)$/);
    refused(() => decodeScenarioUrl('#s=AB'), 'bad-base64', /the last character "B" has non-zero unused bits; the text was altered$/);
  });

  it('say when the compressed data is corrupt or cut short', () => {
    refused(() => decodeScenarioUrl(`#s=${encodeBase64url(new Uint8Array([0xff, 0xff, 0xff]))}`), 'bad-deflate', /^the scenario in the link is damaged: its compressed data is corrupt \(.+\)$/);
    const good = encodeScenarioUrl(BASIC);
    refused(() => decodeScenarioUrl(good.slice(0, -8)), 'bad-deflate', /compressed data is corrupt/);
  });

  it('stop inflating a bomb within one step of the cap', () => {
    // Deflate expands up to about a thousandfold: 6 MB of zeros fits in a link under the
    // length cap (10 MB would not: that link is refused by its length alone).
    refused(() => decodeScenarioUrl(linkOf(new Uint8Array(10_000_000))), 'too-large', /^the link is 13\d{3} characters long, the limit is 10240$/);
    const bomb = linkOf(new Uint8Array(6_000_000));
    assert.ok(bomb.length <= SCENARIO_LIMITS.urlPayloadChars + 3, `bomb link is ${bomb.length} chars`);
    let peak = 0;
    refused(() => decodeScenarioUrl(bomb, { onInflate: (n) => (peak = Math.max(peak, n)) }), 'too-large', 'the scenario in the link inflates to more than 65536 bytes; refused');
    assert.ok(peak > SCENARIO_LIMITS.jsonBytes && peak <= SCENARIO_LIMITS.jsonBytes + INFLATE_MAX_STEP_OUTPUT, `inflated ${peak} bytes`);
    // Just under the cap is fine; the cap is on the JSON, whatever its content.
    const pad = `{"version":1,"guests":[{"appliance":{"builtin":"base"}}],"notes":"${' '.repeat(SCENARIO_LIMITS.jsonBytes - 100)}"}`;
    refused(() => decodeScenarioUrl(linkOf(pad)), 'invalid', /^invalid scenario: notes: is \d+ characters long, the limit is 4000$/);
  });

  it('say when the payload is not UTF-8 JSON', () => {
    refused(() => decodeScenarioUrl(linkOf(new Uint8Array([0x7b, 0xff, 0x7d]))), 'bad-json', 'the scenario in the link is not UTF-8 text');
    refused(() => decodeScenarioUrl(linkOf('{"version":1,')), 'bad-json', /^the scenario in the link is not JSON: /);
    refused(() => decodeScenarioUrl(linkOf('{"a":\n\n\n')), 'bad-json', /^[^\n]*$/);
  });

  it('pass schema problems and unknown versions through as they are', () => {
    refused(() => decodeScenarioUrl(linkOf('{"version":3}')), 'unsupported-version', 'scenario version 3 is not supported; this romvisor reads version 1');
    const e = refusal(() => decodeScenarioUrl(linkOf('{"version":1,"guests":[{"appliance":{"builtin":"base"},"memoryMiB":3}]}')));
    assert.deepEqual(e.problems, ['guests[0].memoryMiB: 3 MiB is below the minimum of 64 MiB']);
  });
});

describe('scenario files', () => {
  it('are pretty JSON with a final newline', () => {
    assert.equal(scenarioToJson(BASIC), `${JSON.stringify(BASIC, null, 2)}\n`);
  });

  it('are refused when too large, not JSON, or invalid, naming the file', () => {
    refused(() => parseScenarioJson(' '.repeat(70_000), 'big.json'), 'too-large', 'big.json is 70000 bytes or more, the limit is 65536');
    refused(() => parseScenarioJson(`"${'é'.repeat(40_000)}"`, 'wide.json'), 'too-large', 'wide.json is 80002 bytes or more, the limit is 65536');
    refused(() => parseScenarioJson('{', 'x.json'), 'bad-json', /^x\.json is not JSON: /);
    refused(() => parseScenarioJson('[]'), 'invalid', 'invalid scenario: scenario: must be a JSON object, got an array of 0');
  });
});
