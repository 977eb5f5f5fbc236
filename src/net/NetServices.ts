/**
 * The built-in services port of a switch: the gateway address 10.0.2.2 is the host
 * endpoint (src/net/host: ARP, ping, TCP), the DNS address 10.0.2.3 answers ARP and ping,
 * DHCP requests go to the DhcpServer and DNS queries to the DnsServer. Both addresses sit
 * behind the one services MAC. Everything a guest sends here is parsed defensively: a malformed frame is
 * counted and dropped (NetError), never an exception out of the switch.
 */
import type { AddressBook } from './AddressBook.ts';
import { HostEndpoint } from './host/HostEndpoint.ts';
import { DhcpServer, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './DhcpServer.ts';
import { DnsServer, DNS_PORT } from './DnsServer.ts';
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_UDP, arpPacket, ethernetFrame, ipv4Packet, readArp, readEthernet,
  readIpv4, readUdp, udpDatagram, icmpEchoReply,
} from './ipv4Frames.ts';
import { NET } from './netContract.ts';
import { NetError } from './NetError.ts';
import type { SwitchPort } from './Types.ts';

const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const LIMITED_BROADCAST = 0xffff_ffff;

export interface NetServicesStats {
  /** For the DNS address (the gateway's are the host endpoint's stats). */
  arpReplies: number;
  pingReplies: number;
  /** Frames that were not well-formed for what they claimed to be. */
  malformed: number;
}

export class NetServices {
  readonly dhcp: DhcpServer;
  readonly dns: DnsServer;
  readonly stats: NetServicesStats = { arpReplies: 0, pingReplies: 0, malformed: 0 };
  /** The gateway address 10.0.2.2: the host's TCP/IP endpoint. */
  readonly gateway: HostEndpoint;
  /** Set by the switch when it attaches the services: where replies go. */
  port: SwitchPort | undefined;

  /** `clockUs` and `armTimer` drive the gateway's TCP timers (see HostEndpoint). */
  constructor(book: AddressBook, clockUs: () => number = () => 0, armTimer?: (atUs: number) => void) {
    this.dhcp = new DhcpServer(book);
    this.dns = new DnsServer(book);
    this.gateway = new HostEndpoint({ ip: NET.gateway, mac: NET.servicesMac, clockUs, send: (f) => this.port?.send(f), armTimer });
  }

  /** A frame the switch gave the services port (a broadcast, or one for the services' MAC). */
  handle(frame: Uint8Array, from: SwitchPort): void {
    if (this.gateway.receive(frame)) return;
    try {
      const eth = readEthernet(frame);
      if (eth.type === ETHERTYPE_ARP) this.arp(eth.payload, eth.src);
      else if (eth.type === ETHERTYPE_IPV4) this.ipv4(eth.payload, eth.src, from);
    } catch (e) {
      if (!(e instanceof NetError)) throw e;
      this.stats.malformed++;
    }
  }

  private arp(payload: Uint8Array, srcMac: Uint8Array): void {
    const a = readArp(payload);
    if (a.op !== ARP_REQUEST || a.targetIp !== NET.dns) return;
    const reply = arpPacket({ op: ARP_REPLY, senderMac: NET.servicesMac, senderIp: a.targetIp, targetMac: a.senderMac, targetIp: a.senderIp });
    this.stats.arpReplies++;
    this.send(srcMac, ETHERTYPE_ARP, reply);
  }

  private ipv4(payload: Uint8Array, srcMac: Uint8Array, from: SwitchPort): void {
    const ip = readIpv4(payload);
    const toServices = ip.dst === NET.gateway || ip.dst === NET.dns;
    if (!toServices && ip.dst !== LIMITED_BROADCAST && ip.dst !== NET.broadcast) return;
    if (ip.protocol === IPPROTO_ICMP && ip.dst === NET.dns) return this.ping(ip.payload, ip.src, ip.dst, srcMac);
    if (ip.protocol !== IPPROTO_UDP) return;
    const udp = readUdp(ip.payload);
    if (udp.dstPort === DHCP_SERVER_PORT && from.kind === 'vm') {
      const r = this.dhcp.answer(udp.data, from.name);
      if (!r) return;
      const dst = r.broadcast ? LIMITED_BROADCAST : r.address;
      const dgram = udpDatagram(NET.gateway, dst, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, r.message);
      this.send(r.broadcast ? BROADCAST_MAC : srcMac, ETHERTYPE_IPV4, ipv4Packet(NET.gateway, dst, IPPROTO_UDP, dgram));
    } else if (udp.dstPort === DNS_PORT && ip.dst === NET.dns) {
      const answer = this.dns.answer(udp.data);
      if (!answer) return;
      const dgram = udpDatagram(NET.dns, ip.src, DNS_PORT, udp.srcPort, answer);
      this.send(srcMac, ETHERTYPE_IPV4, ipv4Packet(NET.dns, ip.src, IPPROTO_UDP, dgram));
    }
  }

  private ping(icmp: Uint8Array, src: number, dst: number, srcMac: Uint8Array): void {
    const reply = icmpEchoReply(icmp);
    if (!reply) return;
    this.stats.pingReplies++;
    this.send(srcMac, ETHERTYPE_IPV4, ipv4Packet(dst, src, IPPROTO_ICMP, reply));
  }

  private send(dstMac: Uint8Array, type: number, payload: Uint8Array): void {
    this.port?.send(ethernetFrame(dstMac, NET.servicesMac, type, payload));
  }
}
