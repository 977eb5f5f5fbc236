/**
 * TCP segments as the host endpoint reads and writes them (RFC 9293), and sequence-number
 * arithmetic modulo 2^32.
 *
 *   TCP  sport u16 dport u16 seq u32 ack u32 offset u4|rsvd u4 flags u8 window u16 csum u16 urg u16 options
 *
 * The reader checks every length and the checksum over the IPv4 pseudo-header before it
 * trusts a byte (NetError naming the offset); of the options it keeps only the MSS, and
 * skips the rest by their lengths. The writer fills in the checksum; the only option it
 * sends is the MSS, on SYNs.
 */
import { internetChecksum, IPPROTO_TCP, pseudoHeaderSum } from '../ipv4Frames.ts';
import { NetError } from '../NetError.ts';

export { IPPROTO_TCP };
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
const TCP_HEADER = 20;
const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option, when the segment carried one (SYNs). */
  mss?: number;
  payload: Uint8Array;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);


/** A TCP segment from an IPv4 payload sent from `src` to `dst`. */
export function readTcp(p: Uint8Array, src: number, dst: number): TcpSegment {
  if (p.length < TCP_HEADER) throw new NetError('truncated', `TCP segment: ${p.length} bytes, its header needs ${TCP_HEADER}`, p.length);
  const v = view(p);
  const offset = (p[12]! >> 4) * 4;
  if (offset < TCP_HEADER || offset > p.length) throw new NetError('bad-field', `TCP segment: data offset ${offset} at offset 12 does not fit its ${p.length} bytes`, 12);
  if (internetChecksum(p, pseudoHeaderSum(src, dst, IPPROTO_TCP, p.length)) !== 0) throw new NetError('bad-field', 'TCP segment: checksum does not add up', 16);
  let mss: number | undefined;
  for (let i = TCP_HEADER; i < offset; ) {
    const kind = p[i]!;
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    const len = i + 1 < offset ? p[i + 1]! : 0;
    if (len < 2 || i + len > offset) throw new NetError('bad-field', `TCP segment: option ${kind} at offset ${i} has length ${len}`, i + 1);
    if (kind === OPT_MSS) {
      if (len !== 4) throw new NetError('bad-field', `TCP segment: MSS option at offset ${i} has length ${len}, not 4`, i + 1);
      mss = v.getUint16(i + 2);
    }
    i += len;
  }
  return {
    srcPort: v.getUint16(0),
    dstPort: v.getUint16(2),
    seq: v.getUint32(4),
    ack: v.getUint32(8),
    flags: p[13]!,
    window: v.getUint16(14),
    mss,
    payload: p.subarray(offset),
  };
}

/** A TCP segment from `src` to `dst` (IPv4 addresses, for the checksum), as an IPv4 payload. */
export function tcpSegment(src: number, dst: number, s: TcpSegment): Uint8Array {
  const options = s.mss !== undefined ? 4 : 0;
  const p = new Uint8Array(TCP_HEADER + options + s.payload.length);
  const v = view(p);
  v.setUint16(0, s.srcPort);
  v.setUint16(2, s.dstPort);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  p[12] = ((TCP_HEADER + options) / 4) << 4;
  p[13] = s.flags;
  v.setUint16(14, s.window);
  if (s.mss !== undefined) {
    p[20] = OPT_MSS;
    p[21] = 4;
    v.setUint16(22, s.mss);
  }
  p.set(s.payload, TCP_HEADER + options);
  v.setUint16(16, internetChecksum(p, pseudoHeaderSum(src, dst, IPPROTO_TCP, p.length)));
  return p;
}

/** Sequence numbers compare modulo 2^32: a is before b when b - a, as a signed 32-bit number, is positive. */
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
/** b - a for sequence numbers, as a signed 32-bit distance. */
export const seqDiff = (b: number, a: number): number => (b - a) | 0;

/** `SYN|ACK` and the like, for messages and the packet view. */
export function tcpFlagNames(flags: number): string {
  const names: string[] = [];
  if (flags & TCP_SYN) names.push('SYN');
  if (flags & TCP_FIN) names.push('FIN');
  if (flags & TCP_RST) names.push('RST');
  if (flags & TCP_PSH) names.push('PSH');
  if (flags & TCP_ACK) names.push('ACK');
  return names.join('|') || 'none';
}
