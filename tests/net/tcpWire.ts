// Two host endpoints on a wire of the tests' making, in virtual time: each frame takes
// DELAY_US to cross, or is dropped, or is held back a while so that later frames pass it
// (reordering), as a seeded random source decides. The endpoints' clocks are the wire's,
// so a run is the same on every machine, and `run()` jumps time straight to the next
// frame or timer. Test-only: the unit tests' lossy link and the fuzzer's peer.
import { NET, ipv4, macFromName } from '../../src/net/index.ts';
import { HostEndpoint } from '../../src/net/host/index.ts';
import { SeededRandom } from '../SeededRandom.ts';

const DELAY_US = 100;

export interface WireOptions {
  seed?: number;
  /** Probability that a frame is lost. */
  drop?: number;
  /** Probability that a frame is held back up to `reorderUs` (later frames overtake it). */
  reorder?: number;
  reorderUs?: number;
}

interface InFlight {
  at: number;
  order: number;
  to: HostEndpoint;
  frame: Uint8Array;
}

export class TcpWire {
  now = 0;
  readonly stats = { frames: 0, dropped: 0, reordered: 0 };
  /** The endpoint at the gateway address (the one --hostfwd uses). */
  readonly gateway: HostEndpoint;
  /** An endpoint standing in for a guest, at 10.0.2.15. */
  readonly guest: HostEndpoint;
  /** While false, everything on the wire is lost (a guest that vanished). */
  up = true;
  /** Sees every frame put on the wire, with the endpoint that sent it. */
  tap?: (frame: Uint8Array, from: HostEndpoint) => void;
  private readonly inFlight: InFlight[] = [];
  private order = 0;
  private readonly rnd: SeededRandom;

  constructor(private readonly opts: WireOptions = {}) {
    this.rnd = new SeededRandom(opts.seed ?? 1);
    const clockUs = () => this.now;
    this.gateway = new HostEndpoint({ ip: NET.gateway, mac: NET.servicesMac, clockUs, send: (f) => this.carry(f, this.guest) });
    this.guest = new HostEndpoint({ ip: ipv4(10, 0, 2, 15), mac: macFromName('guest'), clockUs, send: (f) => this.carry(f, this.gateway) });
  }

  private carry(frame: Uint8Array, to: HostEndpoint): void {
    this.stats.frames++;
    this.tap?.(frame, to === this.guest ? this.gateway : this.guest);
    if (!this.up || this.rnd.chance(this.opts.drop ?? 0)) {
      this.stats.dropped++;
      return;
    }
    let at = this.now + DELAY_US;
    if (this.rnd.chance(this.opts.reorder ?? 0)) {
      this.stats.reordered++;
      at += this.rnd.int(1, this.opts.reorderUs ?? 2000);
    }
    this.inFlight.push({ at, order: this.order++, to, frame });
  }

  /** Lets both endpoints flush what they gathered (their flushes are microtasks). */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) await null;
  }

  /**
   * Moves time from event to event (frames arriving, timers due) until `done()` holds or
   * `limitUs` of virtual time has passed; returns whether `done()` held.
   */
  async run(done: () => boolean, limitUs = 600_000_000): Promise<boolean> {
    const end = this.now + limitUs;
    for (;;) {
      await this.settle();
      if (done()) return true;
      let next = Infinity;
      for (const f of this.inFlight) next = Math.min(next, f.at);
      for (const e of [this.gateway, this.guest]) next = Math.min(next, e.nextTimerUs() ?? Infinity);
      if (next === Infinity || next > end) return done();
      this.now = Math.max(this.now, next);
      const due = this.inFlight.filter((f) => f.at <= this.now).sort((a, b) => a.at - b.at || a.order - b.order);
      for (const f of due) this.inFlight.splice(this.inFlight.indexOf(f), 1);
      for (const f of due) f.to.receive(f.frame);
      this.gateway.tick();
      this.guest.tick();
    }
  }
}
