// Which traps the trap log keeps: by kind of cause, by the privilege the trap was taken
// from, timer interrupts hidden or not, and whether a kept system call's or page fault's
// return is logged too. The inspector applies it where it collects the core's records
// (so a flood of kernel traps cannot push a user program's ecall out of the log); the
// page remembers it per view; a scenario may preset it (its `view.trapLog`).
import type { Privilege, TrapKind } from './Types.ts';
import { causeOfCounter, nameCause } from './trapCauses.ts';

export const TRAP_KINDS: readonly TrapKind[] = [
  'syscall', 'page-fault', 'access-fault', 'illegal', 'misaligned', 'breakpoint', 'timer', 'external', 'software', 'other',
];
export const PRIVILEGES: readonly Privilege[] = ['U', 'S', 'M'];

export interface TrapLogFilter {
  /** Kinds of cause kept (all of them: no filter). */
  kinds: TrapKind[];
  /** Privileges a kept trap may be taken from. */
  from: Privilege[];
  /** Drops timer interrupts whatever `kinds` says (the commonest flood). */
  hideTimer: boolean;
  /** Logs the return (the xRET back) of each kept system call and page fault. */
  returns: boolean;
}

export const DEFAULT_TRAP_LOG_FILTER: Readonly<TrapLogFilter> = Object.freeze({
  kinds: [...TRAP_KINDS], from: [...PRIVILEGES], hideTimer: false, returns: false,
});

/** The fields a filter's JSON may have (a scenario's `view.trapLog`, the page's saved choice). */
export const TRAP_LOG_FILTER_FIELDS = ['kinds', 'from', 'hideTimer', 'returns'] as const;

/** Whether a trap of `kind` taken from `from` is kept. */
export function keepsTrap(filter: TrapLogFilter, kind: TrapKind, from: Privilege): boolean {
  if (filter.hideTimer && kind === 'timer') return false;
  return filter.kinds.includes(kind) && filter.from.includes(from);
}

/**
 * The exception codes (bit n = code n) whose return the core should log for `filter`:
 * ecalls from a kept privilege and page faults, when the filter logs returns and keeps them.
 */
export function returnMaskFor(filter: TrapLogFilter): number {
  if (!filter.returns) return 0;
  let mask = 0;
  const ecalls: [number, Privilege][] = [[8, 'U'], [9, 'S'], [11, 'M']];
  for (const [code, from] of ecalls) if (keepsTrap(filter, 'syscall', from)) mask |= 1 << code;
  if (filter.kinds.includes('page-fault') && (filter.from.includes('U') || filter.from.includes('S'))) {
    mask |= (1 << 12) | (1 << 13) | (1 << 15);
  }
  return mask >>> 0;
}

/**
 * The core's ring masks for `filter`, by privilege trapped from [U, S, M]: bit i set when a
 * trap of counter index i (exceptions 0..15, interrupts 16..31) is kept. The core applies
 * them to interrupts and ecalls only (the floods), so its ring keeps room for what is kept.
 */
export function ringMasksFor(filter: TrapLogFilter): [number, number, number] {
  return (['U', 'S', 'M'] as const).map((from) => {
    let mask = 0;
    for (let i = 0; i < 32; i++) if (keepsTrap(filter, nameCause(causeOfCounter(i)).kind, from)) mask |= 1 << i;
    return mask >>> 0;
  }) as [number, number, number];
}

/** True when the filter keeps everything (and logs no returns): the log as the core writes it. */
export function isDefaultFilter(filter: TrapLogFilter): boolean {
  return sameFilter(filter, DEFAULT_TRAP_LOG_FILTER);
}

export function sameFilter(a: TrapLogFilter, b: TrapLogFilter): boolean {
  const sameSet = <T>(x: readonly T[], y: readonly T[]) => x.length === y.length && x.every((v) => y.includes(v));
  return sameSet(a.kinds, b.kinds) && sameSet(a.from, b.from) && a.hideTimer === b.hideTimer && a.returns === b.returns;
}

/**
 * Reads a filter from untrusted JSON: every field optional (defaults as DEFAULT_TRAP_LOG_FILTER),
 * lists in canonical order without repeats. Problems go to `add` as (path, message); any
 * problem makes the result undefined.
 */
export function checkTrapLogFilter(v: unknown, path: string, add: (path: string, message: string) => undefined): TrapLogFilter | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) {
    return add(path, `must be an object with some of ${TRAP_LOG_FILTER_FIELDS.join(', ')}, got ${describe(v)}`);
  }
  const o = v as Record<string, unknown>;
  let ok = true;
  const fail = (p: string, m: string): undefined => {
    ok = false;
    return add(p, m);
  };
  for (const key of Object.keys(o)) {
    if (!(TRAP_LOG_FILTER_FIELDS as readonly string[]).includes(key)) fail(`${path}.${key}`, `is not a field of a trap-log filter (fields: ${TRAP_LOG_FILTER_FIELDS.join(', ')})`);
  }
  const own = (k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
  const list = <T extends string>(k: string, allowed: readonly T[]): T[] | undefined => {
    const x = own(k);
    if (x === undefined) return [...allowed];
    if (!Array.isArray(x) || x.length > allowed.length * 2) return fail(`${path}.${k}`, `must be an array of ${allowed.join(', ')}, got ${describe(x)}`);
    const bad = x.findIndex((e) => typeof e !== 'string' || !(allowed as readonly string[]).includes(e));
    if (bad >= 0) return fail(`${path}.${k}[${bad}]`, `${describe(x[bad])} is not one of ${allowed.join(', ')}`);
    return allowed.filter((a) => x.includes(a));
  };
  const flag = (k: string, dflt: boolean): boolean | undefined => {
    const x = own(k);
    if (x === undefined) return dflt;
    if (typeof x !== 'boolean') return fail(`${path}.${k}`, `must be true or false, got ${describe(x)}`);
    return x;
  };
  const kinds = list('kinds', TRAP_KINDS);
  const from = list('from', PRIVILEGES);
  const hideTimer = flag('hideTimer', DEFAULT_TRAP_LOG_FILTER.hideTimer);
  const returns = flag('returns', DEFAULT_TRAP_LOG_FILTER.returns);
  if (!ok || !kinds || !from || hideTimer === undefined || returns === undefined) return undefined;
  return { kinds, from, hideTimer, returns };
}

/** A filter from JSON the page saved itself; anything unreadable gives undefined. */
export function parseTrapLogFilter(json: string | null | undefined): TrapLogFilter | undefined {
  if (!json) return undefined;
  try {
    let bad = false;
    const f = checkTrapLogFilter(JSON.parse(json), 'filter', () => {
      bad = true;
      return undefined;
    });
    return bad ? undefined : f;
  } catch {
    return undefined;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
