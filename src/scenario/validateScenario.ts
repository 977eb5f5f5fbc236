/**
 * The one gate between untrusted JSON (a link, a file) and a Scenario. It walks the input
 * once, collects every problem as "path: message" so a broken link can be fixed in one go,
 * and builds a fresh object from known fields only: nothing of the input (prototypes,
 * "__proto__" keys, extra fields) reaches the result.
 */
import { checkConsoleScript, type ConsoleStep } from './consoleScript.ts';
import { describeValue, fieldPath } from './fieldPath.ts';
import {
  GUEST_DEFAULTS,
  SCENARIO_LIMITS,
  SCENARIO_VERSION,
  TIME_MODES,
  VIEW_PANELS,
  type ApplianceRef,
  type FetchedFile,
  type Scenario,
  type ScenarioDrive,
  type ScenarioGuest,
  type ViewPanel,
  guestName,
} from './Scenario.ts';
import { VM_NAME_PATTERN, VM_NAME_RULE } from '../net/netContract.ts';
import { ScenarioError } from './ScenarioError.ts';
import { REPO_APPLIANCE_NAME, REPO_VERSION } from '../repo/RepositoryIndex.ts';
import { isLoopbackHost, LOOPBACK_TEXT } from '../format/loopbackHost.ts';
import { checkTrapLogFilter } from '../inspect/trapLogFilter.ts';

const SCENARIO_FIELDS = ['version', 'title', 'notes', 'view', 'guests'];
const GUEST_FIELDS = ['name', 'appliance', 'kernel', 'state', 'bios', 'drives', 'memoryMiB', 'harts', 'cmdline', 'time', 'consoleSize', 'script'];
const DRIVE_FIELDS = ['url', 'sha256', 'format', 'readonly'];
const MAX_PROBLEM_CHARS = 300;

/** Collects problems up to the cap, then only counts them. */
class Problems {
  readonly list: string[] = [];
  private dropped = 0;

  /** Returns undefined so a checker can `return problems.add(...)` as its failed value. */
  add = (path: string, message: string): undefined => {
    if (this.list.length >= SCENARIO_LIMITS.problems) {
      this.dropped++;
      return undefined;
    }
    // Regex engine messages quote the pattern raw; keep every line one line, and short.
    let line = `${path}: ${message}`.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    if (line.length > MAX_PROBLEM_CHARS) line = `${line.slice(0, MAX_PROBLEM_CHARS)}…`;
    this.list.push(line);
    return undefined;
  };

  get count(): number {
    return this.list.length + this.dropped;
  }

  all(): string[] {
    return this.dropped ? [...this.list, `(${this.dropped} more problems not listed)`] : this.list;
  }
}

/** Own data properties of a plain JSON object, or undefined if `v` is not one. */
function asRecord(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  return v as Record<string, unknown>;
}

/** Reads only own properties, so a key the input lacks never comes from Object.prototype. */
function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function checkUnknownFields(o: Record<string, unknown>, path: string, known: readonly string[], what: string, add: Problems['add']): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) add(fieldPath(path, key), `is not a field of ${what} (fields: ${known.join(', ')})`);
  }
}

/**
 * Validates untrusted JSON as a scenario and returns it with defaults filled in. Throws
 * ScenarioError: 'unsupported-version' for a version this reader does not know, else
 * 'invalid' with every problem in `problems`.
 */
export function validateScenario(json: unknown): Scenario {
  const problems = new Problems();
  const add = problems.add;
  const root = asRecord(json);
  if (root === undefined) {
    throw invalid([`scenario: must be a JSON object, got ${describeValue(json)}`]);
  }

  const version = own(root, 'version');
  if (version === undefined) add('version', `is missing; this romvisor reads scenario version ${SCENARIO_VERSION}`);
  else if (typeof version === 'number' && version !== SCENARIO_VERSION) {
    // A newer schema's fields would all look unknown here; one clear refusal beats a list of them.
    throw new ScenarioError('unsupported-version', `scenario version ${version} is not supported; this romvisor reads version ${SCENARIO_VERSION}`);
  } else if (version !== SCENARIO_VERSION) add('version', `must be the number ${SCENARIO_VERSION}, got ${describeValue(version)}`);

  checkUnknownFields(root, '', SCENARIO_FIELDS, 'a scenario', add);
  const title = optional(own(root, 'title'), (v) => checkPlainText(v, 'title', SCENARIO_LIMITS.titleChars, false, add));
  const notes = optional(own(root, 'notes'), (v) => checkPlainText(v, 'notes', SCENARIO_LIMITS.notesChars, true, add));
  const view = optional(own(root, 'view'), (v) => checkView(v, add));
  const guests = checkGuests(own(root, 'guests'), add);

  if (problems.count > 0 || guests === undefined) throw invalid(problems.all());
  // Fields in schema order, so a decoded link and a downloaded file read the same.
  const scenario: Scenario = { version: SCENARIO_VERSION, title, notes, view, guests };
  for (const key of ['title', 'notes', 'view'] as const) if (scenario[key] === undefined) delete scenario[key];
  return scenario;
}

