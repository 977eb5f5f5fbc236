/**
 * Reading and writing the few frame types the switch's services speak: Ethernet II, ARP
 * for IPv4, IPv4 without options on send, UDP and ICMP echo. Readers take a guest's bytes
 * and check every length before they look (NetError 'truncated' or 'bad-field' naming the
 * offset); writers fill in lengths and checksums.
 *
 *   Ethernet  dst[6] src[6] type u16                        (big-endian, as on the wire)
 *   ARP       htype u16 ptype u16 hlen u8 plen u8 op u16 sha[6] spa u32 tha[6] tpa u32
 *   IPv4      ver/ihl u8 tos u8 len u16 id u16 frag u16 ttl u8 proto u8 csum u16 src u32 dst u32
 *   UDP       sport u16 dport u16 len u16 csum u16
 *   ICMP      type u8 code u8 csum u16 id u16 seq u16 data
 */
import { NetError } from './NetError.ts';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_TCP = 6;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const ETH_HEADER = 14;
const ARP_BYTES = 28;
const IP_HEADER = 20;
const UDP_HEADER = 8;
const DEFAULT_TTL = 64;

export interface EthernetHeader {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function need(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length) throw new NetError('truncated', `${what}: ${bytes.length} bytes, its header needs ${length}`, bytes.length);
}

export function readEthernet(frame: Uint8Array): EthernetHeader {
  need(frame, ETH_HEADER, 'Ethernet frame');
  return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), type: view(frame).getUint16(12), payload: frame.subarray(ETH_HEADER) };
}

export function ethernetFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  view(f).setUint16(12, type);
  f.set(payload, ETH_HEADER);
  return f;
}

/** An ARP packet for IPv4 over Ethernet; anything else (other hardware or protocol) is 'bad-field'. */
export function readArp(p: Uint8Array): ArpPacket {
  need(p, ARP_BYTES, 'ARP packet');
  const v = view(p);
  if (v.getUint16(0) !== 1 || v.getUint16(2) !== ETHERTYPE_IPV4 || p[4] !== 6 || p[5] !== 4) {
    throw new NetError('bad-field', `ARP packet: hardware ${v.getUint16(0)}/${p[4]} protocol 0x${v.getUint16(2).toString(16)}/${p[5]} is not Ethernet/IPv4`, 0);
  }
  return { op: v.getUint16(6), senderMac: p.subarray(8, 14), senderIp: v.getUint32(14), targetMac: p.subarray(18, 24), targetIp: v.getUint32(24) };
}

export function arpPacket(a: ArpPacket): Uint8Array {
  const p = new Uint8Array(ARP_BYTES);
  const v = view(p);
  v.setUint16(0, 1);
  v.setUint16(2, ETHERTYPE_IPV4);
  p[4] = 6;
  p[5] = 4;
  v.setUint16(6, a.op);
  p.set(a.senderMac, 8);
  v.setUint32(14, a.senderIp);
  p.set(a.targetMac, 18);
  v.setUint32(24, a.targetIp);
  return p;
}

/** An IPv4 packet; its payload ends where the total length says (Ethernet padding cut off). */
export function readIpv4(p: Uint8Array): Ipv4Packet {
  need(p, IP_HEADER, 'IPv4 packet');
  const v = view(p);
  const version = p[0]! >> 4;
  const ihl = (p[0]! & 15) * 4;
  const total = v.getUint16(2);
  if (version !== 4) throw new NetError('bad-field', `IPv4 packet: version ${version} at offset 0, expected 4`, 0);
  if (ihl < IP_HEADER || ihl > total || total > p.length) {
    throw new NetError('bad-field', `IPv4 packet: header length ${ihl} and total length ${total} do not fit its ${p.length} bytes`, 2);
  }
  if ((v.getUint16(6) & 0x3fff) !== 0) throw new NetError('bad-field', 'IPv4 packet: a fragment, which the services do not reassemble', 6);
  return { src: v.getUint32(12), dst: v.getUint32(16), protocol: p[9]!, payload: p.subarray(ihl, total) };
}

export function ipv4Packet(src: number, dst: number, protocol: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(IP_HEADER + payload.length);
  const v = view(p);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  v.setUint16(6, 0x4000); // don't fragment: the services never send more than fits
  p[8] = DEFAULT_TTL;
  p[9] = protocol;
  v.setUint32(12, src);
  v.setUint32(16, dst);
  v.setUint16(10, internetChecksum(p.subarray(0, IP_HEADER)));
  p.set(payload, IP_HEADER);
  return p;
}

export function readUdp(p: Uint8Array): UdpDatagram {
  need(p, UDP_HEADER, 'UDP datagram');
  const v = view(p);
  const length = v.getUint16(4);
  if (length < UDP_HEADER || length > p.length) throw new NetError('bad-field', `UDP datagram: length ${length} at offset 4 does not fit its ${p.length} bytes`, 4);
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), data: p.subarray(UDP_HEADER, length) };
}

export function udpDatagram(srcIp: number, dstIp: number, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(UDP_HEADER + data.length);
  const v = view(p);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, p.length);
  p.set(data, UDP_HEADER);
  // 0 means "no checksum" in UDP over IPv4, so a computed 0 is sent as its other form.
  v.setUint16(6, internetChecksum(p, pseudoHeaderSum(srcIp, dstIp, IPPROTO_UDP, p.length)) || 0xffff);
  return p;
}

/** The ones'-complement sum of the IPv4 pseudo-header (UDP, TCP), not folded: a checksum's start. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * The echo reply to an ICMP echo request (a copy with type 0 and a new checksum), or
 * undefined for any other ICMP message; a request whose checksum does not add up is a NetError.
 */
export function icmpEchoReply(icmp: Uint8Array): Uint8Array | undefined {
  if (icmp.length < 8 || icmp[0] !== ICMP_ECHO_REQUEST) return undefined;
  if (internetChecksum(icmp) !== 0) throw new NetError('bad-field', 'ICMP echo request: checksum does not add up', 2);
  const reply = icmp.slice();
  reply[0] = ICMP_ECHO_REPLY;
  return withIcmpChecksum(reply);
}

/** Fills in an ICMP message's checksum (bytes 2-3, over the whole message); returns `icmp`. */
export function withIcmpChecksum(icmp: Uint8Array): Uint8Array {
  icmp[2] = icmp[3] = 0;
  view(icmp).setUint16(2, internetChecksum(icmp));
  return icmp;
}

/** The 16-bit ones'-complement sum of `bytes` added to `sum`, not yet folded or inverted. */
function sumWords(bytes: Uint8Array, sum: number): number {
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[bytes.length - 1]! << 8;
  return sum;
}

/** RFC 1071's Internet checksum of `bytes` (after `initial`, a partial sum such as a pseudo-header's). */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  let sum = sumWords(bytes, initial);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
