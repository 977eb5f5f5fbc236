// The packet panel's lines for frames as guests and the switch send them: a TCP handshake
// and an HTTP request over the host endpoint (sequence numbers relative to the SYN's),
// DHCP, DNS, ARP and ping; damaged frames are described, never thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DHCP, NET, ipv4, macFromName } from '../net/index.ts';
import { PacketDescriber } from './packetLine.ts';
import { TcpWire } from '../../tests/net/tcpWire.ts';
import { arpRequest, dhcpFrame, dhcpMessage, dnsFrame, dnsQuery, pingFrame } from '../../tests/net/netClient.ts';

describe('packet lines', () => {
  it('show a TCP handshake, the HTTP request line and the close, numbers relative to each SYN', async () => {
    const w = new TcpWire();
    const seen: Uint8Array[] = [];
    w.tap = (f) => seen.push(f);
    w.guest.listen(80, (c) => {
      c.onData = () => {
        c.write(new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\nhi'));
        c.end();
      };
    });
    const c = w.gateway.connect(w.guest.ip, 80);
    c.write(new TextEncoder().encode('GET /index.html HTTP/1.0\r\nHost: web\r\n\r\n'));
    c.onEnd = () => c.end();
    await w.run(() => c.state === 'time-wait' || c.state === 'closed');
    const d = new PacketDescriber();
    const lines = seen.map((f) => d.describe(f));
    const text = lines.map((l) => l.text);
    assert.equal(text[0], 'ARP who-has 10.0.2.15 tell 10.0.2.2');
    assert.equal(text[1], `ARP 10.0.2.15 is-at ${[...macFromName('guest')].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);
    assert.equal(text[2], 'TCP 10.0.2.2:49152 > 10.0.2.15:80 SYN seq 0 win 65535');
    assert.equal(text[3], 'TCP 10.0.2.15:80 > 10.0.2.2:49152 SYN|ACK seq 0 ack 1 win 65535');
    // What was written before the handshake ended rides on its last ACK.
    assert.equal(text[4], 'TCP 10.0.2.2:49152 > 10.0.2.15:80 PSH|ACK seq 1 ack 1 win 65535 len 39 | GET /index.html HTTP/1.0');
    assert.ok(text.some((t) => /^TCP 10\.0\.2\.15:80 > 10\.0\.2\.2:49152 PSH\|ACK seq 1 ack 40 win 65535 len 21 \| HTTP\/1\.0 200 OK$/.test(t)), text.join('\n'));
    assert.ok(text.some((t) => /FIN\|ACK seq 22 ack 40/.test(t)), text.join('\n'));
    assert.deepEqual(lines.find((l) => l.text.includes('GET'))!.protocols, ['TCP', 'HTTP']);
  });

  it('name DHCP, DNS, ARP and ping, and describe damaged frames without throwing', () => {
    const d = new PacketDescriber();
    const mac = macFromName('web');
    const me = ipv4(10, 0, 2, 40);
    assert.equal(d.describe(dhcpFrame(mac, dhcpMessage(mac, DHCP.DISCOVER, 0x1a2b3c4d))).text, `DHCP DISCOVER ${[...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')} xid 0x1a2b3c4d`);
    assert.equal(d.describe(dnsFrame(mac, me, dnsQuery(0x1234, 'web.romvisor'))).text, 'DNS query A web.romvisor (id 0x1234)');
    assert.equal(d.describe(arpRequest(mac, me, NET.gateway)).text, 'ARP who-has 10.0.2.2 tell 10.0.2.40');
    const ping = d.describe(pingFrame(mac, NET.servicesMac, me, NET.gateway, 3));
    assert.match(ping.text, /^ICMP 10\.0\.2\.40 > 10\.0\.2\.2 echo request id \d+ seq 3$/);
    assert.deepEqual(ping.protocols, ['ICMP']);
    const bad = pingFrame(mac, NET.servicesMac, me, NET.gateway, 3);
    bad[14] = 0x65;
    assert.match(d.describe(bad).text, /^IPv4 malformed: /);
    assert.equal(d.describe(new Uint8Array(5)).text, 'runt frame of 5 bytes');
    for (let n = 0; n < 60; n++) d.describe(bad.subarray(0, n));
  });
});
