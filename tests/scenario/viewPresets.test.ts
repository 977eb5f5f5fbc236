// A scenario's `view` may be the panel list (as ever) or { panels, trapLog }: the trap log's
// filter preset. Both forms validate, round-trip through files and links as written, and a
// bad preset names each problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeScenarioUrl, encodeScenarioUrl, parseScenarioJson, ScenarioError, scenarioToJson, validateScenario, viewPanels, viewTrapLog,
} from '../../src/scenario/index.ts';
import { DEFAULT_TRAP_LOG_FILTER } from '../../src/inspect/index.ts';

const base = { version: 1, guests: [{ appliance: { builtin: 'base' } }] };

function problemsOf(json: unknown): string[] {
  try {
    validateScenario(json);
  } catch (e) {
    assert.ok(e instanceof ScenarioError);
    return [...e.problems];
  }
  assert.fail('expected a refusal');
}

describe('view presets', () => {
  it('an array of panels is still a view, with no preset', () => {
    const s = validateScenario({ ...base, view: ['console', 'traps'] });
    assert.deepEqual(s.view, ['console', 'traps']);
    assert.deepEqual(viewPanels(s), ['console', 'traps']);
    assert.equal(viewTrapLog(s), undefined);
    assert.equal(viewPanels(validateScenario(base)), undefined);
  });

  it('the object form presets the trap log, defaults filled in, and survives a file and a link', () => {
    const s = validateScenario({ ...base, view: { panels: ['console', 'traps'], trapLog: { from: ['U'], returns: true } } });
    assert.deepEqual(viewPanels(s), ['console', 'traps']);
    assert.deepEqual(viewTrapLog(s), { ...DEFAULT_TRAP_LOG_FILTER, from: ['U'], returns: true });
    assert.deepEqual(parseScenarioJson(scenarioToJson(s)), s);
    assert.deepEqual(decodeScenarioUrl(encodeScenarioUrl(s, 'https://romvisor.example/')), s);
    assert.deepEqual(validateScenario({ ...base, view: { panels: [] } }).view, { panels: [] });
  });

  it('names every problem of a bad view object', () => {
    assert.deepEqual(problemsOf({ ...base, view: { trapLog: { from: ['X'], hideTimer: 'yes' }, layout: 1 } }), [
      'view.layout: is not a field of a view (fields: panels, trapLog)',
      'view.panels: is missing; it lists the panels the page opens',
      'view.trapLog.from[0]: "X" is not one of U, S, M',
      'view.trapLog.hideTimer: must be true or false, got "yes"',
    ]);
    assert.deepEqual(problemsOf({ ...base, view: { panels: ['console', 'tty'], trapLog: [] } }), [
      'view.panels[1]: "tty" is not a panel; panels are console, timeline, traps, inspector, packets',
      'view.trapLog: must be an object with some of kinds, from, hideTimer, returns, got an array',
    ]);
    assert.deepEqual(problemsOf({ ...base, view: 'console' }), ['view: must be an array of panel names (console, timeline, traps, inspector, packets), got "console"']);
  });
});
