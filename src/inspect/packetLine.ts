/**
 * One line per Ethernet frame, for the packet panel (teaching): who talks to whom and
 * what, in the words a networking course uses.
 *   ARP who-has 10.0.2.2 tell 10.0.2.15
 *   DHCP REQUEST 52:54:00:12:34:56 xid 0x1a2b3c4d
 *   DNS query A web.romvisor (id 0x1234)          DNS answer web.romvisor: 1 record (id 0x1234)
 *   ICMP echo request id 7 seq 1
 *   TCP 10.0.2.2:49152 > 10.0.2.15:80 SYN seq 1360081350 win 65535
 *   TCP ... ACK|PSH seq 1 ack 1 len 18 | GET /index.html HTTP/1.0
 * Sequence and acknowledgement numbers are shown relative to the connection's first one
 * when the describer saw its SYN (as Wireshark does), absolute otherwise. A frame that
 * does not parse is described as what it claims with "malformed": the bytes come from
 * guests, so nothing here throws.
 */
import { formatIpv4, frames } from '../net/index.ts';
import { IPPROTO_TCP, TCP_ACK, TCP_SYN, readTcp, tcpFlagNames } from '../net/host/index.ts';
import { formatMac } from '../format/formatMac.ts';

export type PacketProtocol = 'ARP' | 'DHCP' | 'DNS' | 'ICMP' | 'TCP' | 'HTTP' | 'UDP' | 'IPv4' | 'other';

export interface PacketLine {
  /** Protocols the frame belongs to, outermost filterable first (an HTTP segment is TCP and HTTP). */
  protocols: PacketProtocol[];
  src: string;
  dst: string;
  /** Source and destination MAC as aa:bb:..., for filtering by VM. */
  srcMac: string;
  dstMac: string;
  text: string;
}

const DHCP_TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
const DNS_TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 12: 'PTR', 5: 'CNAME', 255: 'ANY', 15: 'MX', 16: 'TXT' };
const HTTP_LINE = /^(?:(?:GET|POST|HEAD|PUT|DELETE|OPTIONS) \S+ HTTP\/1\.[01]|HTTP\/1\.[01] \d{3}[^\r\n]*)/;

/** Describes frames one after another, remembering each connection's first sequence numbers. */
export class PacketDescriber {
  /** "src>dst" (address:port) to the initial sequence number that side sent; bounded. */
  private readonly isn = new Map<string, number>();

  describe(frame: Uint8Array): PacketLine {
    const line: PacketLine = { protocols: ['other'], src: '', dst: '', srcMac: '', dstMac: '', text: '' };
    if (frame.length < 14) {
      line.text = `runt frame of ${frame.length} bytes`;
      return line;
    }
    const eth = frames.readEthernet(frame);
    line.srcMac = line.src = formatMac(eth.src);
    line.dstMac = line.dst = formatMac(eth.dst);
    try {
      if (eth.type === frames.ETHERTYPE_ARP) this.arp(eth.payload, line);
      else if (eth.type === frames.ETHERTYPE_IPV4) this.ipv4(eth.payload, line);
      else line.text = `ethertype 0x${eth.type.toString(16).padStart(4, '0')}, ${frame.length} bytes`;
    } catch (e) {
      line.text = `${line.protocols[line.protocols.length - 1]} malformed: ${(e as Error).message}`;
    }
    return line;
  }

  private arp(p: Uint8Array, line: PacketLine): void {
    line.protocols = ['ARP'];
    const a = frames.readArp(p);
    line.text =
      a.op === 1
        ? `ARP who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}`
        : a.op === 2
          ? `ARP ${formatIpv4(a.senderIp)} is-at ${formatMac(a.senderMac)}`
          : `ARP op ${a.op}`;
  }

  private ipv4(p: Uint8Array, line: PacketLine): void {
    line.protocols = ['IPv4'];
    const ip = frames.readIpv4(p);
    line.src = formatIpv4(ip.src);
    line.dst = formatIpv4(ip.dst);
    if (ip.protocol === frames.IPPROTO_ICMP) return this.icmp(ip.payload, line);
    if (ip.protocol === IPPROTO_TCP) return this.tcp(ip.payload, ip.src, ip.dst, line);
    if (ip.protocol !== frames.IPPROTO_UDP) {
      line.text = `IPv4 ${line.src} > ${line.dst} protocol ${ip.protocol}`;
      return;
    }
    line.protocols = ['UDP'];
    const udp = frames.readUdp(ip.payload);
    if (udp.srcPort === 67 || udp.dstPort === 67) return this.dhcp(udp.data, line);
    if (udp.srcPort === 53 || udp.dstPort === 53) return this.dns(udp.data, udp.dstPort !== 53, line);
    line.text = `UDP ${line.src}:${udp.srcPort} > ${line.dst}:${udp.dstPort} len ${udp.data.length}`;
  }

