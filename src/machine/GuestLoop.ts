/**
 * What a host does between two `vm.runUntil()` calls, written once for the page's worker
 * and `romvisor boot`: while the guest runs, give the event loop one turn (input, comlink
 * calls, disk promises); while it idles, sleep until its timer is due, input arrives
 * (`wake()`), or device work it waits for settles. And when a console script counts as
 * finished: the guest has taken all input and waits for more, with no device work running.
 */
import type { RunOutcome, Vm } from './Vm.ts';

export class GuestLoop {
  private wakeUp: (() => void) | undefined;
  private readonly turn = makeTurn();
  private readonly yieldTurn = () => new Promise<void>((resolve) => this.turn(resolve));
  private readonly setTimer = makeTimer(this.turn);

  /** Ends the current rest or sleep now: input arrived, the host resumed, or it shuts down. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * Waits as `outcome` asks before the next run: one turn of the event loop, or, idle with
   * no input waiting, until the guest's timer is due (at most `maxNapMs`), `wake()`, or
   * device work settles.
   */
  async rest(vm: Vm, outcome: RunOutcome, maxNapMs: number): Promise<void> {
    if (outcome.kind !== 'idle' || vm.hasPendingInput) {
      await this.yieldTurn();
      return;
    }
    // A deterministic guest's idle point (wakeInMs 0: its time already jumped to the next
    // deadline) needs no sleep, only a turn of the event loop; a 0 ms timer would be
    // clamped to 4 ms each time in a browser.
    const ms = Math.min(outcome.wakeInMs ?? maxNapMs, maxNapMs);
    const nap = ms > 0 ? this.sleep(ms) : this.yieldTurn();
    const work = vm.pendingWork();
    await (work ? Promise.race([nap, work]) : nap);
    this.wake();
  }

  /** Sleeps `ms`, or until `wake()`. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        cancel();
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const cancel = this.setTimer(ms, done);
      this.wakeUp = done;
    });
  }

  /** Where a finished console script ends the run: idle, all input taken, no device work in flight. */
  static settled(vm: Vm, outcome: RunOutcome): boolean {
    return outcome.kind === 'idle' && !vm.hasPendingInput && vm.pendingWork() === undefined;
  }
}

/**
 * Runs a callback on the next turn of the event loop: setImmediate in node; in a browser a
 * MessageChannel message, which is not clamped like nested setTimeout(0) is. Callbacks queue
 * in order, so turns asked for before the last one's message arrived are not lost.
 */
function makeTurn(): (next: () => void) => void {
  if (typeof setImmediate === 'function') return (next) => void setImmediate(next);
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  return (next) => {
    queue.push(next);
    channel.port2.postMessage(0);
  };
}

/**
 * A timer that fires after `ms`, returning its cancel. In a browser a setTimeout set from a
 * timer's callback more than five deep is clamped to 4 ms (HTML's timer nesting rule), and an
 * idle guest's loop is exactly such a chain: in a Chromium worker a 1 ms nap took 4.09 ms.
 * Set from a turn (a MessageChannel task) it is at nesting level 0 and takes 1.11 ms. In node
 * the timer is set at once (setImmediate would cost a turn for nothing).
 */
function makeTimer(turn: (next: () => void) => void): (ms: number, fire: () => void) => () => void {
  const inNode = typeof setImmediate === 'function';
  return (ms, fire) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    if (inNode) timer = setTimeout(fire, ms);
    else turn(() => {
      if (!cancelled) timer = setTimeout(fire, ms);
    });
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  };
}