function invalid(problems: string[]): ScenarioError {
  const n = problems.length;
  const message = n === 1 ? `invalid scenario: ${problems[0]}` : `invalid scenario, ${n} problems: ${problems.join('; ')}`;
  return new ScenarioError('invalid', message, problems);
}

/** Absent stays absent; `null` is not a way to say absent (JSON writers that emit it are buggy). */
function optional<T>(v: unknown, check: (v: unknown) => T | undefined): T | undefined {
  return v === undefined ? undefined : check(v);
}

/**
 * Text a stranger wrote that the page will show. The page renders it as text, never HTML;
 * this also refuses control characters and bidirectional overrides, which can make a
 * title read differently from what it says.
 */
function checkPlainText(v: unknown, path: string, maxChars: number, multiline: boolean, add: Problems['add']): string | undefined {
  if (typeof v !== 'string') return add(path, `must be a string, got ${describeValue(v)}`);
  if (v.length > maxChars) return add(path, `is ${v.length} characters long, the limit is ${maxChars}`);
  const bad = multiline
    ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    : /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const m = bad.exec(v);
  if (m) {
    const what = multiline ? 'control characters other than tab and line breaks' : 'control characters or line breaks';
    return add(path, `character ${m.index} is ${codePoint(m[0])}; plain text may not contain ${what}, bidirectional overrides or unpaired surrogates`);
  }
  return v;
}