  private icmp(p: Uint8Array, line: PacketLine): void {
    line.protocols = ['ICMP'];
    if (p.length < 8) throw new RangeError(`${p.length} bytes`);
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const kind = p[0] === 8 ? 'echo request' : p[0] === 0 ? 'echo reply' : `type ${p[0]} code ${p[1]}`;
    line.text = `ICMP ${line.src} > ${line.dst} ${kind}${p[0] === 8 || p[0] === 0 ? ` id ${v.getUint16(4)} seq ${v.getUint16(6)}` : ''}`;
  }

  private dhcp(m: Uint8Array, line: PacketLine): void {
    line.protocols = ['DHCP'];
    if (m.length < 240) throw new RangeError(`${m.length} bytes`);
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    let type = 0;
    for (let i = 240; i + 1 < m.length && m[i] !== 255; ) {
      if (m[i] === 0) {
        i++;
        continue;
      }
      if (m[i] === 53 && i + 2 < m.length) type = m[i + 2]!;
      i += 2 + m[i + 1]!;
    }
    const yiaddr = v.getUint32(16);
    const name = DHCP_TYPES[type] ?? `type ${type}`;
    line.text = `DHCP ${name || 'message'} ${formatMac(m.subarray(28, 34))} xid 0x${v.getUint32(4).toString(16).padStart(8, '0')}${yiaddr ? ` your address ${formatIpv4(yiaddr)}` : ''}`;
  }

  private dns(m: Uint8Array, answer: boolean, line: PacketLine): void {
    line.protocols = ['DNS'];
    if (m.length < 12) throw new RangeError(`${m.length} bytes`);
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const labels: string[] = [];
    let at = 12;
    while (at < m.length && m[at]! > 0 && m[at]! < 64 && labels.length < 32) {
      labels.push(new TextDecoder('latin1').decode(m.subarray(at + 1, Math.min(m.length, at + 1 + m[at]!))));
      at += 1 + m[at]!;
    }
    const qtype = at + 3 <= m.length ? v.getUint16(at + 1) : 0;
    const name = labels.join('.') || '.';
    const id = `(id 0x${v.getUint16(0).toString(16).padStart(4, '0')})`;
    const rcode = v.getUint16(2) & 15;
    line.text = answer
      ? `DNS answer ${name}: ${rcode === 3 ? 'no such name' : `${v.getUint16(6)} record(s)`} ${id}`
      : `DNS query ${DNS_TYPES[qtype] ?? `type ${qtype}`} ${name} ${id}`;
  }

  private tcp(p: Uint8Array, src: number, dst: number, line: PacketLine): void {
    line.protocols = ['TCP'];
    const s = readTcp(p, src, dst);
    const from = `${formatIpv4(src)}:${s.srcPort}`;
    const to = `${formatIpv4(dst)}:${s.dstPort}`;
    if (s.flags & TCP_SYN) {
      if (this.isn.size >= 1024) this.isn.delete(this.isn.keys().next().value!);
      this.isn.set(`${from}>${to}`, s.seq);
    }
    const mine = this.isn.get(`${from}>${to}`);
    const theirs = this.isn.get(`${to}>${from}`);
    const rel = (n: number, base: number | undefined) => (base === undefined ? n : (n - base) >>> 0);
    const flags = tcpFlagNames(s.flags);
    let text = `TCP ${from} > ${to} ${flags} seq ${rel(s.seq, mine)}`;
    if (s.flags & TCP_ACK) text += ` ack ${rel(s.ack, theirs)}`;
    text += ` win ${s.window}`;
    if (s.payload.length) text += ` len ${s.payload.length}`;
    const http = HTTP_LINE.exec(new TextDecoder('latin1').decode(s.payload.subarray(0, 200)));
    if (http) {
      line.protocols = ['TCP', 'HTTP'];
      text += ` | ${http[0]}`;
    }
    line.text = text;
  }
}
