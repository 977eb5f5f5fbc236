// What a guest's network stack would send, for the switch and services tests: DHCP
// DISCOVER and REQUEST as udhcpc writes them, DNS queries, ARP requests, ping; and readers
// for the replies. Test-only.
import { frames, NET, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DNS_PORT } from '../../src/net/index.ts';

const { ethernetFrame, ipv4Packet, udpDatagram, arpPacket, withIcmpChecksum, BROADCAST_MAC, ETHERTYPE_IPV4, ETHERTYPE_ARP, IPPROTO_UDP, IPPROTO_ICMP } = frames;

/** A DHCP client message (op 1) of `type` from `mac`, with extra options (code, bytes). */
export function dhcpMessage(mac: Uint8Array, type: number, xid: number, extra: [number, Uint8Array][] = [], broadcastFlag = false): Uint8Array {
  const m = new Uint8Array(300);
  const v = new DataView(m.buffer);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  v.setUint32(4, xid);
  if (broadcastFlag) v.setUint16(10, 0x8000);
  m.set(mac, 28);
  v.setUint32(236, 0x63825363);
  let at = 240;
  for (const [code, data] of [[53, Uint8Array.of(type)] as [number, Uint8Array], ...extra]) {
    m[at] = code;
    m[at + 1] = data.length;
    m.set(data, at + 2);
    at += 2 + data.length;
  }
  m[at] = 255;
  return m;
}

/** A DHCP message in a broadcast UDP frame from 0.0.0.0:68 to 255.255.255.255:67. */
export function dhcpFrame(mac: Uint8Array, message: Uint8Array): Uint8Array {
  const dgram = udpDatagram(0, 0xffff_ffff, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, message);
  return ethernetFrame(BROADCAST_MAC, mac, ETHERTYPE_IPV4, ipv4Packet(0, 0xffff_ffff, IPPROTO_UDP, dgram));
}

export function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** A DNS query for `name` of `type` (1 = A, 28 = AAAA). */
export function dnsQuery(id: number, name: string, type = 1): Uint8Array {
  const labels = name.split('.').filter((l) => l);
  const q = new Uint8Array(12 + labels.reduce((n, l) => n + 1 + l.length, 0) + 1 + 4);
  const v = new DataView(q.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100); // RD
  v.setUint16(4, 1);
  let at = 12;
  for (const l of labels) {
    q[at++] = l.length;
    for (const c of l) q[at++] = c.charCodeAt(0);
  }
  q[at++] = 0;
  v.setUint16(at, type);
  v.setUint16(at + 2, 1);
  return q;
}

export function dnsFrame(mac: Uint8Array, src: number, query: Uint8Array, srcPort = 40000): Uint8Array {
  const dgram = udpDatagram(src, NET.dns, srcPort, DNS_PORT, query);
  return ethernetFrame(NET.servicesMac, mac, ETHERTYPE_IPV4, ipv4Packet(src, NET.dns, IPPROTO_UDP, dgram));
}

export function arpRequest(mac: Uint8Array, src: number, target: number): Uint8Array {
  return ethernetFrame(BROADCAST_MAC, mac, ETHERTYPE_ARP, arpPacket({ op: 1, senderMac: mac, senderIp: src, targetMac: new Uint8Array(6), targetIp: target }));
}

export function pingFrame(mac: Uint8Array, dstMac: Uint8Array, src: number, dst: number, seq: number): Uint8Array {
  const icmp = new Uint8Array(16);
  icmp[0] = 8;
  icmp[7] = seq;
  icmp.fill(0x61, 8);
  return ethernetFrame(dstMac, mac, ETHERTYPE_IPV4, ipv4Packet(src, dst, IPPROTO_ICMP, withIcmpChecksum(icmp)));
}

/** The UDP payload of an IPv4/UDP frame. */
export function udpPayload(frame: Uint8Array): { src: number; dst: number; srcPort: number; dstPort: number; data: Uint8Array } {
  const ip = frames.readIpv4(frames.readEthernet(frame).payload);
  const udp = frames.readUdp(ip.payload);
  return { src: ip.src, dst: ip.dst, srcPort: udp.srcPort, dstPort: udp.dstPort, data: udp.data };
}

/** DHCP options of a reply, by code. */
export function dhcpOptions(message: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (let at = 240; at < message.length && message[at] !== 255; ) {
    if (message[at] === 0) {
      at++;
      continue;
    }
    out.set(message[at]!, message.subarray(at + 2, at + 2 + message[at + 1]!));
    at += 2 + message[at + 1]!;
  }
  return out;
}
