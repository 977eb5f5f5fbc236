/**
 * Scenarios as JSON files: what "Download" writes and "Open file" reads, and what links
 * carry once inflated. Reading applies the same caps and validation as a link, since a
 * file from a stranger is no more trusted than a link from one.
 */
import { SCENARIO_LIMITS, scenarioAsWritten, type Scenario } from './Scenario.ts';
import { ScenarioError } from './ScenarioError.ts';
import { validateScenario } from './validateScenario.ts';

/** Pretty JSON with a final newline, fields in schema order: diffs well, reads well. */
export function scenarioToJson(scenario: Scenario): string {
  return `${JSON.stringify(scenarioAsWritten(validateScenario(scenarioAsWritten(scenario))), null, 2)}\n`;
}

/**
 * A scenario file's text → validated Scenario. `what` names the source in messages
 * ("lesson.json"). The page checks File.size against SCENARIO_LIMITS.jsonBytes before
 * reading a file into a string at all.
 */
export function parseScenarioJson(text: string, what = 'the scenario file'): Scenario {
  // UTF-8 is never shorter than the UTF-16 length, so only short text needs encoding to measure.
  const bytes = text.length > SCENARIO_LIMITS.jsonBytes ? text.length : new TextEncoder().encode(text).length;
  if (bytes > SCENARIO_LIMITS.jsonBytes) {
    throw new ScenarioError('too-large', `${what} is ${bytes} bytes or more, the limit is ${SCENARIO_LIMITS.jsonBytes}`);
  }
  return parseJson(text, what);
}

/** UTF-8 bytes (an inflated link, a file read as bytes) → validated Scenario. */
export function parseScenarioJsonBytes(bytes: Uint8Array, what: string): Scenario {
  if (bytes.length > SCENARIO_LIMITS.jsonBytes) {
    throw new ScenarioError('too-large', `${what} is ${bytes.length} bytes, the limit is ${SCENARIO_LIMITS.jsonBytes}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioError('bad-json', `${what} is not UTF-8 text`);
  }
  return parseJson(text, what);
}

function parseJson(text: string, what: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8 quotes the offending input; keep the message one line whatever that holds.
    const reason = String((e as Error).message).replace(/[\u0000-\u001f\u007f]/g, ' ');
    throw new ScenarioError('bad-json', `${what} is not JSON: ${reason}`);
  }
  return validateScenario(json);
}