function codePoint(ch: string): string {
  return `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

const VIEW_FIELDS = ['panels', 'trapLog'];

/** `view`: an array of panels, or { panels, trapLog } (a trap-log filter preset). */
function checkView(v: unknown, add: Problems['add']): Scenario['view'] {
  const o = asRecord(v);
  if (o === undefined) return checkPanels(v, 'view', add);
  checkUnknownFields(o, 'view', VIEW_FIELDS, 'a view', add);
  const raw = own(o, 'panels');
  const panels = raw === undefined ? add('view.panels', 'is missing; it lists the panels the page opens') : checkPanels(raw, 'view.panels', add);
  const trapLog = optional(own(o, 'trapLog'), (t) => checkTrapLogFilter(t, 'view.trapLog', add));
  if (panels === undefined) return undefined;
  return trapLog === undefined ? { panels } : { panels, trapLog };
}

function checkPanels(v: unknown, path: string, add: Problems['add']): ViewPanel[] | undefined {
  if (!Array.isArray(v)) return add(path, `must be an array of panel names (${VIEW_PANELS.join(', ')}), got ${describeValue(v)}`);
  if (v.length > VIEW_PANELS.length) return add(path, `has ${v.length} entries, but there are only ${VIEW_PANELS.length} panels (${VIEW_PANELS.join(', ')})`);
  const out: ViewPanel[] = [];
  let ok = true;
  v.forEach((p, i) => {
    if (typeof p !== 'string' || !(VIEW_PANELS as readonly string[]).includes(p)) {
      ok = false;
      add(`${path}[${i}]`, `${describeValue(p)} is not a panel; panels are ${VIEW_PANELS.join(', ')}`);
    } else if (out.includes(p as ViewPanel)) {
      ok = false;
      add(`${path}[${i}]`, `"${p}" is listed twice`);
    } else out.push(p as ViewPanel);
  });
  return ok ? out : undefined;
}

function checkGuests(v: unknown, add: Problems['add']): ScenarioGuest[] | undefined {
  if (v === undefined) return add('guests', 'is missing; a scenario needs at least one guest');
  if (!Array.isArray(v)) return add('guests', `must be an array of guests, got ${describeValue(v)}`);
  if (v.length === 0) return add('guests', 'is empty; a scenario needs at least one guest');
  // Checked before walking, so a million-entry array costs one message.
  if (v.length > SCENARIO_LIMITS.guests) return add('guests', `has ${v.length} guests, the limit is ${SCENARIO_LIMITS.guests}`);
  const out: ScenarioGuest[] = [];
  let ok = true;
  // Every guest is checked even after one fails, so all their problems are listed.
  v.forEach((raw, i) => {
    const g = checkGuest(raw, `guests[${i}]`, add);
    if (g === undefined) ok = false;
    else out.push(g);
  });
  if (!ok) return undefined;
  // Names are hostnames on one network, so no two may be the same (defaults included).
  const seen = new Map<string, number>();
  out.forEach((_, i) => {
    const name = guestName(out, i).toLowerCase();
    const first = seen.get(name);
    if (first !== undefined) {
      add(`guests[${i}].name`, `"${guestName(out, i)}" is also the name of guests[${first}]; every guest needs its own name`);
      ok = false;
    } else seen.set(name, i);
  });
  // One network, one clock: guests in lockstep cannot mix with guests on the host's time.
  out.forEach((g, i) => {
    if (g.time === out[0]!.time) return;
    add(`guests[${i}].time`, `is "${g.time}" but guests[0] runs "${out[0]!.time}"; all guests of a scenario share one time mode`);
    ok = false;
  });
  return ok ? out : undefined;
}

function checkGuest(v: unknown, path: string, add: Problems['add']): ScenarioGuest | undefined {
  const g = asRecord(v);
  if (g === undefined) return add(path, `must be an object, got ${describeValue(v)}`);
  let ok = true;
  const fail = (p: string, m: string): undefined => {
    ok = false;
    return add(p, m);
  };
  checkUnknownFields(g, path, GUEST_FIELDS, 'a guest', fail);
  const name = optional(own(g, 'name'), (n) => {
    if (typeof n === 'string' && VM_NAME_PATTERN.test(n)) return n;
    return fail(`${path}.name`, `must be ${VM_NAME_RULE}, got ${describeValue(n)}`);
  });
  const rawKernel = own(g, 'kernel');
  const rawState = own(g, 'state');
  // A guest boots an appliance or a bare kernel, or resumes a saved machine: exactly one of the three.
  const sources = (['appliance', 'kernel', 'state'] as const).filter((k) => own(g, k) !== undefined);
  if (sources.length > 1) fail(`${path}.${sources[1]}`, `and ${sources[0]} exclude each other: a guest has exactly one of appliance, kernel or state`);
  if (rawState !== undefined) return checkStateGuest(g, rawState, name, path, fail);
  const kernelGuest = rawKernel !== undefined;
  const appliance = kernelGuest ? undefined : checkAppliance(own(g, 'appliance'), `${path}.appliance`, fail);
  const kernel = kernelGuest ? checkFetchedFile(rawKernel, `${path}.kernel`, ['url', 'sha256'], fail) : undefined;
  const bios = optional(own(g, 'bios'), (b) => {
    if (!kernelGuest) return fail(`${path}.bios`, 'is for a kernel guest (with "kernel"); an appliance brings its own firmware');
    return b === 'none' ? ('none' as const) : fail(`${path}.bios`, `must be "none" (the kernel starts in M-mode without firmware), got ${describeValue(b)}`);
  });
  const drives = optional(own(g, 'drives'), (d) => (kernelGuest ? checkDrives(d, `${path}.drives`, fail) : fail(`${path}.drives`, 'is for a kernel guest (with "kernel"); an appliance is its own disk')));
  if (kernelGuest && own(g, 'consoleSize') !== undefined) fail(`${path}.consoleSize`, 'is for appliance guests; a bare kernel has the UART only');
  const memoryMiB = optional(own(g, 'memoryMiB'), (m) => checkMemory(m, `${path}.memoryMiB`, fail)) ?? GUEST_DEFAULTS.memoryMiB;
  const harts = optional(own(g, 'harts'), (h) => {
    const { min, max } = SCENARIO_LIMITS.harts;
    if (typeof h === 'number' && Number.isInteger(h) && h >= min && h <= max) return h;
    return fail(`${path}.harts`, `must be a whole number of harts from ${min} to ${max}, got ${describeValue(h)}`);
  });
  const cmdline = optional(own(g, 'cmdline'), (c) => checkCmdline(c, `${path}.cmdline`, fail)) ?? GUEST_DEFAULTS.cmdline;
  const time = optional(own(g, 'time'), (t) => {
    if (typeof t === 'string' && (TIME_MODES as readonly string[]).includes(t)) return t as ScenarioGuest['time'];
    return fail(`${path}.time`, `must be ${TIME_MODES.map((m) => `"${m}"`).join(' or ')}, got ${describeValue(t)}`);
  }) ?? GUEST_DEFAULTS.time;
  const consoleSize = optional(own(g, 'consoleSize'), (c) => checkConsoleSize(c, `${path}.consoleSize`, fail));
  const script: ConsoleStep[] | undefined = optional(own(g, 'script'), (s) => checkConsoleScript(s, `${path}.script`, fail));
  if (!ok || (appliance === undefined && kernel === undefined)) return undefined;
  const guest: ScenarioGuest = kernel ? { ...(name !== undefined && { name }), kernel, bios: bios ?? 'none', drives: drives ?? [], memoryMiB, cmdline, time } : { ...(name !== undefined && { name }), appliance, memoryMiB, cmdline, time };
  if (harts !== undefined) guest.harts = harts;
  if (consoleSize !== undefined) guest.consoleSize = consoleSize;
  if (script !== undefined) guest.script = script;
  return guest;
}

/** What a state guest's state decides: the scenario may not say otherwise. */
const STATE_DECIDES = ['memoryMiB', 'harts', 'cmdline', 'time', 'consoleSize', 'bios', 'drives'];

/**
 * A guest that resumes a saved machine (`romvisor boot --save-state F --self-contained`):
 * its memory, harts, time mode, console size and disk come from the state; the scenario
 * gives its name and the console steps played from the moment it was saved.
 */
function checkStateGuest(g: Record<string, unknown>, raw: unknown, name: string | undefined, path: string, fail: Problems['add']): ScenarioGuest | undefined {
  let ok = true;
  const add = (p: string, m: string): undefined => {
    ok = false;
    return fail(p, m);
  };
  for (const key of STATE_DECIDES) if (own(g, key) !== undefined) add(`${path}.${key}`, 'comes from the state of a "state" guest; remove it');
  const state = checkFetchedFile(raw, `${path}.state`, ['url', 'sha256'], add);
  const script: ConsoleStep[] | undefined = optional(own(g, 'script'), (s) => checkConsoleScript(s, `${path}.script`, add));
  if (!ok || state === undefined) return undefined;
  // memoryMiB, cmdline and time keep their defaults only so every guest has them; the state's win.
  const guest: ScenarioGuest = { ...(name !== undefined && { name }), state, memoryMiB: GUEST_DEFAULTS.memoryMiB, cmdline: '', time: GUEST_DEFAULTS.time };
  if (script !== undefined) guest.script = script;
  return guest;
}

function checkMemory(v: unknown, path: string, add: Problems['add']): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return add(path, `must be a whole number of MiB, got ${describeValue(v)}`);
  const { min, max } = SCENARIO_LIMITS.memoryMiB;
  if (v < min) return add(path, `${v} MiB is below the minimum of ${min} MiB`);
  if (v > max) return add(path, `${v} MiB is above the maximum of ${max} MiB`);
  return v;
}

function checkConsoleSize(v: unknown, path: string, add: Problems['add']): ScenarioGuest['consoleSize'] {
  const c = asRecord(v);
  if (c === undefined) return add(path, `must be { "cols": number, "rows": number }, got ${describeValue(v)}`);
  let ok = true;
  const fail = (p: string, m: string): undefined => {
    ok = false;
    return add(p, m);
  };
  checkUnknownFields(c, path, ['cols', 'rows'], 'a console size', fail);
  const dim = (key: 'cols' | 'rows', { min, max }: { min: number; max: number }) => {
    const n = own(c, key);
    if (n === undefined) return fail(`${path}.${key}`, 'is missing');
    if (typeof n !== 'number' || !Number.isInteger(n)) return fail(`${path}.${key}`, `must be a whole number, got ${describeValue(n)}`);
    if (n < min || n > max) return fail(`${path}.${key}`, `${n} is outside ${min}..${max}`);
    return n;
  };
  const cols = dim('cols', SCENARIO_LIMITS.consoleCols);
  const rows = dim('rows', SCENARIO_LIMITS.consoleRows);
  if (!ok || cols === undefined || rows === undefined) return undefined;
  return { cols, rows };
}

function checkCmdline(v: unknown, path: string, add: Problems['add']): string | undefined {
  if (typeof v !== 'string') return add(path, `must be a string, got ${describeValue(v)}`);
  const max = SCENARIO_LIMITS.cmdlineChars;
  if (v.length > max) return add(path, `is ${v.length} characters long, the limit is ${max}`);
  // The kernel parses its command line as ASCII words; anything else is a mistake or a trick.
  const m = /[^\x20-\x7e]/.exec(v);
  if (m) return add(path, `character ${m.index} is ${codePoint(m[0])}; only printable ASCII (space to ~) is allowed`);
  return v;
}

const APPLIANCE_FORMS = '{ "builtin": name }, { "url": "https://...", "sha256": hex }, { "local": id } or { "repo": "https://...", "name": name, "version": v }';

function checkAppliance(v: unknown, path: string, add: Problems['add']): ApplianceRef | undefined {
  if (v === undefined) return add(path, `is missing; it must be ${APPLIANCE_FORMS} (or the guest has a "kernel" or a "state" instead)`);
  const a = asRecord(v);
  if (a === undefined) return add(path, `must be ${APPLIANCE_FORMS}, got ${describeValue(v)}`);
  const keys = Object.keys(a);
  const kinds = keys.filter((k) => k === 'builtin' || k === 'url' || k === 'local' || k === 'repo');
  if (kinds.length !== 1) {
    const has = keys.length ? `has ${keys.slice(0, 5).map((k) => describeValue(k)).join(', ')}${keys.length > 5 ? ', …' : ''}` : 'is empty';
    return add(path, `must be exactly one of ${APPLIANCE_FORMS} (it ${has})`);
  }
  const kind = kinds[0]!;
  const allowed = kind === 'url' ? ['url', 'sha256'] : kind === 'repo' ? ['repo', 'name', 'version'] : [kind];
  let ok = true;
  for (const key of keys) {
    if (!allowed.includes(key)) {
      ok = false;
      add(fieldPath(path, key), `is not a field of a "${kind}" appliance (fields: ${allowed.join(', ')})`);
    }
  }
  switch (kind) {
    case 'builtin': {
      const name = own(a, 'builtin');
      const max = SCENARIO_LIMITS.builtinNameChars;
      if (typeof name !== 'string' || name.length === 0 || name.length > max || !/^[a-z0-9-]+$/.test(name)) {
        return add(`${path}.builtin`, `must be a built-in appliance name (1 to ${max} of a-z, 0-9, -), got ${describeValue(name)}`);
      }
      return ok ? { builtin: name } : undefined;
    }
    case 'local': {
      const id = own(a, 'local');
      const max = SCENARIO_LIMITS.localIdChars;
      if (typeof id !== 'string' || id.length === 0 || id.length > max || !/^[A-Za-z0-9_-]+$/.test(id)) {
        return add(`${path}.local`, `must be a local image id (1 to ${max} of A-Z, a-z, 0-9, _, -), got ${describeValue(id)}`);
      }
      return ok ? { local: id } : undefined;
    }
    case 'repo': {
      const repo = checkApplianceUrl(own(a, 'repo'), `${path}.repo`, add);
      const name = own(a, 'name');
      const version = own(a, 'version');
      let good = repo !== undefined;
      if (typeof name !== 'string' || name.length === 0 || name.length > SCENARIO_LIMITS.repoNameChars || !REPO_APPLIANCE_NAME.test(name)) {
        good = false;
        add(`${path}.name`, `must be the appliance's name in the repository (1 to ${SCENARIO_LIMITS.repoNameChars} of letters, digits, '.', '_', '-'), got ${describeValue(name)}`);
      }
      if (version !== undefined && (typeof version !== 'string' || version.length === 0 || version.length > 64 || !REPO_VERSION.test(version))) {
        good = false;
        add(`${path}.version`, `must be one of the appliance's versions (letters, digits, '.', '_', '+', '~', '-'), or absent for the newest; got ${describeValue(version)}`);
      }
      if (!ok || !good) return undefined;
      return version === undefined ? { repo: repo!, name: name as string } : { repo: repo!, name: name as string, version: version as string };
    }
    default: {
      const url = checkApplianceUrl(own(a, 'url'), `${path}.url`, add);
      const sha = own(a, 'sha256');
      let sha256: string | undefined;
      if (sha === undefined) add(`${path}.sha256`, 'is missing; an appliance fetched by URL needs its SHA-256 (64 lowercase hex digits)');
      else if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) add(`${path}.sha256`, `must be 64 lowercase hex digits, got ${describeValue(sha)}`);
      else sha256 = sha;
      return ok && url !== undefined && sha256 !== undefined ? { url, sha256 } : undefined;
    }
  }
}

