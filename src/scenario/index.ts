// The scenario folder's public API: the schema, its validation, links and files.
export {
  SCENARIO_VERSION,
  SCENARIO_LIMITS,
  VIEW_PANELS,
  TIME_MODES,
  GUEST_DEFAULTS,
  type Scenario,
  type ScenarioGuest,
  type ApplianceRef,
  type ViewPanel,
  type ScenarioView,
  viewPanels,
  viewTrapLog,
  guestName,
} from './Scenario.ts';
export { ScenarioError, type ScenarioErrorCode } from './ScenarioError.ts';
export { validateScenario } from './validateScenario.ts';
export { encodeScenarioUrl, decodeScenarioUrl, type DecodeScenarioOptions } from './scenarioUrl.ts';
export { scenarioToJson, parseScenarioJson, parseScenarioJsonBytes } from './scenarioJson.ts';
export { guestBootOptions, type GuestBootOptions } from './guestBootOptions.ts';
export {
  parseConsoleScript,
  checkConsoleScript,
  ConsoleScriptPlayer,
  ScriptError,
  SCRIPT_LIMITS,
  DEFAULT_EXPECT_TIMEOUT,
  describeExpect,
  type ConsoleStep,
  type ScriptTarget,
  type StepResult,
  type ScriptProblemSink,
} from './consoleScript.ts';
