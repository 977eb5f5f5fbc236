/**
 * Decides when the result of asynchronous device work (a disk read, write or flush)
 * becomes visible to the guest. Devices submit work with the instruction count at which
 * they took it from the ring; the machine calls `applyDue` between instruction slices.
 *
 * - realtime: a completion is applied at the first slice boundary after its work settled,
 *   in submission order among those settled.
 * - deterministic: a completion is due exactly `latency` instructions after submission and
 *   is applied when the hart reaches that count, in submission order. If the work has not
 *   settled by then, the machine must not run past that point (`blockedAt`), so the guest
 *   sees the same completion on the same instruction on every run, however slow the host.
 */
import type { TimeMode } from '../TimeMode.ts';

/** What the work ended with: its value, or the error it was rejected with. */
export type WorkOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Entry {
  due: bigint;
  settled: boolean;
  /** Resolves (never rejects) once the work settled. */
  readonly done: Promise<void>;
  apply: () => void;
  /** What a machine state keeps of it once settled (see `capture`); absent: it cannot be saved. */
  save?: () => SavedCompletion;
}

/**
 * A settled completion as data, for a machine state: the device that submitted it (its
 * owner, which turns the record back into an apply with `restore`) and what it will do.
 */
export interface SavedCompletion {
  owner: object;
  record: unknown;
}

/** A completion in a machine state: when it is due, and its device's record. */
export interface CapturedCompletion extends SavedCompletion {
  due: bigint;
}

/** Instructions from submission to completion in deterministic mode: ~1 ms of guest time at 10 instructions per 100 ns tick. */
export const DETERMINISTIC_LATENCY = 100_000n;

export class CompletionScheduler {
  private entries: Entry[] = [];

  constructor(
    readonly mode: TimeMode,
    readonly latency: bigint = DETERMINISTIC_LATENCY,
  ) {}

  /**
   * Tracks `work`, taken from the guest at instruction `now`; `apply` runs (from
   * `applyDue`, between slices) when the guest may see its outcome.
   */
  submit<T>(now: bigint, work: Promise<T>, apply: (outcome: WorkOutcome<T>) => void, save?: (outcome: WorkOutcome<T>) => SavedCompletion): void {
    let outcome: WorkOutcome<T> | undefined;
    const entry: Entry = {
      due: now + this.latency,
      settled: false,
      done: work.then(
        (value) => {
          outcome = { ok: true, value };
          entry.settled = true;
        },
        (error: unknown) => {
          outcome = { ok: false, error };
          entry.settled = true;
        },
      ),
      apply: () => apply(outcome!),
    };
    if (save) entry.save = () => save(outcome!);
    this.entries.push(entry);
  }

  /**
   * Every completion not yet applied, as data, in order (a machine state). Only once all
   * work has settled (`settleAll`): the state must hold each outcome, not a promise.
   * Returns the first entry that cannot be saved instead, as `unsavable`.
   */
  capture(): { completions: CapturedCompletion[] } | { unsavable: true } {
    const completions: CapturedCompletion[] = [];
    for (const e of this.entries) {
      if (!e.settled) throw new Error('CompletionScheduler.capture: work still in flight (await settleAll() first)');
      if (!e.save) return { unsavable: true };
      completions.push({ due: e.due, ...e.save() });
    }
    return { completions };
  }

  /** Puts back a captured completion (a machine state being restored), after those already here. */
  restore(due: bigint, apply: () => void, save: () => SavedCompletion): void {
    this.entries.push({ due, settled: true, done: Promise.resolve(), apply, save });
  }

  /**
   * Forgets every completion (the machine goes back to an earlier state: step back). Only
   * once all work has settled, so nothing lands later on the state that replaced it.
   */
  dropAll(): void {
    if (this.entries.some((e) => !e.settled)) throw new Error('CompletionScheduler.dropAll: work still in flight (await settleAll() first)');
    this.entries = [];
  }

  /** Completions submitted and not yet applied. */
  get pending(): number {
    return this.entries.length;
  }

  /** Deterministic mode: the instruction count at which the next completion is due. */
  get nextDue(): bigint | undefined {
    return this.entries[0]?.due;
  }

  /** Applies every completion the guest may see at instruction `now`; returns how many. */
  applyDue(now: bigint): number {
    if (this.entries.length === 0) return 0;
    let applied = 0;
    if (this.mode === 'deterministic') {
      while (this.entries.length > 0) {
        const e = this.entries[0]!;
        if (e.due > now || !e.settled) break;
        this.entries.shift();
        e.apply();
        applied++;
      }
      return applied;
    }
    const ready = this.entries.filter((e) => e.settled);
    if (ready.length === 0) return 0;
    this.entries = this.entries.filter((e) => !e.settled);
    for (const e of ready) e.apply();
    return ready.length;
  }

  /** Deterministic mode: a completion is due at or before `now` but its work has not settled. */
  blockedAt(now: bigint): boolean {
    const e = this.entries[0];
    return this.mode === 'deterministic' && e !== undefined && e.due <= now && !e.settled;
  }

  /**
   * Deterministic mode, the hart idle (WFI) at `now`: if the next completion is due no
   * later than `limit` (the timer deadline), moves it and those due with it to `now` and
   * returns the instructions skipped, which the caller turns into elapsed guest time.
   */
  pullIn(now: bigint, limit: bigint): bigint | undefined {
    const first = this.entries[0];
    if (this.mode !== 'deterministic' || !first || first.due > limit) return undefined;
    const due = first.due;
    if (due <= now) return 0n;
    for (const e of this.entries) if (e.due === due) e.due = now;
    return due - now;
  }

  /** Resolves when some submitted work settles; undefined when all of it already has. */
  whenSettled(): Promise<void> | undefined {
    const open = this.entries.filter((e) => !e.settled);
    return open.length === 0 ? undefined : Promise.race(open.map((e) => e.done));
  }

  /** Resolves once all submitted work has settled (applied or not): before closing a disk. */
  async settleAll(): Promise<void> {
    await Promise.all(this.entries.map((e) => e.done));
  }
}
