/**
 * A disk that can be put back as it was at an earlier point: every write first keeps the
 * bytes it overwrites, in order, so `rollback(mark)` writes them back newest first. Step
 * back (src/machine/Rewind.ts) takes a `mark` with each checkpoint of the machine, so a
 * checkpoint's disk is the disk below as it was then, whatever the guest wrote since.
 *
 * A write waits for every operation before it (its "before" read must see the disk as the
 * guest left it, and an earlier read must not see it); a read waits only for the writes
 * before it, so reads still run side by side.
 */
import type { BlockBackend } from './BlockBackend.ts';

type Disk = Pick<BlockBackend, 'size' | 'readOnly' | 'read' | 'write' | 'flush'>;

interface Undo {
  offset: number;
  before: Uint8Array;
}

export class UndoLogDisk {
  private readonly log: Undo[] = [];
  /** The mark of log[0]: marks count every write since the disk was wrapped. */
  private first = 0;
  /** Settles when every operation so far has; and when every write so far has. */
  private all: Promise<unknown> = Promise.resolve();
  private writes: Promise<unknown> = Promise.resolve();
  /** Bytes the log holds. */
  heldBytes = 0;

  constructor(readonly inner: Disk) {}

  get size(): number {
    return this.inner.size;
  }

  get readOnly(): boolean {
    return this.inner.readOnly;
  }

  /** The point the disk is at now, for `rollback`. */
  get mark(): number {
    return this.first + this.log.length;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    const run = this.writes.then(() => this.inner.read(offset, length));
    this.all = Promise.all([this.all, run.catch(() => {})]);
    return run;
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.exclusively(async () => {
      const before = await this.inner.read(offset, data.length);
      await this.inner.write(offset, data);
      // Kept only once written: a failed write changed nothing to undo.
      this.log.push({ offset, before });
      this.heldBytes += before.length;
    });
  }

  flush(): Promise<void> {
    return this.exclusively(() => this.inner.flush());
  }

  /** Puts the disk back as it was at `mark` (writes since undone, newest first). */
  rollback(mark: number): Promise<void> {
    if (mark < this.first || mark > this.mark) throw new RangeError(`UndoLogDisk.rollback: mark ${mark} is outside ${this.first}..${this.mark}`);
    return this.exclusively(async () => {
      while (this.mark > mark) {
        const u = this.log.at(-1)!;
        await this.inner.write(u.offset, u.before);
        this.log.pop();
        this.heldBytes -= u.before.length;
      }
    });
  }

  /** Forgets what it would take to go back before `mark` (no checkpoint is that old any more). */
  forgetBefore(mark: number): void {
    const n = Math.min(Math.max(0, mark - this.first), this.log.length);
    for (const u of this.log.splice(0, n)) this.heldBytes -= u.before.length;
    this.first += n;
  }

  /** Runs `op` after everything before it, and everything after it waits for it. */
  private exclusively<T>(op: () => Promise<T>): Promise<T> {
    const run = this.all.then(op);
    this.all = this.writes = run.catch(() => {});
    return run;
  }
}
