/**
 * The scenario schema, version 1: what a shared link or a downloaded file describes. A
 * Scenario value is always the output of validateScenario: plain data, defaults filled in,
 * every limit checked. Nothing in it is code; it names appliances and console keystrokes.
 *
 *   {
 *     "version": 1,
 *     "title": "From reset to shell",           plain text, one line
 *     "notes": "Watch the timeline ...",        plain text, may have line breaks
 *     "view": ["console", "timeline"],          panels the page opens, or with presets:
 *             { "panels": ["console", "traps"], "trapLog": { "from": ["U"], "returns": true } }
 *     "guests": [{
 *       "name": "web",                          its hostname and DNS name (default base-1, ...)
 *       "appliance": { "builtin": "base" },     or { "url", "sha256" }, { "local" } or
 *                    { "repo": URL, "name": N, "version": V }  (a repository's; version optional)
 *       "memoryMiB": 128,
 *       "harts": 2,                             1..8 (default 1)
 *       "cmdline": "loglevel=8",                appended to the appliance's command line
 *       "time": "deterministic",              the same for every guest of a scenario
 *       "consoleSize": { "cols": 80, "rows": 24 }, the guest console's size (optional)
 *       "script": [{ "expect": "# " }, { "send": "uname -a\n" }]
 *     }, {
 *       "kernel": { "url": "https://...", "sha256": hex },   instead of "appliance": a bare
 *       "bios": "none",                          kernel (an ELF) as with qemu -bios none
 *       "drives": [{ "url", "sha256", "format": "raw", "readonly": false }]
 *     }, {
 *       "state": { "url": "https://...", "sha256": hex }, instead of both: a saved machine
 *                                         (a self-contained state file, its overlay inside,
 *                                         its base a built-in appliance named by sha256)
 *                                         resumed where it was saved, without a boot; its
 *                                         memory, harts, time and console come from the state
 *     }]
 *   }
 */
import type { TimeMode } from '../machine/TimeMode.ts';
import type { TrapLogFilter } from '../inspect/trapLogFilter.ts';
import type { ConsoleStep } from './consoleScript.ts';

export const SCENARIO_VERSION = 1;

/** Panels of the page a scenario may open; the page decides their layout. */
export const VIEW_PANELS = ['console', 'timeline', 'traps', 'inspector', 'packets'] as const;
export type ViewPanel = (typeof VIEW_PANELS)[number];

export { TIME_MODES } from '../machine/TimeMode.ts';

/** Where a guest's disk image comes from. */
export type ApplianceRef =
  /** One shipped with romvisor, by name. */
  | { builtin: string }
  /** Fetched over HTTPS; the bytes must hash to `sha256` (lowercase hex) or the boot is refused. */
  | { url: string; sha256: string }
  /** An image already in this browser's store, by its catalog id. */
  | { local: string }
  /** Appliance `name` of the repository at `repo` (its folder or repository.json), at `version` or its newest. */
  | { repo: string; name: string; version?: string };

/** A file fetched over HTTPS whose bytes must hash to `sha256` (lowercase hex). */
export interface FetchedFile {
  url: string;
  sha256: string;
}

/** A disk of a kernel guest, on virtio-blk in order from 0x1000_1000. */
export interface ScenarioDrive extends FetchedFile {
  format: 'raw' | 'vhd';
  readonly: boolean;
}

export interface ScenarioGuest {
  /**
   * The guest's name on the scenario's network: its hostname and DNS name, the `[name] `
   * before its console lines. Absent: `guestName` gives `<appliance>-<n>`.
   */
  name?: string;
  /** What the guest boots: an appliance, or (exactly one of the two) a bare kernel. */
  appliance?: ApplianceRef;
  /** An ELF kernel started as QEMU's `-bios none -kernel` does (`bios` is "none"). */
  kernel?: FetchedFile;
  /**
   * A saved machine to resume (exactly one of appliance, kernel and state): a self-contained
   * state file (src/state/MachineStateFile.ts). `memoryMiB`, `cmdline` and `time` hold their
   * defaults only; the state's own shape is what runs.
   */
  state?: FetchedFile;
  /** With a kernel: the firmware, "none" only (QEMU's bare-kernel boot). */
  bios?: 'none';
  /** With a kernel: its disks. */
  drives?: ScenarioDrive[];
  memoryMiB: number;
  /** Harts of the guest's machine (QEMU's -smp); absent means 1. */
  harts?: number;
  /** Extra kernel arguments, appended after the appliance's own command line. */
  cmdline: string;
  time: TimeMode;
  /**
   * The guest console's columns and rows. Absent: the terminal's own size in realtime, and
   * 80x24 in deterministic time, so that the page and the CLI print the same bytes.
   */
  consoleSize?: { cols: number; rows: number };
  /** Console steps played once the guest boots; absent means none. */
  script?: ConsoleStep[];
}

