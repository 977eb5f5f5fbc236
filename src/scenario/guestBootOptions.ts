/**
 * What booting one scenario guest needs, in the units the boot code takes (bytes, one
 * command line). Resolving the appliance to images is left to the caller: the CLI reads
 * files, the page fetches or opens its store.
 */
import type { TimeMode } from '../machine/TimeMode.ts';
import type { ConsoleStep } from './consoleScript.ts';
import type { ApplianceRef, ScenarioGuest } from './Scenario.ts';

export interface GuestBootOptions {
  appliance: ApplianceRef;
  ramBytes: number;
  harts: number;
  timeMode: TimeMode;
  /** The appliance's command line, then the scenario's extra arguments (later ones win in Linux). */
  bootargs: string;
  /** The guest console's size, when the scenario fixes it. */
  consoleSize?: { cols: number; rows: number };
  script?: ConsoleStep[];
}

/** For an appliance guest (a kernel guest has no appliance: it throws RangeError). */
export function guestBootOptions(guest: ScenarioGuest, applianceBootargs: string): GuestBootOptions {
  if (guest.appliance === undefined) throw new RangeError('guestBootOptions: a kernel guest has no appliance');
  const opts: GuestBootOptions = {
    appliance: guest.appliance,
    ramBytes: guest.memoryMiB * 2 ** 20,
    harts: guest.harts ?? 1,
    timeMode: guest.time,
    bootargs: [applianceBootargs.trim(), guest.cmdline.trim()].filter((s) => s !== '').join(' '),
  };
  if (guest.consoleSize !== undefined) opts.consoleSize = { ...guest.consoleSize };
  if (guest.script !== undefined) opts.script = guest.script;
  return opts;
}
