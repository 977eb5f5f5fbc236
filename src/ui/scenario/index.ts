// Scenario links and files in the page, and Share for a running VM.
export { ScenarioPanel, type ScenarioPanelHost, type ScenarioPhase } from './ScenarioPanel.ts';
export { shareVm, vmScenarioLink, type SharedVm } from './shareVm.ts';
export { scenarioGuestOf } from './scenarioOrigin.ts';
