/**
 * One TCP connection of the host endpoint (RFC 9293's state machine), from either side:
 * `connect` (a --hostfwd connection to a guest's server) or a SYN to a listening port.
 *
 * Sending: bytes written go into a bounded ring (SEND_BUFFER); what the peer's window
 * allows goes out in segments of the peer's MSS. Retransmission (RFC 6298): one
 * retransmission timer, RTO from smoothed RTT samples (Karn: none from retransmitted
 * data), doubled on each expiry; on expiry everything unacknowledged is sent again
 * (go-back-N); three duplicate ACKs retransmit the first unacknowledged segment at once,
 * and ACKs that advance but stop short of what was outstanding then (NewReno's partial
 * ACKs) retransmit the next hole. A zero window is probed with one byte on the same timer.
 * There is no congestion window: the only bottleneck between the endpoint and a guest is
 * the switch, whose queues hold far more than the 64 KiB window.
 *
 * Receiving: in-order bytes go to `onData` unless the reader paused; then they are held,
 * and the window advertised shrinks by what is held (RECV_WINDOW at most, no window
 * scaling), so a slow reader slows the guest instead of growing memory. Segments past a
 * hole are kept (bounded by the window) and delivered once the hole fills. ACKs are sent
 * once per flush (the endpoint flushes after each batch of frames), not per segment.
 *
 * Close: end() sends FIN after the buffered bytes; TIME_WAIT lasts TIME_WAIT_US (the
 * switch delivers within milliseconds: no old duplicate lives longer), FIN_WAIT_2 at most
 * FIN_WAIT_2_US. RST ends a connection at once (accepted only at the exact next sequence
 * number, otherwise answered with a challenge ACK, as RFC 5961 says).
 *
 * Time is the endpoint's clock (guest time in lockstep), never the host's.
 */
import {
  TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, seqAdd, seqDiff, seqLe, seqLt, type TcpSegment,
} from './tcpSegment.ts';
import { TcpError } from './TcpError.ts';

/** The MSS the endpoint announces: a full Ethernet frame's IPv4 payload less both headers. */
export const OUR_MSS = 1460;
/** The MSS assumed when the peer's SYN names none (RFC 9293). */
const DEFAULT_MSS = 536;
/** The receive window: the largest without window scaling. */
export const RECV_WINDOW = 65535;
/** Bytes written and not yet acknowledged that a connection holds. */
export const SEND_BUFFER = 256 * 1024;
/** Segments past a hole a connection keeps (their bytes are bounded by the window too). */
const MAX_OUT_OF_ORDER = 64;
export const RTO_INITIAL_US = 1_000_000;
export const RTO_MIN_US = 200_000;
const RTO_MAX_US = 60_000_000;
/** Expiries of the retransmission timer in a row before the connection is given up. */
const MAX_RETRIES = 12;
const SYN_RETRIES = 5;
export const TIME_WAIT_US = 2_000_000;
const FIN_WAIT_2_US = 60_000_000;

export type TcpState =
  | 'syn-sent'
  | 'syn-received'
  | 'established'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'close-wait'
  | 'closing'
  | 'last-ack'
  | 'time-wait'
  | 'closed';

/** States in which the endpoint may still send new data (the peer's side may be closed). */
const SENDING: ReadonlySet<TcpState> = new Set(['established', 'close-wait', 'fin-wait-1', 'closing', 'last-ack']);
/** States in which data from the peer is still taken. */
const RECEIVING: ReadonlySet<TcpState> = new Set(['established', 'fin-wait-1', 'fin-wait-2']);

/** What a connection needs from the endpoint that holds it. */
export interface TcpHost {
  nowUs(): number;
  /** Sends a segment of this connection (wrapped in IPv4 and Ethernet by the endpoint). */
  transmit(conn: TcpConnection, seg: TcpSegment): void;
  /** Asks for `output()` at the endpoint's next flush. */
  schedule(conn: TcpConnection): void;
  /** The connection reached CLOSED: take it out of the table. */
  closed(conn: TcpConnection): void;
  /** A passive connection's handshake completed. */
  accepted(conn: TcpConnection): void;
  /** Counted per endpoint. */
  countRetransmit(): void;
}

