/**
 * Scenario links: `<page>#s=` + base64url(raw DEFLATE(JSON)). The scenario rides in the
 * fragment, so it never reaches a server log. Decoding is a pipeline of bounded steps —
 * length cap, strict base64url, inflate with a hard output cap, UTF-8, JSON.parse,
 * validateScenario — and its only product is validated plain data: a link names appliances
 * and console keystrokes, it cannot carry code for the page.
 */
import { deflateSync } from 'fflate';
import { Base64urlError, decodeBase64url, encodeBase64url } from './base64url.ts';
import { inflateBounded, InflateError, inflateOvershoot } from '../compress/inflateBounded.ts';

/**
 * A link is inflated 64 input bytes at a time: at most 64 × 1032 ≈ 66 KB of output per
 * step, so a bomb is dropped before the cap + 66 KB. Each step costs fflate a fresh 160 KB
 * output buffer, so halving this doubles the cost of every legitimate link (a 60 KB
 * scenario takes ~1.4 ms at 64).
 */
const LINK_INFLATE_PIECE = 64;
/** The most a link can inflate past the cap before it is stopped. */
export const INFLATE_MAX_STEP_OUTPUT = inflateOvershoot(LINK_INFLATE_PIECE);
import { SCENARIO_LIMITS, scenarioAsWritten, type Scenario } from './Scenario.ts';
import { parseScenarioJsonBytes } from './scenarioJson.ts';
import { ScenarioError } from './ScenarioError.ts';
import { validateScenario } from './validateScenario.ts';

/** The fragment parameter that carries a scenario. */
const PARAM = 's=';
/** Longer input is refused before it is searched: a page URL plus the payload fits well inside. */
const MAX_INPUT_CHARS = SCENARIO_LIMITS.urlPayloadChars + SCENARIO_LIMITS.urlChars;

export interface DecodeScenarioOptions {
  /** Sees the running inflated byte count after every inflate step (tests prove the cap with it). */
  onInflate?: (producedBytes: number) => void;
}

/**
 * The link for a scenario: `base` (default: none, giving just `#s=...`) with its fragment
 * replaced. Validates first, so no link that decodeScenarioUrl would refuse is ever made.
 */
export function encodeScenarioUrl(scenario: Scenario, base = ''): string {
  const valid = validateScenario(scenarioAsWritten(scenario));
  const json = new TextEncoder().encode(JSON.stringify(scenarioAsWritten(valid)));
  if (json.length > SCENARIO_LIMITS.jsonBytes) {
    throw new ScenarioError('too-large', `the scenario is ${json.length} bytes of JSON, the limit is ${SCENARIO_LIMITS.jsonBytes}`);
  }
  const payload = encodeBase64url(deflateSync(json, { level: 9 }));
  if (payload.length > SCENARIO_LIMITS.urlPayloadChars) {
    throw new ScenarioError(
      'too-large',
      `the scenario compresses to ${payload.length} characters of link, the limit is ${SCENARIO_LIMITS.urlPayloadChars}; shorten its notes or scripts, or share it as a file`,
    );
  }
  const hash = base.indexOf('#');
  return `${hash < 0 ? base : base.slice(0, hash)}#${PARAM}${payload}`;
}

/**
 * Decodes a full link, a fragment (`#s=...`) or the bare parameter (`s=...`). Throws
 * ScenarioError and nothing else: 'too-large', 'bad-url', 'bad-base64', 'bad-deflate',
 * 'bad-json', 'unsupported-version' or 'invalid'.
 */
export function decodeScenarioUrl(urlOrHash: string, options: DecodeScenarioOptions = {}): Scenario {
  if (typeof urlOrHash !== 'string') throw new ScenarioError('bad-url', `a scenario link must be a string, got ${typeof urlOrHash}`);
  if (urlOrHash.length > MAX_INPUT_CHARS) {
    throw new ScenarioError('too-large', `the link is ${urlOrHash.length} characters long, the limit is ${MAX_INPUT_CHARS}`);
  }
  const payload = scenarioPayload(urlOrHash.trim());
  if (payload.length > SCENARIO_LIMITS.urlPayloadChars) {
    throw new ScenarioError('too-large', `the scenario in the link is ${payload.length} characters long, the limit is ${SCENARIO_LIMITS.urlPayloadChars}`);
  }
  if (payload.length === 0) throw new ScenarioError('bad-url', 'the link has "#s=" but no scenario after it');

  let deflated: Uint8Array;
  try {
    deflated = decodeBase64url(payload);
  } catch (e) {
    if (e instanceof Base64urlError) throw new ScenarioError('bad-base64', `the scenario in the link is damaged: ${e.message}`);
    throw e;
  }

  let bytes: Uint8Array;
  try {
    bytes = inflateBounded(deflated, { format: 'raw', maxBytes: SCENARIO_LIMITS.jsonBytes, pieceBytes: LINK_INFLATE_PIECE, onProgress: options.onInflate });
  } catch (e) {
    if (!(e instanceof InflateError)) throw e;
    if (e.failure.kind === 'too-large') {
      throw new ScenarioError('too-large', `the scenario in the link inflates to more than ${SCENARIO_LIMITS.jsonBytes} bytes; refused`);
    }
    throw new ScenarioError('bad-deflate', `the scenario in the link is damaged: its compressed data is corrupt (${e.failure.message})`);
  }
  return parseScenarioJsonBytes(bytes, 'the scenario in the link');
}

/** The base64url text after `s=` in the fragment; 'bad-url' if there is none. */
function scenarioPayload(input: string): string {
  const hash = input.indexOf('#');
  const fragment = hash >= 0 ? input.slice(hash + 1) : input;
  if (!fragment.startsWith(PARAM)) {
    const what = hash >= 0 ? `its fragment starts with ${JSON.stringify(fragment.slice(0, 20))}` : 'it has no "#" fragment';
    throw new ScenarioError('bad-url', `the link carries no scenario ("#s=..."): ${what}`);
  }
  return fragment.slice(PARAM.length);
}
