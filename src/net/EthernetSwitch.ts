/**
 * A learning layer-2 switch: one per server in the page, one per `romvisor boot` run. Every
 * port has a bounded inbound and a bounded outbound queue; a frame that finds a queue full
 * is dropped and counted on that port, so a guest flooding the switch loses its own frames
 * rather than starving the others. Forwarding takes one frame from each port in turn, so a
 * busy port gets its share and no more.
 *
 * The switch learns which port each source MAC sits behind; a frame for a known unicast MAC
 * goes to that port only, a broadcast, multicast or unknown destination to every other
 * port. The built-in services (DHCP, DNS, ARP and ping for 10.0.2.3, and the host's TCP/IP
 * endpoint at 10.0.2.2) sit on a port of their own, attached at construction.
 *
 * Delivery: 'immediate' (realtime) moves frames a microtask after they are sent; 'manual'
 * (deterministic lockstep) moves them only in `pump()`, which the host calls at quantum
 * boundaries, so every guest sees every frame at a guest time fixed by the run itself.
 * Taps (a pcap writer) see every frame that enters, stamped with the switch's clock.
 */
import { AddressBook } from './AddressBook.ts';
import { NetError } from './NetError.ts';
import { NetServices } from './NetServices.ts';
import { vmNameProblem } from './netContract.ts';
import type { PortKind, PortSink, PortStats, SwitchDelivery, SwitchPort } from './Types.ts';

/**
 * Frames a port's inbound or outbound queue holds before dropping: about 1.5 MiB of full
 * frames, enough for what a guest sends in one realtime slice at TCP's full window.
 */
export const PORT_QUEUE_FRAMES = 1024;
/** Rounds of forwarding and delivering in one pump: replies of the services to replies... bounded. */
const PUMP_ROUNDS = 8;

/** Host wall-clock time in microseconds: a realtime switch's clock (the page's and the CLI's). */
export function hostClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export interface EthernetSwitchOptions {
  delivery: SwitchDelivery;
  /** Microseconds since the epoch for taps: host time in realtime, guest time in lockstep. */
  clockUs: () => number;
  /** Frames per port queue (default PORT_QUEUE_FRAMES). */
  queueFrames?: number;
}

export interface SwitchStats {
  forwarded: number;
  flooded: number;
  /** Frames whose destination sits behind the port they came from: not sent back. */
  filtered: number;
}

/** Receives every frame entering the switch, with the time the switch moved it. */
export type SwitchTap = (frame: Uint8Array, timeUs: number) => void;

class Port implements SwitchPort {
  readonly stats: PortStats = { sentFrames: 0, sentBytes: 0, receivedFrames: 0, receivedBytes: 0, dropped: 0 };
  readonly inbound: Uint8Array[] = [];
  readonly outbound: { frame: Uint8Array; from: Port }[] = [];
  attached = true;

  constructor(
    private readonly sw: EthernetSwitch,
    readonly id: number,
    readonly kind: PortKind,
    readonly name: string,
    readonly address: number | undefined,
    readonly sink: PortSink,
  ) {}

  send(frame: Uint8Array): void {
    if (!this.attached) return;
    this.sw.enqueue(this, frame);
  }

  detach(): void {
    this.sw.detach(this);
  }
}