export interface Scenario {
  version: typeof SCENARIO_VERSION;
  title?: string;
  notes?: string;
  /** Absent means the page's default panels. The object form also presets the panels (version 1 readers since the trap-log filter). */
  view?: ViewPanel[] | ScenarioView;
  guests: ScenarioGuest[];
}

/** A view with presets: the panels, and the trap log's filter (fields absent: that field's default). */
export interface ScenarioView {
  panels: ViewPanel[];
  trapLog?: TrapLogFilter;
}

/** The panels a scenario opens (undefined: the page's default). */
export function viewPanels(scenario: Scenario): ViewPanel[] | undefined {
  const v = scenario.view;
  return v === undefined || Array.isArray(v) ? v : v.panels;
}

/** The trap-log filter a scenario presets, if any. */
export function viewTrapLog(scenario: Scenario): TrapLogFilter | undefined {
  const v = scenario.view;
  return v === undefined || Array.isArray(v) ? undefined : v.trapLog;
}

/**
 * The name of guest `index` (0-based): its own, or `<appliance>-<n>` with n counting from 1
 * (`base-1`); a repository's appliance by its name where that is a host name (`sqlite-1`),
 * appliances by URL or from the local store are `vm-<n>`, bare kernels `kernel-<n>`, saved
 * machines `state-<n>`.
 */
export function guestName(guests: readonly ScenarioGuest[], index: number): string {
  const g = guests[index]!;
  if (g.name !== undefined) return g.name;
  const a = g.appliance;
  const base = g.state !== undefined ? 'state' : a === undefined ? 'kernel' : 'builtin' in a ? a.builtin : 'repo' in a && /^[a-z0-9-]{1,32}$/.test(a.name) ? a.name : 'vm';
  return `${base}-${index + 1}`;
}

/**
 * A scenario as it is written (a file, a link): a state guest's `memoryMiB`, `cmdline` and
 * `time` are placeholders of the validated form (its state decides them), not fields of it.
 */
export function scenarioAsWritten(scenario: Scenario): unknown {
  return {
    ...scenario,
    guests: scenario.guests.map((g) => {
      if (g.state === undefined) return g;
      const { memoryMiB: _m, cmdline: _c, time: _t, ...written } = g;
      return written;
    }),
  };
}

export const GUEST_DEFAULTS = { memoryMiB: 128, cmdline: '', time: 'realtime' } as const satisfies Partial<ScenarioGuest>;

/**
 * Caps on everything a stranger's link can make the page hold. The byte caps bound the work
 * of decoding a link before any field is looked at; the rest bound what validation walks.
 */
export const SCENARIO_LIMITS = {
  guests: 4,
  memoryMiB: { min: 64, max: 2048 },
  harts: { min: 1, max: 8 },
  titleChars: 120,
  notesChars: 4000,
  cmdlineChars: 1024,
  /** The guest console's size: columns and rows (a terminal, not a poster). */
  consoleCols: { min: 20, max: 1000 },
  consoleRows: { min: 5, max: 1000 },
  builtinNameChars: 32,
  localIdChars: 64,
  repoNameChars: 64,
  urlChars: 2048,
  /** A kernel guest's disks: the virtio-mmio slots. */
  drives: 8,
  /** Bytes of a kernel guest's ELF, and of each of its drives, that the page or the CLI downloads and holds. */
  kernelBytes: 64 * 2 ** 20,
  /** Bytes of a state guest's state file (RAM's non-zero pages and the overlay, compressed). */
  stateBytes: 512 * 2 ** 20,
  driveBytes: 1024 * 2 ** 20,
  /** Problems listed in one error; a scenario with more is hopeless anyway. */
  problems: 50,
  /** Characters of base64url after `#s=`: about 6 KiB of deflate, well inside what browsers and chat apps keep. */
  urlPayloadChars: 8192,
  /** The JSON text, as a file or inflated from a URL. Checked while inflating. */
  jsonBytes: 64 * 1024,
} as const;
