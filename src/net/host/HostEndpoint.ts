/**
 * The host's own address on a switch: a small TCP/IP stack at the gateway address
 * 10.0.2.2 (the one DHCP hands out as the router). It answers ARP and ping for its
 * address, resolves guests' MACs by ARP (learning from what they send it as well), and
 * carries TCP both ways: `connect()` opens a connection to a guest's server (what
 * --hostfwd and the page's "Open port" use), `listen()` takes connections from guests.
 *
 * Frames come in through `receive()` (the switch's services port hands it what is for
 * 10.0.2.2) and go out through `send`. Output is gathered: what connections want to send
 * (data, ACKs) goes out at one flush per batch of input, so a burst of segments from a
 * guest gets one ACK. Timers run on `clockUs` (guest time in lockstep, so sequence
 * numbers and retransmissions replay exactly) when `tick()` is called; `armTimer` is told
 * when the next one is due.
 *
 * Everything a guest can make it hold is bounded: MAX_CONNECTIONS connections (the
 * oldest TIME_WAIT makes room), each with its fixed buffers; ARP_CACHE entries; packets
 * waiting for an ARP answer. Malformed frames are counted and dropped (NetError).
 */
import { formatIpv4, nameHash, NET } from '../netContract.ts';
import { NetError } from '../NetError.ts';
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, arpPacket, ethernetFrame, ipv4Packet, readArp, readEthernet, readIpv4,
  icmpEchoReply, type ArpPacket,
} from '../ipv4Frames.ts';
import { IPPROTO_TCP, TCP_ACK, TCP_RST, TCP_SYN, TCP_FIN, readTcp, seqAdd, tcpSegment, type TcpSegment } from './tcpSegment.ts';
import { TcpConnection, type TcpAddress, type TcpHost } from './TcpConnection.ts';
import { TcpError } from './TcpError.ts';

/** Connections at once, TIME_WAIT ones included. */
export const MAX_CONNECTIONS = 256;
const ARP_CACHE = 256;
/** Addresses waiting for an ARP answer, and packets kept for each. */
const ARP_PENDING_ADDRESSES = 16;
const ARP_PENDING_PACKETS = 64;
const ARP_RETRY_US = 1_000_000;
const ARP_TRIES = 3;
/** Local ports of connect(): the IANA dynamic range. */
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;

export interface HostEndpointOptions {
  ip: number;
  mac: Uint8Array;
  /** Microseconds: guest time in lockstep, host time in realtime. */
  clockUs: () => number;
  /** Puts a frame on the wire (the switch port). */
  send: (frame: Uint8Array) => void;
  /** Told the clock time of the earliest timer whenever it may have moved (realtime drivers arm a host timer). */
  armTimer?: (atUs: number) => void;
}

export interface HostEndpointStats {
  arpReplies: number;
  arpRequests: number;
  pingReplies: number;
  /** Frames for the endpoint that were not well-formed. */
  malformed: number;
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  resetsSent: number;
  /** Packets dropped: no ARP answer, the pending queue full, or a destination outside the network. */
  undeliverable: number;
  connectionsRefused: number;
}

export type AcceptHandler = (conn: TcpConnection) => void;

interface PendingArp {
  packets: Uint8Array[];
  tries: number;
  sentAt: number;
}

export class HostEndpoint {
  readonly stats: HostEndpointStats = {
    arpReplies: 0, arpRequests: 0, pingReplies: 0, malformed: 0, segmentsIn: 0, segmentsOut: 0, retransmits: 0, resetsSent: 0, undeliverable: 0, connectionsRefused: 0,
  };
  private readonly conns = new Map<string, TcpConnection>();
  private readonly listeners = new Map<number, AcceptHandler>();
  private readonly arp = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, PendingArp>();
  private readonly dirty = new Set<TcpConnection>();
  private flushQueued = false;
  private nextPort = 0;
  private readonly host: TcpHost;

  constructor(private readonly opts: HostEndpointOptions) {
    this.host = {
      nowUs: () => this.opts.clockUs(),
      transmit: (conn, seg) => this.transmit(conn.local.ip, conn.remote.ip, seg),
      schedule: (conn) => this.schedule(conn),
      closed: (conn) => {
        this.conns.delete(key(conn.remote, conn.local.port));
        this.dirty.delete(conn);
      },
      accepted: (conn) => this.listeners.get(conn.local.port)?.(conn),
      countRetransmit: () => this.stats.retransmits++,
    };
  }

  get ip(): number {
    return this.opts.ip;
  }

  /** Connections in the table (every state but CLOSED). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** The connections, for views and tests. */
  get connections(): readonly TcpConnection[] {
    return [...this.conns.values()];
  }