export class EthernetSwitch {
  readonly book = new AddressBook();
  readonly services: NetServices;
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, filtered: 0 };
  private readonly ports: Port[] = [];
  /** MAC (as a 48-bit number) to the port it was last seen on. */
  private readonly learnt = new Map<number, Port>();
  private readonly taps = new Set<SwitchTap>();
  private readonly queueFrames: number;
  private nextId = 0;
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;

  constructor(private readonly opts: EthernetSwitchOptions) {
    this.queueFrames = opts.queueFrames ?? PORT_QUEUE_FRAMES;
    this.services = new NetServices(this.book, opts.clockUs, (at) => this.armTimer(at));
    this.services.port = this.attach('services', 'services', (frame, from) => this.services.handle(frame, from));
  }

  get delivery(): SwitchDelivery {
    return this.opts.delivery;
  }

  /**
   * Attaches a port. A VM port's name must follow the VM name rule (vmNameProblem), not already on
   * the switch; it gets its address now, so DNS answers for it before it asks DHCP.
   */
  attach(kind: PortKind, name: string, sink: PortSink): SwitchPort {
    let address: number | undefined;
    if (kind === 'vm') {
      const problem = vmNameProblem(name);
      if (problem) throw new NetError('bad-port', problem);
      if (this.ports.some((p) => p.kind === 'vm' && p.name.toLowerCase() === name.toLowerCase())) {
        throw new NetError('bad-port', `a VM named "${name}" is already on this switch`);
      }
      address = this.book.assign(name);
    }
    const port = new Port(this, this.nextId++, kind, name, address, sink);
    this.ports.push(port);
    return port;
  }

  /** The ports attached now, in the order they were attached (the services first). */
  get portList(): readonly SwitchPort[] {
    return this.ports;
  }

  /** Adds a tap that sees every frame entering the switch; returns its removal. */
  tap(t: SwitchTap): () => void {
    this.taps.add(t);
    return () => this.taps.delete(t);
  }

  /** @internal A port's `send`. */
  enqueue(port: Port, frame: Uint8Array): void {
    port.stats.sentFrames++;
    port.stats.sentBytes += frame.length;
    if (port.inbound.length >= this.queueFrames) {
      port.stats.dropped++;
      return;
    }
    port.inbound.push(frame);
    if (this.opts.delivery === 'immediate' && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** @internal A port's `detach`. */
  detach(port: Port): void {
    const i = this.ports.indexOf(port);
    if (i < 0) return;
    this.ports.splice(i, 1);
    port.attached = false;
    for (const [mac, p] of this.learnt) if (p === port) this.learnt.delete(mac);
    if (port.kind === 'vm') this.book.release(port.name);
  }

  /** Whether frames wait in some port's inbound queue. */
  get busy(): boolean {
    return this.ports.some((p) => p.inbound.length > 0);
  }

  /**
   * Forwards every queued frame, one per port in turn, then hands each port what it was
   * sent; replies sent while delivering (the services') move in the same call. Returns how
   * many frames entered the switch.
   */
  pump(): number {
    let moved = 0;
    const timeUs = this.opts.clockUs();
    // The gateway's TCP timers (retransmissions, TIME_WAIT) run at the switch's time.
    this.services.gateway.tick();
    for (let round = 0; round < PUMP_ROUNDS && this.busy; round++) {
      for (let any = true; any; ) {
        any = false;
        for (const p of [...this.ports]) {
          const frame = p.inbound.shift();
          if (!frame) continue;
          any = true;
          moved++;
          for (const t of this.taps) t(frame, timeUs);
          this.forward(p, frame);
        }
      }
      for (const p of [...this.ports]) {
        while (p.outbound.length > 0 && p.attached) {
          const { frame, from } = p.outbound.shift()!;
          p.stats.receivedFrames++;
          p.stats.receivedBytes += frame.length;
          p.sink(frame, from);
        }
      }
      // What the gateway's connections gathered while frames were delivered (ACKs, data)
      // leaves now, in this pump's next round, not at a microtask after it: in lockstep that
      // would be the next quantum, a TCP reply crossing one quantum late.
      this.services.gateway.flush();
    }
    return moved;
  }

  /**
   * Realtime: a host timer pumps the switch when the gateway's next TCP timer is due. In
   * lockstep the host pumps at every quantum, so guest time alone decides.
   */
  private armTimer(atUs: number): void {
    if (this.opts.delivery !== 'immediate' || (this.timer !== undefined && this.timerAt <= atUs)) return;
    clearTimeout(this.timer);
    this.timerAt = atUs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, (atUs - this.opts.clockUs()) / 1000));
    // A pending retransmission must not keep a finished CLI run alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private forward(from: Port, frame: Uint8Array): void {
    if (frame.length < 14) {
      from.stats.dropped++;
      return;
    }
    const src = macKey(frame, 6);
    if (!(frame[6]! & 1)) this.learnt.set(src, from);
    const multicast = (frame[0]! & 1) !== 0;
    const to = multicast ? undefined : this.learnt.get(macKey(frame, 0));
    if (to === from) {
      this.stats.filtered++;
      return;
    }
    if (to) {
      this.stats.forwarded++;
      this.push(to, frame, from);
      return;
    }
    this.stats.flooded++;
    for (const p of this.ports) if (p !== from) this.push(p, frame, from);
  }

  private push(to: Port, frame: Uint8Array, from: Port): void {
    if (to.outbound.length >= this.queueFrames) {
      to.stats.dropped++;
      return;
    }
    to.outbound.push({ frame, from });
  }
}

/** Six bytes at `at` as one number (exact: 48 bits fit a double). */
function macKey(frame: Uint8Array, at: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + frame[at + i]!;
  return k;
}

