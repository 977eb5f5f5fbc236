/**
 * The switch's DHCP server (RFC 2131, the options of RFC 2132). A guest's address comes from
 * its VM name (AddressBook), never from the order it asked in or the time, so leases replay
 * exactly. The client is known by the switch port its message came in on; the message's
 * own chaddr is only echoed back.
 *
 *   BOOTP  op u8 htype u8 hlen u8 hops u8 xid u32 secs u16 flags u16 ciaddr yiaddr siaddr
 *          giaddr (u32 each) chaddr[16] sname[64] file[128] magic u32 (99.130.83.99) options
 *
 * Options sent: message type (53), server identifier (54), lease time (51), subnet mask (1),
 * router (3), DNS server (6), host name (12) = the VM's name, domain name (15) = romvisor,
 * broadcast address (28).
 */
import type { AddressBook } from './AddressBook.ts';
import { NET } from './netContract.ts';
import { NetError } from './NetError.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const MAGIC = 0x63825363;
const FIXED_BYTES = 240;
const BROADCAST_FLAG = 0x8000;
/** BOOTP's minimum message (RFC 1542): some clients drop shorter ones, so replies are padded to it. */
const BOOTP_MIN_BYTES = 300;

/** DHCP message types (option 53). */
export const DHCP = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

const OPT = { pad: 0, mask: 1, router: 3, dns: 6, hostname: 12, domain: 15, broadcast: 28, requested: 50, lease: 51, type: 53, server: 54, end: 255 } as const;

export interface DhcpReply {
  message: Uint8Array;
  /** Send to 255.255.255.255 and ff:ff:ff:ff:ff:ff (the client asked, or has no address yet to unicast to). */
  broadcast: boolean;
  /** The address the reply is about (yiaddr), for unicast. */
  address: number;
}

export interface DhcpStats {
  offers: number;
  acks: number;
  naks: number;
  /** Messages refused: malformed, or not a client request. */
  ignored: number;
}

export class DhcpServer {
  readonly stats: DhcpStats = { offers: 0, acks: 0, naks: 0, ignored: 0 };
  /** The address each VM name (lower-cased) was last acknowledged: what the page shows as its address. */
  readonly leases = new Map<string, number>();

  constructor(private readonly book: AddressBook) {}

  /**
   * Answers a client message that came from VM `name`'s port; undefined when there is
   * nothing to answer (a RELEASE, another server's REQUEST). Throws NetError on malformed input.
   */
  answer(message: Uint8Array, name: string): DhcpReply | undefined {
    if (message.length < FIXED_BYTES) throw new NetError('truncated', `DHCP message: ${message.length} bytes, the fixed part needs ${FIXED_BYTES}`, message.length);
    const v = new DataView(message.buffer, message.byteOffset, message.byteLength);
    if (message[0] !== 1) throw new NetError('bad-field', `DHCP message: op ${message[0]} at offset 0 is not a request (1)`, 0);
    if (v.getUint32(236) !== MAGIC) throw new NetError('bad-field', `DHCP message: magic cookie 0x${v.getUint32(236).toString(16)} at offset 236, expected 0x63825363`, 236);
    const options = readOptions(message);
    const type = options.get(OPT.type)?.[0];
    const address = this.book.assign(name);
    const server = options.get(OPT.server);
    const requested = options.get(OPT.requested);
    const ciaddr = v.getUint32(12);
    const requestedIp = requested && requested.length === 4 ? new DataView(requested.buffer, requested.byteOffset).getUint32(0) : ciaddr;
    let replyType: number;
    switch (type) {
      case DHCP.DISCOVER:
        replyType = DHCP.OFFER;
        this.stats.offers++;
        break;
      case DHCP.REQUEST:
        // A REQUEST naming another server is the client choosing that one: stay silent.
        if (server && (server.length !== 4 || new DataView(server.buffer, server.byteOffset).getUint32(0) !== NET.gateway)) return undefined;
        if (requestedIp === address) {
          replyType = DHCP.ACK;
          this.stats.acks++;
          this.leases.set(name.toLowerCase(), address);
        } else {
          replyType = DHCP.NAK;
          this.stats.naks++;
        }
        break;
      case DHCP.INFORM:
        replyType = DHCP.ACK;
        this.stats.acks++;
        break;
      default:
        this.stats.ignored++;
        return undefined;
    }
    const hostname = new TextEncoder().encode(name);
    const domain = new TextEncoder().encode(NET.domain);
    // Room for every option sent: seven of at most 4 data bytes, the host name (a VM name,
    // up to 63 bytes) and the domain, each behind code and length, and the end code.
    const reply = new Uint8Array(Math.max(BOOTP_MIN_BYTES, FIXED_BYTES + 7 * 6 + 2 + hostname.length + 2 + domain.length + 1));
    const r = new DataView(reply.buffer);
    reply[0] = 2; // BOOTREPLY
    reply.set(message.subarray(1, 3), 1); // htype, hlen
    r.setUint32(4, v.getUint32(4)); // xid
    r.setUint16(10, v.getUint16(10)); // flags
    r.setUint32(12, ciaddr);
    if (replyType !== DHCP.NAK) {
      if (type !== DHCP.INFORM) r.setUint32(16, address);
      r.setUint32(20, NET.gateway);
    }
    reply.set(message.subarray(28, 44), 28); // chaddr
    r.setUint32(236, MAGIC);
    let at = FIXED_BYTES;
    const put = (code: number, data: Uint8Array) => {
      reply[at] = code;
      reply[at + 1] = data.length;
      reply.set(data, at + 2);
      at += 2 + data.length;
    };
    const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    put(OPT.type, Uint8Array.of(replyType));
    put(OPT.server, u32(NET.gateway));
    if (replyType !== DHCP.NAK) {
      if (type !== DHCP.INFORM) put(OPT.lease, u32(NET.leaseSeconds));
      put(OPT.mask, u32(NET.netmask));
      put(OPT.router, u32(NET.gateway));
      put(OPT.dns, u32(NET.dns));
      put(OPT.hostname, hostname);
      put(OPT.domain, domain);
      put(OPT.broadcast, u32(NET.broadcast));
    }
    reply[at++] = OPT.end;
    const broadcast = replyType === DHCP.NAK || (v.getUint16(10) & BROADCAST_FLAG) !== 0;
    return { message: reply.subarray(0, Math.max(at, BOOTP_MIN_BYTES)), broadcast, address: type === DHCP.INFORM ? ciaddr : address };
  }
}

/** The options after the magic cookie, by code (the first of a repeated code wins). */
function readOptions(message: Uint8Array): Map<number, Uint8Array> {
  const options = new Map<number, Uint8Array>();
  let at = FIXED_BYTES;
  while (at < message.length) {
    const code = message[at]!;
    if (code === OPT.end) break;
    if (code === OPT.pad) {
      at++;
      continue;
    }
    if (at + 1 >= message.length) throw new NetError('truncated', `DHCP option ${code} at offset ${at} has no length byte`, at);
    const length = message[at + 1]!;
    if (at + 2 + length > message.length) throw new NetError('truncated', `DHCP option ${code} at offset ${at}: ${length} bytes run past the message's end`, at);
    if (!options.has(code)) options.set(code, message.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return options;
}
