// The teaching views' public API: four panels fed with VmInspector's plain data, and the
// controls interface the inspector's buttons call. Import teach.css alongside.
export { BootTimeline, type TimelineAxis } from './BootTimeline.ts';
export { TrapPanel } from './TrapPanel.ts';
export { InspectorPanel, describeResult, type InspectorState } from './InspectorPanel.ts';
export { JitPanel } from './JitPanel.ts';
export type { InspectorControls } from './InspectorControls.ts';
