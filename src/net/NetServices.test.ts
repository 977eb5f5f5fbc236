// The switch's built-in services as a guest meets them: DHCP hands out the address of the
// VM's name with the options of the network contract, DNS answers VM names with and
// without the domain, ARP and ping answer for the gateway and DNS addresses, and whatever
// malformed bytes a guest sends are counted, never thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DHCP, EthernetSwitch, NET, formatIpv4, frames, macFromName } from './index.ts';
import { arpRequest, dhcpFrame, dhcpMessage, dhcpOptions, dnsFrame, dnsQuery, pingFrame, u32, udpPayload } from '../../tests/net/netClient.ts';

function guest(name: string) {
  const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0 });
  const got: Uint8Array[] = [];
  const port = sw.attach('vm', name, (f) => got.push(f));
  const send = (f: Uint8Array) => {
    got.length = 0;
    port.send(f);
    sw.pump();
    return got.slice();
  };
  return { sw, port, mac: macFromName(name), send };
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const num = (b: Uint8Array | undefined) => new DataView(b!.buffer, b!.byteOffset).getUint32(0);

describe('DHCP on the switch', () => {
  it('offers the address of the VM name with router, DNS, hostname and domain, and acknowledges the request', () => {
    const g = guest('web');
    const [offer] = g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.DISCOVER, 0x1234)));
    assert.ok(offer, 'an offer came back');
    const o = udpPayload(offer);
    assert.deepEqual([o.srcPort, o.dstPort, o.src], [67, 68, NET.gateway]);
    assert.equal(o.data[0], 2, 'BOOTREPLY');
    assert.equal(new DataView(o.data.buffer, o.data.byteOffset).getUint32(4), 0x1234, 'xid echoed');
    const yiaddr = new DataView(o.data.buffer, o.data.byteOffset).getUint32(16);
    assert.equal(yiaddr, g.port.address);
    assert.deepEqual(o.data.subarray(28, 34), g.mac, 'chaddr echoed');
    const opts = dhcpOptions(o.data);
    assert.equal(opts.get(53)![0], DHCP.OFFER);
    assert.equal(formatIpv4(num(opts.get(1))), '255.255.255.0');
    assert.equal(formatIpv4(num(opts.get(3))), '10.0.2.2');
    assert.equal(formatIpv4(num(opts.get(6))), '10.0.2.3');
    assert.equal(formatIpv4(num(opts.get(54))), '10.0.2.2');
    assert.equal(text(opts.get(12)), 'web');
    assert.equal(text(opts.get(15)), 'romvisor');
    assert.equal(num(opts.get(51)), 86400);

    const [ack] = g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.REQUEST, 0x1235, [[50, u32(yiaddr)], [54, u32(NET.gateway)]])));
    const a = udpPayload(ack!);
    assert.equal(dhcpOptions(a.data).get(53)![0], DHCP.ACK);
    assert.equal(new DataView(a.data.buffer, a.data.byteOffset).getUint32(16), yiaddr);
    assert.equal(a.dst, yiaddr, 'unicast: the client did not ask for a broadcast');
    assert.deepEqual(frames.readEthernet(ack!).dst, g.mac);
  });

  it('gives the longest VM name (63, one DNS label) its whole host name option and an end option', () => {
    const name = `${'n'.repeat(62)}1`;
    const g = guest(name);
    const [offer] = g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.DISCOVER, 7)));
    assert.ok(offer, 'an offer came back');
    const data = udpPayload(offer).data;
    assert.equal(text(dhcpOptions(data).get(12)), name);
    assert.equal(text(dhcpOptions(data).get(15)), 'romvisor', 'the options after the host name are there too');
    // The options end with code 255, everything after it padding.
    let at = 240;
    while (at < data.length && data[at] !== 255) at += 2 + data[at + 1]!;
    assert.ok(at < data.length, 'the end option is inside the message');
    assert.equal(g.sw.services.stats.malformed, 0);
  });

  it('broadcasts the reply when the client sets the broadcast flag', () => {
    const g = guest('web');
    const [offer] = g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.DISCOVER, 1, [], true)));
    assert.equal(udpPayload(offer!).dst, 0xffff_ffff);
    assert.deepEqual([...frames.readEthernet(offer!).dst], [255, 255, 255, 255, 255, 255]);
  });

  it('refuses (NAK) a request for an address that is not the name\'s, and is silent for another server\'s', () => {
    const g = guest('web');
    const [nak] = g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.REQUEST, 2, [[50, u32(NET.firstGuest + 239)]])));
    assert.equal(dhcpOptions(udpPayload(nak!).data).get(53)![0], DHCP.NAK);
    assert.deepEqual(g.send(dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.REQUEST, 3, [[50, u32(g.port.address!)], [54, u32(0x0a000909)]]))), []);
  });
});