/** A fixed-capacity byte queue: the send buffer, from the first unacknowledged byte on. */
class ByteRing {
  private readonly buf: Uint8Array;
  private head = 0;
  length = 0;
  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  push(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.capacity - this.length);
    const at = (this.head + this.length) % this.capacity;
    const first = Math.min(n, this.capacity - at);
    this.buf.set(bytes.subarray(0, first), at);
    if (n > first) this.buf.set(bytes.subarray(first, n), 0);
    this.length += n;
    return n;
  }
  /** A copy of `n` bytes from `offset` past the head. */
  peek(offset: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const at = (this.head + offset) % this.capacity;
    const first = Math.min(n, this.capacity - at);
    out.set(this.buf.subarray(at, at + first));
    if (n > first) out.set(this.buf.subarray(0, n - first), first);
    return out;
  }
  drop(n: number): void {
    this.head = (this.head + n) % this.capacity;
    this.length -= n;
  }
}

interface HeldSegment {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

export interface TcpAddress {
  ip: number;
  port: number;
}

export class TcpConnection {
  state: TcpState;
  /** The handshake completed (for a connect()). */
  onConnect?: () => void;
  /** In-order bytes from the peer (a view the callee may keep: it is never reused). */
  onData?: (bytes: Uint8Array) => void;
  /** The peer sent FIN: no more data will come (after every onData). */
  onEnd?: () => void;
  /** The connection is gone: orderly (no error) or not (reset, timeout, refused). */
  onClose?: (error?: TcpError) => void;
  /** Room in the send buffer again after a write() took less than it was given. */
  onDrain?: () => void;
  /** Segments this connection sent again. */
  retransmits = 0;

  // Send side (RFC names): first unacknowledged, next to send, highest sent, peer's window.
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndMss = DEFAULT_MSS;
  /** Sequence number of the ring's first byte. */
  private bufSeq: number;
  private ring: ByteRing | undefined;
  private finQueued = false;
  private finSent = false;
  private finSeq: number | undefined;
  private wantDrain = false;
  // Receive side.
  private rcvNxt = 0;
  private readonly held: Uint8Array[] = [];
  private heldBytes = 0;
  private paused = false;
  private peerEnded = false;
  private endDelivered = false;
  private readonly ooo: HeldSegment[] = [];
  private oooBytes = 0;
  private ackPending = false;
  /** The window the last segment advertised (for deciding when an update is worth sending). */
  private advertised = RECV_WINDOW;
  // Timers (endpoint clock, microseconds).
  private rto = RTO_INITIAL_US;
  private srtt: number | undefined;
  private rttvar = 0;
  private rtoAt: number | undefined;
  private retries = 0;
  private timing: { seq: number; at: number } | undefined;
  private dupAcks = 0;
  private recover: number | undefined;
  private deadline: number | undefined;
  private force = false;

  private constructor(
    private readonly host: TcpHost,
    readonly local: TcpAddress,
    readonly remote: TcpAddress,
    iss: number,
    state: TcpState,
  ) {
    this.iss = iss;
    this.sndUna = this.sndNxt = this.sndMax = iss;
    this.bufSeq = seqAdd(iss, 1);
    this.state = state;
  }

  /** An active open: sends the SYN. */
  static connect(host: TcpHost, local: TcpAddress, remote: TcpAddress, iss: number): TcpConnection {
    const c = new TcpConnection(host, local, remote, iss, 'syn-sent');
    c.sendSyn();
    return c;
  }

  /** A passive open from the peer's SYN: answers SYN-ACK. */
  static accept(host: TcpHost, local: TcpAddress, remote: TcpAddress, iss: number, syn: TcpSegment): TcpConnection {
    const c = new TcpConnection(host, local, remote, iss, 'syn-received');
    c.rcvNxt = seqAdd(syn.seq, 1);
    c.sndMss = Math.min(syn.mss ?? DEFAULT_MSS, OUR_MSS);
    c.sndWnd = syn.window;
    c.sndWl1 = syn.seq;
    c.sendSyn();
    return c;
  }

  /** Bytes written and not yet acknowledged by the peer. */
  get bufferedBytes(): number {
    return this.ring?.length ?? 0;
  }

