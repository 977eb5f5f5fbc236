/**
 * Console scripts: the one script format of romvisor, used by `romvisor boot --script`
 * and carried by scenario URLs. A script is a JSON array of steps:
 *
 *   { "expect": "text" | { "regex": "...", "flags": "i" }, "timeout": seconds }
 *   { "send": "text" }        JSON escapes give control keys: "\n", "\u0003" (Ctrl-C)
 *   { "wait": seconds }
 *
 * `expect` matches console output after the previous match; its timeout (default 60 s,
 * host time) fails the script. `wait` counts guest time, so deterministic runs replay it
 * on the same instruction.
 */

import { CodedError } from '../errors/CodedError.ts';
import { describeValue, fieldPath } from './fieldPath.ts';

export type ConsoleStep =
  | { expect: string | { regex: string; flags?: string }; timeout?: number }
  | { send: string }
  | { wait: number };

export class ScriptError extends CodedError<'bad-script'> {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('bad-script', `${path}: ${message}`);
    this.name = 'ScriptError';
  }
}

export const SCRIPT_LIMITS = { steps: 200, text: 4096, timeout: 3600, wait: 3600 } as const;
export const DEFAULT_EXPECT_TIMEOUT = 60;

// Values are quoted as JSON so a stranger's newlines and escapes never reach a terminal raw.
const describe = describeValue;

/**
 * Where validation problems go. parseConsoleScript throws on the first; a scenario collects
 * them all, so a shared link with three mistakes is fixed in one round, not three.
 */
export type ScriptProblemSink = (path: string, message: string) => undefined;

function checkText(v: unknown, path: string, report: ScriptProblemSink): string | undefined {
  if (typeof v !== 'string') return report(path, `must be a string, got ${describe(v)}`);
  if (v.length > SCRIPT_LIMITS.text) return report(path, `is ${v.length} characters long, the limit is ${SCRIPT_LIMITS.text}`);
  return v;
}

function checkSeconds(v: unknown, path: string, max: number, report: ScriptProblemSink): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return report(path, `must be a number of seconds ≥ 0, got ${describe(v)}`);
  if (v > max) return report(path, `${v} s is above the limit of ${max} s`);
  return v;
}

/** Validates untrusted JSON as a console script; throws ScriptError naming the first bad field. */
export function parseConsoleScript(json: unknown, path = 'script'): ConsoleStep[] {
  const steps = checkConsoleScript(json, path, (p, message): undefined => {
    throw new ScriptError(p, message);
  });
  // Unreachable: the sink above throws on the first problem.
  if (steps === undefined) throw new ScriptError(path, 'is not a valid script');
  return steps;
}

/**
 * Validates untrusted JSON as a console script, reporting every problem to `report`
 * (one per step at most). Returns the steps, or undefined if anything was reported.
 */
export function checkConsoleScript(json: unknown, path: string, report: ScriptProblemSink): ConsoleStep[] | undefined {
  if (!Array.isArray(json)) return report(path, `must be an array of steps, got ${describe(json)}`);
  // Checked before walking the steps, so a huge array costs one message, not a million.
  if (json.length > SCRIPT_LIMITS.steps) return report(path, `has ${json.length} steps, the limit is ${SCRIPT_LIMITS.steps}`);
  const steps: ConsoleStep[] = [];
  let ok = true;
  for (let i = 0; i < json.length; i++) {
    const step = checkStep(json[i], `${path}[${i}]`, report);
    if (step === undefined) ok = false;
    else steps.push(step);
  }
  return ok ? steps : undefined;
}

function checkStep(raw: unknown, p: string, report: ScriptProblemSink): ConsoleStep | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return report(p, `must be an object, got ${describe(raw)}`);
  const step = raw as Record<string, unknown>;
  const keys = Object.keys(step);
  const kind = keys.filter((k) => k === 'expect' || k === 'send' || k === 'wait');
  if (kind.length !== 1) return report(p, `must have exactly one of "expect", "send", "wait" (has ${keys.length ? keys.slice(0, 5).map((k) => describeValue(k)).join(', ') : 'none'}${keys.length > 5 ? ', …' : ''})`);
  const unknown = keys.filter((k) => k !== kind[0] && !(kind[0] === 'expect' && k === 'timeout'));
  if (unknown.length) return report(fieldPath(p, unknown[0]!), `is not a field of a "${kind[0]}" step`);
  if (kind[0] === 'send') {
    const send = checkText(step.send, `${p}.send`, report);
    return send === undefined ? undefined : { send };
  }
  if (kind[0] === 'wait') {
    const wait = checkSeconds(step.wait, `${p}.wait`, SCRIPT_LIMITS.wait, report);
    return wait === undefined ? undefined : { wait };
  }
  let timeout: number | undefined;
  if (step.timeout !== undefined) {
    timeout = checkSeconds(step.timeout, `${p}.timeout`, SCRIPT_LIMITS.timeout, report);
    if (timeout === undefined) return undefined;
  }
  const e = step.expect;
  if (typeof e === 'string') {
    if (checkText(e, `${p}.expect`, report) === undefined) return undefined;
    if (e.length === 0) return report(`${p}.expect`, 'must not be empty');
    return timeout === undefined ? { expect: e } : { expect: e, timeout };
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return report(`${p}.expect`, `must be a string or { "regex": ... }, got ${describe(e)}`);
  const re = e as Record<string, unknown>;
  // A misspelt "flag" would otherwise be dropped and the match silently change meaning.
  const extra = Object.keys(re).find((k) => k !== 'regex' && k !== 'flags');
  if (extra !== undefined) return report(fieldPath(`${p}.expect`, extra), 'is not a field of a regex (only "regex" and "flags" are)');
  const regex = checkText(re.regex, `${p}.expect.regex`, report);
  if (regex === undefined) return undefined;
  let flags: string | undefined;
  if (re.flags !== undefined) {
    flags = checkText(re.flags, `${p}.expect.flags`, report);
    if (flags === undefined) return undefined;
    if (!/^[ims]*$/.test(flags)) return report(`${p}.expect.flags`, `${describe(flags)} may only contain i, m, s`);
  }
  try {
    new RegExp(regex, flags);
  } catch (err) {
    return report(`${p}.expect.regex`, `is not a valid regular expression: ${(err as Error).message}`);
  }
  const risk = backtrackingRisk(regex);
  if (risk) return report(`${p}.expect.regex`, `${risk}; such a pattern can take exponential time on console output`);
  const expect = flags === undefined ? { regex } : { regex, flags };
  return timeout === undefined ? { expect } : { expect, timeout };
}

