/**
 * How a guest's clock runs (see Vm.ts for what each mode means). Below the Vm, its
 * devices and the scenario schema, which all need the name but none of the machine.
 */
export const TIME_MODES = ['realtime', 'deterministic'] as const;

export type TimeMode = (typeof TIME_MODES)[number];