  /** Opens a TCP connection from the endpoint to `ip:port` (a guest's server). */
  connect(ip: number, port: number): TcpConnection {
    if (!this.reachable(ip)) throw new TcpError('unreachable', `${formatIpv4(ip)} is not a guest address on ${formatIpv4(NET.network)}/${NET.prefixLength}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TcpError('unreachable', `TCP port ${port} is not 1-65535`);
    if (!this.makeRoom()) throw new TcpError('too-many', `the host endpoint has ${MAX_CONNECTIONS} connections open already`);
    const remote = { ip, port };
    let local: TcpAddress | undefined;
    for (let i = 0; i < EPHEMERAL_COUNT && !local; i++) {
      const p = EPHEMERAL_FIRST + ((this.nextPort++) % EPHEMERAL_COUNT);
      if (!this.conns.has(key(remote, p))) local = { ip: this.opts.ip, port: p };
    }
    if (!local) throw new TcpError('too-many', `no free local port for another connection to ${formatIpv4(ip)}:${port}`);
    const conn = TcpConnection.connect(this.host, local, remote, this.iss(local.port, remote));
    this.conns.set(key(remote, local.port), conn);
    this.timersMoved();
    return conn;
  }

  /** Takes connections from guests to `port` of the endpoint; returns the function that stops listening. */
  listen(port: number, onAccept: AcceptHandler): () => void {
    if (this.listeners.has(port)) throw new TcpError('too-many', `TCP port ${port} of ${formatIpv4(this.opts.ip)} is already listening`);
    this.listeners.set(port, onAccept);
    return () => this.listeners.delete(port);
  }

  /**
   * A frame from the switch. Returns whether it was the endpoint's (ARP for its address,
   * or IPv4 to it other than UDP, which the switch's DHCP server answers).
   */
  receive(frame: Uint8Array): boolean {
    // Until a frame shows it is for the endpoint, a malformed one is the services' to count.
    const eth = frame.length >= 14 ? readEthernet(frame) : undefined;
    if (eth?.type === ETHERTYPE_ARP) {
      const a = attempt(() => readArp(eth.payload));
      return a !== undefined && this.arpArrives(a);
    }
    if (eth?.type !== ETHERTYPE_IPV4) return false;
    const ip = attempt(() => readIpv4(eth.payload));
    if (!ip || ip.dst !== this.opts.ip || (ip.protocol !== IPPROTO_ICMP && ip.protocol !== IPPROTO_TCP)) return false;
    try {
      if (ip.protocol === IPPROTO_ICMP) {
        this.ping(ip.payload, ip.src, eth.src);
      } else {
        const seg = readTcp(ip.payload, ip.src, ip.dst);
        this.learn(ip.src, eth.src);
        this.segmentArrives(ip.src, seg);
      }
    } catch (e) {
      if (!(e instanceof NetError)) throw e;
      this.stats.malformed++;
    }
    return true;
  }

  /** Runs the timers due at the clock's time (retransmissions, TIME_WAIT, ARP retries). */
  tick(): void {
    const now = this.opts.clockUs();
    for (const conn of [...this.conns.values()]) {
      const at = conn.nextTimerUs;
      if (at !== undefined && now >= at) conn.tick(now);
    }
    for (const [ip, p] of [...this.pending]) {
      if (now - p.sentAt < ARP_RETRY_US) continue;
      if (p.tries >= ARP_TRIES) {
        this.stats.undeliverable += p.packets.length;
        this.pending.delete(ip);
        continue;
      }
      p.tries++;
      p.sentAt = now;
      this.arpRequest(ip);
    }
    if (this.dirty.size > 0) this.flush();
    else this.timersMoved();
  }

  /** The clock time of the earliest timer, if any. */
  nextTimerUs(): number | undefined {
    let at: number | undefined;
    for (const conn of this.conns.values()) {
      const t = conn.nextTimerUs;
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    for (const p of this.pending.values()) {
      const t = p.sentAt + ARP_RETRY_US;
      if (at === undefined || t < at) at = t;
    }
    return at;
  }

  /** Sends what every connection with something to send has gathered. */
  flush(): void {
    this.flushQueued = false;
    if (this.dirty.size === 0) return;
    while (this.dirty.size > 0) {
      const batch = [...this.dirty];
      this.dirty.clear();
      for (const conn of batch) conn.output();
    }
    this.timersMoved();
  }

  private timersMoved(): void {
    const at = this.nextTimerUs();
    if (at !== undefined) this.opts.armTimer?.(at);
  }

  private schedule(conn: TcpConnection): void {
    this.dirty.add(conn);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * RFC 6528's initial sequence number, with guest time for its clock: a 4 µs counter
   * plus a hash of the connection's addresses, so replays give the same numbers.
   */
  private iss(localPort: number, remote: TcpAddress): number {
    const h = nameHash(`${this.opts.ip}:${localPort}>${remote.ip}:${remote.port}`);
    return (Math.floor(this.opts.clockUs() / 4) + h) >>> 0;
  }

  /** A full table loses its oldest TIME_WAIT connection; with none, the caller is refused. */
  private makeRoom(): boolean {
    if (this.conns.size < MAX_CONNECTIONS) return true;
    for (const [k, c] of this.conns) {
      if (c.state === 'time-wait') {
        this.conns.delete(k);
        this.dirty.delete(c);
        c.state = 'closed';
        return true;
      }
    }
    return false;
  }

  private segmentArrives(src: number, seg: TcpSegment): void {
    this.stats.segmentsIn++;
    const remote = { ip: src, port: seg.srcPort };
    const conn = this.conns.get(key(remote, seg.dstPort));
    if (conn) {
      conn.segmentArrives(seg);
      return;
    }
    if (seg.flags & TCP_RST) return;
    const onAccept = this.listeners.get(seg.dstPort);
    if (onAccept && seg.flags & TCP_SYN && !(seg.flags & TCP_ACK) && this.reachable(src) && this.makeRoom()) {
      const local = { ip: this.opts.ip, port: seg.dstPort };
      const c = TcpConnection.accept(this.host, local, remote, this.iss(local.port, remote), seg);
      this.conns.set(key(remote, local.port), c);
      this.timersMoved();
      return;
    }
    // Nothing here: RFC 9293's reset for a closed port.
    if (onAccept && seg.flags & TCP_SYN) this.stats.connectionsRefused++;
    const len = seg.payload.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const rst: TcpSegment =
      seg.flags & TCP_ACK
        ? { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: TCP_RST, window: 0, payload: new Uint8Array(0) }
        : { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 0, ack: seqAdd(seg.seq, len), flags: TCP_RST | TCP_ACK, window: 0, payload: new Uint8Array(0) };
    this.transmit(this.opts.ip, src, rst);
  }

  private transmit(src: number, dst: number, seg: TcpSegment): void {
    if (seg.flags & TCP_RST) this.stats.resetsSent++;
    this.stats.segmentsOut++;
    this.sendIp(dst, ipv4Packet(src, dst, IPPROTO_TCP, tcpSegment(src, dst, seg)));
  }

  private ping(icmp: Uint8Array, src: number, srcMac: Uint8Array): void {
    const reply = icmpEchoReply(icmp);
    if (!reply) return;
    this.learn(src, srcMac);
    this.stats.pingReplies++;
    this.sendIp(src, ipv4Packet(this.opts.ip, src, IPPROTO_ICMP, reply));
  }

  private arpArrives(a: ArpPacket): boolean {
    const forMe = a.targetIp === this.opts.ip;
    // RFC 826: refresh a sender already known; add it when the packet is for us.
    if (forMe || this.arp.has(a.senderIp)) this.learn(a.senderIp, a.senderMac);
    if (!forMe) return false;
    if (a.op === ARP_REQUEST) {
      this.stats.arpReplies++;
      this.opts.send(ethernetFrame(a.senderMac, this.opts.mac, ETHERTYPE_ARP, arpPacket({ op: ARP_REPLY, senderMac: this.opts.mac, senderIp: this.opts.ip, targetMac: a.senderMac, targetIp: a.senderIp })));
    }
    return true;
  }

  /** Remembers `ip` behind `mac` (a guest's unicast address on the network), and sends what waited for it. */
  private learn(ip: number, mac: Uint8Array): void {
    if (!this.reachable(ip) || mac[0]! & 1 || mac.every((b) => b === 0)) return;
    if (!this.arp.has(ip) && this.arp.size >= ARP_CACHE) this.arp.delete(this.arp.keys().next().value!);
    this.arp.set(ip, mac.slice());
    const p = this.pending.get(ip);
    if (!p) return;
    this.pending.delete(ip);
    for (const packet of p.packets) this.opts.send(ethernetFrame(mac, this.opts.mac, ETHERTYPE_IPV4, packet));
  }

  private sendIp(dst: number, packet: Uint8Array): void {
    if (!this.reachable(dst)) {
      this.stats.undeliverable++;
      return;
    }
    const mac = this.arp.get(dst);
    if (mac) {
      this.opts.send(ethernetFrame(mac, this.opts.mac, ETHERTYPE_IPV4, packet));
      return;
    }
    let p = this.pending.get(dst);
    if (!p) {
      if (this.pending.size >= ARP_PENDING_ADDRESSES) {
        this.stats.undeliverable++;
        return;
      }
      p = { packets: [], tries: 1, sentAt: this.opts.clockUs() };
      this.pending.set(dst, p);
      this.arpRequest(dst);
      this.timersMoved();
    }
    if (p.packets.length >= ARP_PENDING_PACKETS) this.stats.undeliverable++;
    else p.packets.push(packet);
  }

  /** Another address on the network (never the endpoint's own). */
  private reachable(ip: number): boolean {
    return onNetwork(ip) && ip !== this.opts.ip;
  }

  private arpRequest(ip: number): void {
    this.stats.arpRequests++;
    const zero = new Uint8Array(6);
    this.opts.send(ethernetFrame(BROADCAST_MAC, this.opts.mac, ETHERTYPE_ARP, arpPacket({ op: ARP_REQUEST, senderMac: this.opts.mac, senderIp: this.opts.ip, targetMac: zero, targetIp: ip })));
  }
}

/** What `read` returns, or undefined when it finds the bytes malformed. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof NetError) return undefined;
    throw e;
  }
}

function key(remote: TcpAddress, localPort: number): string {
  return `${remote.ip}:${remote.port}:${localPort}`;
}

/** A unicast address on 10.0.2.0/24 (not the network or broadcast address). */
function onNetwork(ip: number): boolean {
  return (ip & NET.netmask) >>> 0 === NET.network && ip !== NET.network && ip !== NET.broadcast;
}
