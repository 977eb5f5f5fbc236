// The cause table lives in src/inspect/trapCauses.ts; this re-export keeps VmInspector's
// import working until its owner points it at '../inspect/index.ts'.
export { causeOfCounter, nameCause } from '../inspect/index.ts';