  /** Bytes held for a paused reader. */
  get heldForReader(): number {
    return this.heldBytes;
  }

  /**
   * Queues bytes to send; returns how many the send buffer took (all, unless it is full:
   * then onDrain says when to write the rest). Refused after end() or once closed.
   */
  write(bytes: Uint8Array): number {
    if (this.finQueued || this.state === 'closed' || this.state === 'time-wait' || this.state === 'fin-wait-2') {
      throw new TcpError('closed', `write to a TCP connection to port ${this.remote.port} that is ${this.finQueued ? 'ending' : this.state}`);
    }
    this.ring ??= new ByteRing(SEND_BUFFER);
    const n = this.ring.push(bytes);
    if (n < bytes.length) this.wantDrain = true;
    if (n > 0) this.host.schedule(this);
    return n;
  }

  /** Sends FIN once every byte written has gone out. */
  end(): void {
    if (this.finQueued || this.state === 'closed') return;
    this.finQueued = true;
    this.host.schedule(this);
  }

  /** Resets the connection (RST) and closes it at once. */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'syn-sent' && this.state !== 'time-wait') this.emit(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0));
    this.close();
  }

  /** Stops delivering data: it is held, and the window closes as it fills. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers what was held and reopens the window. */
  resume(): void {
    this.paused = false;
    while (this.held.length > 0 && !this.paused) {
      const b = this.held.shift()!;
      this.heldBytes -= b.length;
      this.onData?.(b);
    }
    this.deliverEnd();
    // Tell the peer about the reopened window once it is worth a segment (or half the buffer).
    const wnd = this.window();
    if (RECEIVING.has(this.state) && wnd - this.advertised >= Math.min(this.sndMss, RECV_WINDOW / 2)) {
      this.ackPending = true;
      this.host.schedule(this);
    }
  }

  /** When the connection next needs `tick()`: its retransmission or close timer. */
  get nextTimerUs(): number | undefined {
    if (this.rtoAt === undefined) return this.deadline;
    if (this.deadline === undefined) return this.rtoAt;
    return Math.min(this.rtoAt, this.deadline);
  }

  private window(): number {
    return Math.max(0, RECV_WINDOW - this.heldBytes);
  }

  private emit(flags: number, seq: number, payload: Uint8Array, mss?: number): void {
    const window = this.window();
    if (flags & TCP_ACK) {
      this.ackPending = false;
      this.advertised = window;
    }
    this.host.transmit(this, { srcPort: this.local.port, dstPort: this.remote.port, seq, ack: flags & TCP_ACK ? this.rcvNxt : 0, flags, window, mss, payload });
  }

  private sendSyn(): void {
    const flags = this.state === 'syn-sent' ? TCP_SYN : TCP_SYN | TCP_ACK;
    this.emit(flags, this.iss, new Uint8Array(0), OUR_MSS);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.rtoAt ??= this.host.nowUs() + this.rto;
    if (this.retries === 0) this.timing = { seq: this.sndNxt, at: this.host.nowUs() };
  }

  private close(error?: TcpError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.rtoAt = this.deadline = undefined;
    this.host.closed(this);
    this.onClose?.(error);
  }

  private fail(error: TcpError): void {
    this.close(error);
  }

  /** A segment for this connection (its 4-tuple matched). */
  segmentArrives(seg: TcpSegment): void {
    if (this.state === 'closed') return;
    if (this.state === 'syn-sent') return this.synSentArrives(seg);
    const len = seg.payload.length;
    // The peer lost our SYN-ACK and sent its SYN again: answer it again.
    if (this.state === 'syn-received' && seg.flags & TCP_SYN && !(seg.flags & TCP_ACK) && seqAdd(seg.seq, 1) === this.rcvNxt) {
      this.emit(TCP_SYN | TCP_ACK, this.iss, new Uint8Array(0), OUR_MSS);
      return;
    }
    if (!this.acceptable(seg.seq, len)) {
      // Old or out-of-window (a retransmitted FIN in TIME_WAIT among them): re-acknowledge.
      if (!(seg.flags & TCP_RST)) {
        if (this.state === 'time-wait' && seg.flags & TCP_FIN) this.deadline = this.host.nowUs() + TIME_WAIT_US;
        this.ackNow();
      }
      return;
    }
    if (seg.flags & TCP_RST) {
      // RFC 1337: a reset in TIME_WAIT (the peer answering a late duplicate after it
      // closed) must not cut the wait short; the connection already ended in order.
      if (this.state === 'time-wait') return;
      if (seg.seq === this.rcvNxt) this.fail(new TcpError('reset', `the guest reset the TCP connection to port ${this.remote.port}`));
      else this.ackNow();
      return;
    }
    if (seg.flags & TCP_SYN) {
      this.ackNow();
      return;
    }
    if (!(seg.flags & TCP_ACK)) return;
    if (this.state === 'syn-received') {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
        this.emit(TCP_RST, seg.ack, new Uint8Array(0));
        return;
      }
      this.state = 'established';
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.ackArrives(seg);
      this.host.accepted(this);
    } else if (!this.ackArrives(seg)) return;
    if ((this.state as TcpState) === 'closed') return; // ackArrives may have closed it (LAST_ACK)
    if (RECEIVING.has(this.state) && (len > 0 || seg.flags & TCP_FIN)) this.dataArrives(seg.seq, seg.payload, (seg.flags & TCP_FIN) !== 0);
    this.host.schedule(this);
  }

  private synSentArrives(seg: TcpSegment): void {
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    if (hasAck && (seqLe(seg.ack, this.iss) || seqLt(this.sndMax, seg.ack))) {
      if (!(seg.flags & TCP_RST)) this.host.transmit(this, { srcPort: this.local.port, dstPort: this.remote.port, seq: seg.ack, ack: 0, flags: TCP_RST, window: 0, payload: new Uint8Array(0) });
      return;
    }
    if (seg.flags & TCP_RST) {
      if (hasAck) this.fail(new TcpError('refused', `the guest refused a TCP connection to port ${this.remote.port} (nothing listens there)`));
      return;
    }
    if (!(seg.flags & TCP_SYN) || !hasAck) return; // a simultaneous open is not supported
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndMss = Math.min(seg.mss ?? DEFAULT_MSS, OUR_MSS);
    this.sndUna = seg.ack;
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.state = 'established';
    this.ackTimed(seg.ack);
    this.rtoAt = undefined;
    this.retries = 0;
    this.ackPending = true;
    this.host.schedule(this);
    this.onConnect?.();
  }

  /** RFC 9293's acceptability test of a segment's sequence range against the receive window. */
  private acceptable(seq: number, len: number): boolean {
    const wnd = this.window();
    const inWindow = (s: number) => seqLe(this.rcvNxt, s) && seqLt(s, seqAdd(this.rcvNxt, wnd));
    if (len === 0) return wnd === 0 ? seq === this.rcvNxt : inWindow(seq);
    return wnd > 0 && (inWindow(seq) || inWindow(seqAdd(seq, len - 1)));
  }

  private ackNow(): void {
    this.ackPending = true;
    this.host.schedule(this);
  }

  /** Takes an RTT sample when the timed sequence number is acknowledged. */
  private ackTimed(ack: number): void {
    if (!this.timing || seqLt(ack, this.timing.seq)) return;
    const r = Math.max(0, this.host.nowUs() - this.timing.at);
    this.timing = undefined;
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX_US, Math.max(RTO_MIN_US, Math.round(this.srtt + Math.max(1000, 4 * this.rttvar))));
  }

  /** The ACK field of a segment; false when the segment is to be dropped. */
  private ackArrives(seg: TcpSegment): boolean {
    const ack = seg.ack;
    if (seqLt(this.sndMax, ack)) {
      this.ackNow(); // acknowledges what was never sent
      return false;
    }
    const now = this.host.nowUs();
    if (seqLt(this.sndUna, ack)) {
      const drop = Math.min(Math.max(0, seqDiff(ack, this.bufSeq)), this.ring?.length ?? 0);
      if (drop > 0) {
        this.ring!.drop(drop);
        this.bufSeq = seqAdd(this.bufSeq, drop);
      }
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack; // the peer had what we sent before going back
      this.retries = 0;
      this.dupAcks = 0;
      this.ackTimed(ack);
      if (this.recover !== undefined) {
        if (seqLt(ack, this.recover)) this.retransmitFirst(); // a partial ACK: the next hole
        else this.recover = undefined;
      }
      this.rtoAt = this.sndUna === this.sndMax ? undefined : now + this.rto;
      if (this.wantDrain && drop > 0) {
        this.wantDrain = false;
        this.onDrain?.();
      }
    } else if (ack === this.sndUna && seg.payload.length === 0 && !(seg.flags & TCP_FIN) && seg.window === this.sndWnd && this.sndUna !== this.sndMax) {
      if (++this.dupAcks === 3 && this.recover === undefined) {
        this.recover = this.sndMax;
        this.retransmitFirst();
      }
    }
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
    }
    const finAcked = this.finSeq !== undefined && seqLt(this.finSeq, ack);
    if (finAcked) {
      if (this.state === 'fin-wait-1') {
        this.state = 'fin-wait-2';
        this.deadline = now + FIN_WAIT_2_US;
      } else if (this.state === 'closing') {
        this.enterTimeWait();
      } else if (this.state === 'last-ack') {
        this.close();
        return false;
      }
    }
    return true;
  }

  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.rtoAt = undefined;
    this.deadline = this.host.nowUs() + TIME_WAIT_US;
  }

  private dataArrives(seq: number, data: Uint8Array, fin: boolean): void {
    const cut = seqDiff(this.rcvNxt, seq);
    if (cut > 0) {
      if (cut > data.length) fin = false; // the FIN too was had before
      data = data.subarray(Math.min(cut, data.length));
      seq = this.rcvNxt;
    }
    const room = seqDiff(seqAdd(this.rcvNxt, this.window()), seq);
    if (data.length > room) {
      data = data.subarray(0, Math.max(0, room));
      fin = false;
    }
    if (seq !== this.rcvNxt) {
      // Past a hole: keep it (bounded) and say at once what is missing (a duplicate ACK).
      if (this.ooo.length < MAX_OUT_OF_ORDER && this.oooBytes + data.length <= RECV_WINDOW && (data.length > 0 || fin)) {
        const copy = { seq, data: data.slice(), fin };
        let i = this.ooo.length;
        while (i > 0 && seqLt(seq, this.ooo[i - 1]!.seq)) i--;
        this.ooo.splice(i, 0, copy);
        this.oooBytes += data.length;
      }
      this.ackNow();
      return;
    }
    this.take(data, fin);
    // The hole filled: what was kept past it follows.
    while (this.ooo.length > 0 && seqLe(this.ooo[0]!.seq, this.rcvNxt) && !this.peerEnded) {
      const h = this.ooo.shift()!;
      this.oooBytes -= h.data.length;
      const skip = seqDiff(this.rcvNxt, h.seq);
      if (skip > h.data.length) continue;
      this.take(h.data.subarray(skip), h.fin);
    }
    if (this.peerEnded) {
      this.ooo.length = 0;
      this.oooBytes = 0;
    }
    this.ackPending = true;
  }

  /** In-order bytes (and maybe the FIN after them) at rcvNxt. */
  private take(data: Uint8Array, fin: boolean): void {
    if (data.length > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
      if (this.paused || this.held.length > 0) {
        this.held.push(data.slice());
        this.heldBytes += data.length;
      } else {
        this.onData?.(data);
      }
    }
    if (!fin || this.peerEnded) return;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.peerEnded = true;
    this.ackPending = true;
    if (this.state === 'established') this.state = 'close-wait';
    else if (this.state === 'fin-wait-1') {
      if (this.finSeq !== undefined && seqLt(this.finSeq, this.sndUna)) this.enterTimeWait();
      else this.state = 'closing';
    } else if (this.state === 'fin-wait-2') this.enterTimeWait();
    this.deliverEnd();
  }

  private deliverEnd(): void {
    if (this.peerEnded && !this.endDelivered && this.held.length === 0) {
      this.endDelivered = true;
      this.onEnd?.();
    }
  }

  /** Sends what the window allows, the FIN when its turn comes, and a pending ACK. */
  output(): void {
    if (this.state === 'closed') return;
    if (SENDING.has(this.state)) {
      const ring = this.ring;
      const now = this.host.nowUs();
      for (;;) {
        const sentData = seqDiff(this.sndNxt, this.bufSeq);
        const unsent = (ring?.length ?? 0) - Math.max(0, sentData);
        const inFlight = seqDiff(this.sndNxt, this.sndUna);
        // A zero window is probed with one byte when the timer says so (`force`).
        const usable = Math.max(this.sndWnd - inFlight, this.force ? 1 : 0);
        if (unsent > 0 && usable > 0) {
          const n = Math.min(unsent, usable, this.sndMss);
          const seq = this.sndNxt;
          this.emit(TCP_ACK | (n === unsent ? TCP_PSH : 0), seq, ring!.peek(Math.max(0, sentData), n));
          this.advanceNxt(seqAdd(seq, n), now);
          this.force = false;
          continue;
        }
        if (this.finQueued && !this.finSent && unsent <= 0) {
          this.finSeq = this.sndNxt;
          this.finSent = true;
          this.emit(TCP_FIN | TCP_ACK, this.sndNxt, new Uint8Array(0));
          this.advanceNxt(seqAdd(this.sndNxt, 1), now);
          if (this.state === 'established') this.state = 'fin-wait-1';
          else if (this.state === 'close-wait') this.state = 'last-ack';
          continue;
        }
        if (unsent > 0 && this.sndWnd === 0 && this.rtoAt === undefined) this.rtoAt = now + this.rto; // persist
        break;
      }
    }
    if (this.ackPending && this.state !== 'syn-sent' && this.state !== 'syn-received') this.emit(TCP_ACK, this.sndNxt, new Uint8Array(0));
  }

  private advanceNxt(next: number, now: number): void {
    if (this.timing === undefined && seqLe(this.sndMax, this.sndNxt) && this.retries === 0) this.timing = { seq: next, at: now };
    this.sndNxt = next;
    if (seqLt(this.sndMax, next)) this.sndMax = next;
    this.rtoAt ??= now + this.rto;
  }

  /** Sends again the first unacknowledged segment (fast retransmit, partial ACKs). */
  private retransmitFirst(): void {
    const ring = this.ring;
    const offset = Math.max(0, seqDiff(this.sndUna, this.bufSeq));
    const n = Math.min(this.sndMss, Math.max(0, (ring?.length ?? 0) - offset), Math.max(0, seqDiff(this.sndMax, this.sndUna)));
    const fin = this.finSent && this.finSeq !== undefined && seqAdd(this.sndUna, n) === this.finSeq;
    if (n === 0 && !fin) return;
    this.emit(TCP_ACK | (fin ? TCP_FIN : 0), this.sndUna, n > 0 ? ring!.peek(offset, n) : new Uint8Array(0));
    this.timing = undefined;
    this.retransmits++;
    this.host.countRetransmit();
  }

  /** Timers due at the endpoint's clock `now`. */
  tick(now: number): void {
    if (this.deadline !== undefined && now >= this.deadline) {
      this.close();
      return;
    }
    if (this.rtoAt === undefined || now < this.rtoAt) return;
    const handshake = this.state === 'syn-sent' || this.state === 'syn-received';
    if (this.retries >= (handshake ? SYN_RETRIES : MAX_RETRIES)) {
      if (!handshake) this.emit(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0));
      this.fail(new TcpError('timeout', `the TCP connection to port ${this.remote.port} timed out after ${this.retries} retransmissions`));
      return;
    }
    this.retries++;
    this.rto = Math.min(RTO_MAX_US, this.rto * 2);
    this.timing = undefined;
    this.recover = undefined;
    this.dupAcks = 0;
    this.rtoAt = now + this.rto;
    this.retransmits++;
    this.host.countRetransmit();
    if (handshake) {
      this.sendSyn();
      return;
    }
    // Go back: everything unacknowledged goes out again (a zero window gets one byte).
    this.sndNxt = this.sndUna;
    if (this.finSent && this.finSeq !== undefined && seqLe(this.sndUna, this.finSeq)) this.finSent = false;
    if (this.sndWnd === 0) this.force = true;
    this.output();
  }
}
