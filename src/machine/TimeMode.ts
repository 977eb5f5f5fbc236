/**
 * How a guest's clock runs (see Vm.ts for what each mode means). Below the Vm, its
 * devices and the scenario schema, which all need the name but none of the machine.
 */
export const TIME_MODES = ['realtime', 'deterministic'] as const;

export type TimeMode = (typeof TIME_MODES)[number];

/**
 * What the guest's wall clock (the goldfish RTC) reads at power-on in deterministic time:
 * 2024-01-01T00:00:00Z, a fixed date so that a replay prints the same `date`. In realtime it
 * is the host's clock.
 */
export const DETERMINISTIC_EPOCH_MS = Date.UTC(2024, 0, 1);