describe('DNS on the switch', () => {
  function ask(name: string, type = 1) {
    const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0 });
    const got: Uint8Array[] = [];
    const client = sw.attach('vm', 'client', (f) => got.push(f));
    const web = sw.attach('vm', 'web', () => {});
    client.send(dnsFrame(macFromName('client'), client.address!, dnsQuery(0xbeef, name, type)));
    sw.pump();
    assert.equal(got.length, 1);
    const u = udpPayload(got[0]!);
    assert.deepEqual([u.src, u.srcPort, u.dst, u.dstPort], [NET.dns, 53, client.address, 40000]);
    const v = new DataView(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    return { id: v.getUint16(0), rcode: v.getUint16(2) & 15, qr: v.getUint16(2) >> 15, answers: v.getUint16(6), last4: v.getUint32(u.data.length - 4), web };
  }

  it('answers a VM name with its A record, with or without the romvisor domain, in any case', () => {
    for (const name of ['web', 'web.romvisor', 'WEB.Romvisor.']) {
      const r = ask(name);
      assert.deepEqual([r.id, r.qr, r.rcode, r.answers], [0xbeef, 1, 0, 1], name);
      assert.equal(r.last4, r.web.address, `${name} resolves to web's address`);
    }
  });

  it('says NXDOMAIN for any other name, and no data for AAAA of a VM name', () => {
    for (const name of ['nosuch', 'web.example.com', 'romvisor', 'web.other']) {
      const r = ask(name);
      assert.deepEqual([r.rcode, r.answers], [3, 0], name);
    }
    const aaaa = ask('web', 28);
    assert.deepEqual([aaaa.rcode, aaaa.answers], [0, 0]);
  });
});

describe('ARP and ping of the gateway and DNS addresses', () => {
  it('answers ARP for 10.0.2.2 and 10.0.2.3 with the services MAC, and nothing else', () => {
    const g = guest('web');
    for (const target of [NET.gateway, NET.dns]) {
      const [reply] = g.send(arpRequest(g.mac, g.port.address!, target));
      const arp = frames.readArp(frames.readEthernet(reply!).payload);
      assert.deepEqual([arp.op, arp.senderIp, arp.targetIp], [2, target, g.port.address]);
      assert.deepEqual(arp.senderMac, NET.servicesMac);
    }
    assert.deepEqual(g.send(arpRequest(g.mac, g.port.address!, NET.firstGuest + 100)), []);
  });

  it('answers ping to the gateway', () => {
    const g = guest('web');
    const [reply] = g.send(pingFrame(g.mac, NET.servicesMac, g.port.address!, NET.gateway, 5));
    const ip = frames.readIpv4(frames.readEthernet(reply!).payload);
    assert.deepEqual([ip.src, ip.dst, ip.payload[0], ip.payload[7]], [NET.gateway, g.port.address, 0, 5]);
    assert.equal(frames.internetChecksum(ip.payload), 0);
    assert.equal(g.sw.services.gateway.stats.pingReplies, 1);
  });
});

describe('malformed frames to the services', () => {
  it('are counted and dropped, never thrown', () => {
    const g = guest('web');
    const good = dhcpFrame(g.mac, dhcpMessage(g.mac, DHCP.DISCOVER, 9));
    const cuts = [20, 34, 40, 100, 270];
    for (const n of cuts) assert.deepEqual(g.send(good.subarray(0, n)), [], `cut at ${n}`);
    const badVersion = good.slice();
    badVersion[14] = 0x65;
    g.send(badVersion);
    assert.equal(g.sw.services.stats.malformed, cuts.length + 1);
  });
});