/**
 * Scripts come from shared links, and a JavaScript regex can backtrack exponentially:
 * /(a+)+$/ on a long console line never finishes. Refuse the two shapes behind that: a
 * quantified group that itself contains a quantifier, and backreferences. A conservative
 * check: it may refuse a harmless pattern, never lets a nested quantifier through.
 */
export function backtrackingRisk(regex: string): string | undefined {
  if (/\\[1-9]|\\k</.test(regex)) return 'uses a backreference';
  // Walk the pattern, tracking for each open group whether a quantifier occurs inside it.
  const stack: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push(false);
    else if (c === ')') {
      const quantifiedInside = stack.pop() ?? false;
      const next = regex[i + 1];
      const quantifiedGroup = next === '*' || next === '+' || next === '?' || next === '{';
      if (quantifiedInside && quantifiedGroup && next !== '?') return 'nests a quantifier inside a quantified group';
      if (stack.length && (quantifiedInside || quantifiedGroup)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{') && stack.length) {
      stack[stack.length - 1] = true;
    }
  }
  return undefined;
}

export interface StepResult {
  index: number;
  status: 'passed' | 'failed';
  /** Host milliseconds from the step's start to its end. */
  ms: number;
  detail?: string;
}

/** How a player talks to the machine it drives. */
export interface ScriptTarget {
  send(text: string): void;
  /** The clock `wait` counts: guest time for deterministic runs. */
  guestMs(): number;
  /** Host time, for expect timeouts. */
  hostMs(): number;
}

/** Keeps only the tail of the output that an expect may still need. */
const MAX_BUFFER = 64 * 1024;

export class ConsoleScriptPlayer {
  private index = 0;
  private buffer = '';
  private stepStartHost: number;
  private waitUntil: number | undefined;
  readonly results: StepResult[] = [];
  /** Called when a step ends (for showing progress). */
  onStep?: (r: StepResult, step: ConsoleStep) => void;

  constructor(
    readonly steps: ConsoleStep[],
    private readonly target: ScriptTarget,
  ) {
    this.stepStartHost = target.hostMs();
  }

  get done(): boolean {
    return this.index >= this.steps.length || this.failed;
  }
  get failed(): boolean {
    return this.results.some((r) => r.status === 'failed');
  }
  get currentStep(): number {
    return this.index;
  }

  /** Console output from the guest. */
  feed(text: string): void {
    this.buffer += text;
    if (this.buffer.length > MAX_BUFFER) this.buffer = this.buffer.slice(-MAX_BUFFER);
    this.advance();
  }

  /** Lets time-based steps progress; call regularly. */
  poll(): void {
    this.advance();
  }

  private finish(status: StepResult['status'], detail?: string): void {
    const now = this.target.hostMs();
    const r: StepResult = { index: this.index, status, ms: Math.round(now - this.stepStartHost), detail };
    this.results.push(r);
    this.onStep?.(r, this.steps[this.index]);
    this.index++;
    this.stepStartHost = now;
    this.waitUntil = undefined;
  }

  private advance(): void {
    while (!this.done) {
      const step = this.steps[this.index];
      if ('send' in step) {
        this.target.send(step.send);
        this.finish('passed');
      } else if ('wait' in step) {
        this.waitUntil ??= this.target.guestMs() + step.wait * 1000;
        if (this.target.guestMs() < this.waitUntil) return;
        this.finish('passed');
      } else {
        const m = matchExpect(step.expect, this.buffer);
        if (m >= 0) {
          this.buffer = this.buffer.slice(m);
          this.finish('passed');
          continue;
        }
        const timeout = (step.timeout ?? DEFAULT_EXPECT_TIMEOUT) * 1000;
        if (this.target.hostMs() - this.stepStartHost > timeout) {
          this.finish('failed', `timed out after ${timeout / 1000} s waiting for ${describeExpect(step.expect)}`);
        }
        return;
      }
    }
  }
}

/** The end offset of the first match in text, or -1. */
function matchExpect(e: string | { regex: string; flags?: string }, text: string): number {
  if (typeof e === 'string') {
    const i = text.indexOf(e);
    return i < 0 ? -1 : i + e.length;
  }
  const m = new RegExp(e.regex, e.flags).exec(text);
  return m ? m.index + m[0].length : -1;
}

export function describeExpect(e: string | { regex: string; flags?: string }): string {
  return typeof e === 'string' ? JSON.stringify(e) : `/${e.regex}/${e.flags ?? ''}`;
}