/** `{ "url", "sha256" }` (and `extra` fields the caller checks): a file fetched by URL. */
function checkFetchedFile(v: unknown, path: string, fields: readonly string[], add: Problems['add']): FetchedFile | undefined {
  const o = asRecord(v);
  if (o === undefined) return add(path, `must be { "url": "https://...", "sha256": hex }, got ${describeValue(v)}`);
  checkUnknownFields(o, path, fields, path.endsWith('kernel') ? 'a kernel' : path.endsWith('state') ? 'a state' : 'a drive', add);
  const url = checkApplianceUrl(own(o, 'url'), `${path}.url`, add);
  const sha = own(o, 'sha256');
  if (sha === undefined) return add(`${path}.sha256`, 'is missing; a file fetched by URL needs its SHA-256 (64 lowercase hex digits)');
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) return add(`${path}.sha256`, `must be 64 lowercase hex digits, got ${describeValue(sha)}`);
  return url === undefined ? undefined : { url, sha256: sha };
}

function checkDrives(v: unknown, path: string, add: Problems['add']): ScenarioDrive[] | undefined {
  if (!Array.isArray(v)) return add(path, `must be an array of drives, got ${describeValue(v)}`);
  if (v.length > SCENARIO_LIMITS.drives) return add(path, `has ${v.length} drives, the limit is ${SCENARIO_LIMITS.drives} (the virtio-mmio slots)`);
  const out: ScenarioDrive[] = [];
  let ok = true;
  v.forEach((raw, i) => {
    const at = `${path}[${i}]`;
    const file = checkFetchedFile(raw, at, DRIVE_FIELDS, add);
    const o = asRecord(raw);
    const format = o === undefined ? undefined : own(o, 'format') ?? 'raw';
    const readonly = o === undefined ? undefined : own(o, 'readonly') ?? false;
    if (format !== undefined && format !== 'raw' && format !== 'vhd') add(`${at}.format`, `must be "raw" or "vhd", got ${describeValue(format)}`);
    if (readonly !== undefined && typeof readonly !== 'boolean') add(`${at}.readonly`, `must be true or false, got ${describeValue(readonly)}`);
    if (file === undefined || (format !== 'raw' && format !== 'vhd') || typeof readonly !== 'boolean') ok = false;
    else out.push({ ...file, format, readonly });
  });
  return ok ? out : undefined;
}

/**
 * An appliance URL: https only, since the image is fetched by a page a stranger's link
 * opened; plain http only to this machine, for serving images under development.
 * Credentials in the URL are refused: a link must not carry someone's password.
 */
function checkApplianceUrl(v: unknown, path: string, add: Problems['add']): string | undefined {
  if (typeof v !== 'string') return add(path, `must be a string, got ${describeValue(v)}`);
  const max = SCENARIO_LIMITS.urlChars;
  if (v.length > max) return add(path, `is ${v.length} characters long, the limit is ${max}`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return add(path, `${describeValue(v)} is not an absolute URL`);
  }
  const loopback = u.protocol === 'http:' && isLoopbackHost(u.hostname);
  if (u.protocol !== 'https:' && !loopback) {
    return add(path, `${describeValue(v)} must use https (plain http only to ${LOOPBACK_TEXT})`);
  }
  if (u.username || u.password) return add(path, `${describeValue(v)} must not carry a user name or password`);
  return v;
}
