/**
 * "How many traps of each cause in the last second": the core only keeps totals since
 * reset, so the window is the difference between the totals now and a snapshot taken about
 * a second ago. Snapshots go into a fixed ring, at most one per `spacingMs`, so a burst of
 * tiny slices cannot push the one-second-old snapshot out; with the defaults the ring
 * reaches back at least 1.27 s.
 */

interface Snapshot {
  tMs: number;
  counts: number[];
}

export class TrapRateWindow {
  private readonly ring: (Snapshot | undefined)[];
  /** Index of the next slot to write. */
  private head = 0;
  private size = 0;

  constructor(
    startMs: number,
    width: number,
    private readonly windowMs = 1000,
    capacity = 128,
    private readonly spacingMs = 10,
  ) {
    this.ring = new Array<Snapshot | undefined>(capacity);
    // Power-on: nothing counted yet. This one is never evicted until newer ones cover the window.
    this.push({ tMs: startMs, counts: new Array<number>(width).fill(0) });
  }

  /** Notes the totals at `tMs` (call after each slice; too-close calls are skipped). */
  record(tMs: number, counts: readonly number[]): void {
    const newest = this.at(this.size - 1);
    if (tMs - newest.tMs < this.spacingMs) return;
    this.push({ tMs, counts: counts.slice() });
  }

  /**
   * The totals to subtract for "the last second" ending at `nowMs`: the newest snapshot at
   * least `windowMs` old, or the oldest one while the machine is younger than that.
   */
  base(nowMs: number): { counts: readonly number[]; windowMs: number } {
    let pick = this.at(0);
    for (let i = this.size - 1; i >= 0; i--) {
      const s = this.at(i);
      if (nowMs - s.tMs >= this.windowMs) {
        pick = s;
        break;
      }
    }
    return { counts: pick.counts, windowMs: nowMs - pick.tMs };
  }

  /** The i-th snapshot, oldest first. */
  private at(i: number): Snapshot {
    const n = this.ring.length;
    return this.ring[(this.head - this.size + i + n) % n]!;
  }

  private push(s: Snapshot): void {
    this.ring[this.head] = s;
    this.head = (this.head + 1) % this.ring.length;
    if (this.size < this.ring.length) this.size++;
  }
}
