// The host endpoint's TCP/IP as a peer meets it, over a wire in virtual time (tests/net/
// tcpWire.ts): the handshake both ways, data both ways and an orderly close, a reset for a
// closed port, flow control against a reader that stops, 32 MiB over a link that drops
// and reorders frames (the retransmissions counted), a peer that vanishes, sequence numbers
// that follow the clock, and a table that stays bounded under a SYN flood.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { NET, ipv4, macFromName, frames } from '../index.ts';
import { HostEndpoint, MAX_CONNECTIONS, RECV_WINDOW, SEND_BUFFER, TcpError, TIME_WAIT_US, TCP_SYN, readTcp, tcpSegment, type TcpConnection } from './index.ts';
import { TcpWire } from '../../../tests/net/tcpWire.ts';
import { SeededRandom } from '../../../tests/SeededRandom.ts';

const GUEST_IP = ipv4(10, 0, 2, 15);

/** A guest-side server on `port` that collects what each connection sends and answers with `reply(data)` at end. */
function serve(ep: HostEndpoint, port: number, reply: (got: Buffer) => Uint8Array = () => new Uint8Array(0)) {
  const got: Buffer[] = [];
  const server = { conns: [] as TcpConnection[], got, ended: 0 };
  ep.listen(port, (c) => {
    server.conns.push(c);
    const chunks: Buffer[] = [];
    c.onData = (b) => chunks.push(Buffer.from(b));
    c.onEnd = () => {
      const all = Buffer.concat(chunks);
      got.push(all);
      server.ended++;
      writeAll(c, reply(all), () => c.end());
    };
  });
  return server;
}

/** Writes `data` as fast as the send buffer takes it, then calls `then`. */
function writeAll(c: TcpConnection, data: Uint8Array, then: () => void): void {
  let at = 0;
  const more = () => {
    while (at < data.length) {
      const n = c.write(data.subarray(at, at + 65536));
      at += n;
      if (n === 0) return;
    }
    then();
  };
  c.onDrain = more;
  more();
}

function collect(c: TcpConnection) {
  const r = { chunks: [] as Buffer[], ended: false, closed: false, error: undefined as TcpError | undefined, connected: false };
  c.onConnect = () => (r.connected = true);
  c.onData = (b) => r.chunks.push(Buffer.from(b));
  c.onEnd = () => (r.ended = true);
  c.onClose = (e) => {
    r.closed = true;
    r.error = e;
  };
  return { ...r, get data() { return Buffer.concat(r.chunks); }, r };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('host endpoint TCP', () => {
  it('connects, carries data both ways and closes in order; TIME_WAIT ends', async () => {
    const w = new TcpWire();
    const server = serve(w.guest, 80, (got) => Buffer.from(`echo ${got.toString()}`));
    const c = w.gateway.connect(GUEST_IP, 80);
    const r = collect(c);
    assert.equal(c.state, 'syn-sent');
    c.write(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    c.end();
    assert.ok(await w.run(() => r.r.closed));
    assert.equal(r.r.connected, true);
    assert.equal(r.data.toString(), 'echo GET / HTTP/1.0\r\n\r\n');
    assert.equal(r.r.error, undefined);
    assert.deepEqual(server.got.map(String), ['GET / HTTP/1.0\r\n\r\n']);
    // The gateway closed first: it is gone; the guest side (LAST_ACK) too once its FIN is acknowledged.
    assert.ok(await w.run(() => w.gateway.connectionCount + w.guest.connectionCount === 0, 2 * TIME_WAIT_US));
    assert.equal(w.gateway.stats.retransmits, 0);
  });

  it('the side that closes first waits TIME_WAIT, then lets the connection go', async () => {
    const w = new TcpWire();
    const server = serve(w.guest, 7);
    const c = w.gateway.connect(GUEST_IP, 7);
    const r = collect(c);
    c.end();
    assert.ok(await w.run(() => server.ended === 1 && r.r.ended));
    await w.run(() => c.state === 'time-wait', 1_000_000);
    assert.equal(c.state, 'time-wait');
    const entered = w.now;
    assert.ok(await w.run(() => r.r.closed));
    assert.ok(w.now - entered >= TIME_WAIT_US - 1000 && w.now - entered <= TIME_WAIT_US + 1000, `TIME_WAIT lasted ${w.now - entered} µs`);
  });

  it('a connection to a port nothing listens on is refused by a reset', async () => {
    const w = new TcpWire();
    const c = w.gateway.connect(GUEST_IP, 8080);
    const r = collect(c);
    assert.ok(await w.run(() => r.r.closed));
    assert.equal(r.r.error?.code, 'refused');
    assert.equal(w.guest.stats.resetsSent, 1);
    assert.equal(w.gateway.connectionCount, 0);
  });

  it('answers ARP and ping for its address, and learns the asker', async () => {
    const got: Uint8Array[] = [];
    const ep = new HostEndpoint({ ip: NET.gateway, mac: NET.servicesMac, clockUs: () => 0, send: (f) => got.push(f) });
    const mac = macFromName('web');
    const arp = frames.arpPacket({ op: 1, senderMac: mac, senderIp: GUEST_IP, targetMac: new Uint8Array(6), targetIp: NET.gateway });
    assert.equal(ep.receive(frames.ethernetFrame(frames.BROADCAST_MAC, mac, frames.ETHERTYPE_ARP, arp)), true);
    const reply = frames.readArp(frames.readEthernet(got[0]!).payload);
    assert.deepEqual([reply.op, reply.senderIp, reply.targetIp, [...reply.senderMac]], [2, NET.gateway, GUEST_IP, [...NET.servicesMac]]);
    const other = frames.arpPacket({ op: 1, senderMac: mac, senderIp: GUEST_IP, targetMac: new Uint8Array(6), targetIp: NET.dns });
    assert.equal(ep.receive(frames.ethernetFrame(frames.BROADCAST_MAC, mac, frames.ETHERTYPE_ARP, other)), false, 'ARP for 10.0.2.3 is the services\' to answer');
    // Having learnt the guest, a connection's SYN goes straight to its MAC without an ARP request.
    got.length = 0;
    ep.connect(GUEST_IP, 80);
    const eth = frames.readEthernet(got[0]!);
    assert.deepEqual([...eth.dst], [...mac]);
    const ip = frames.readIpv4(eth.payload);
    assert.equal(readTcp(ip.payload, ip.src, ip.dst).flags, TCP_SYN);
  });

  it('a reader that stops closes the window; the sender waits (probing) and nothing is lost when it reads again', async () => {
    const w = new TcpWire();
    let server: TcpConnection | undefined;
    const chunks: Buffer[] = [];
    w.guest.listen(9000, (c) => {
      server = c;
      c.pause();
      c.onData = (b) => chunks.push(Buffer.from(b));
    });
    const c = w.gateway.connect(GUEST_IP, 9000);
    const data = new SeededRandom(7).bytes(1024 * 1024);
    let written = 0;
    const pump = () => {
      while (written < data.length) {
        const n = c.write(data.subarray(written, written + 8192));
        written += n;
        if (n === 0) return;
      }
      c.end();
    };
    c.onDrain = pump;
    pump();
    // Run 30 s of virtual time with the reader paused: the window closes, memory stays bounded.
    await w.run(() => false, 30_000_000);
    assert.equal(server!.heldForReader, RECV_WINDOW, 'the reader holds exactly one window');
    assert.ok(c.bufferedBytes <= SEND_BUFFER);
    assert.equal(written - c.bufferedBytes, RECV_WINDOW, 'the sender sent one window and kept the rest');
    assert.equal(chunks.length, 0);
    assert.ok(w.gateway.stats.retransmits > 0, 'zero-window probes went out');
    server!.resume();
    const done = await w.run(() => Buffer.concat(chunks).length === data.length);
    assert.ok(done, `got ${Buffer.concat(chunks).length} of ${data.length}`);
    assert.equal(sha(Buffer.concat(chunks)), sha(data));
  });

  it('carries 32 MiB intact over a link that drops 2% and reorders 5% of frames, retransmitting', async () => {
    const w = new TcpWire({ seed: 20261203, drop: 0.02, reorder: 0.05, reorderUs: 3000 });
    const data = new SeededRandom(99).bytes(32 * 1024 * 1024);
    const reply = new SeededRandom(100).bytes(1024 * 1024);
    const server = serve(w.guest, 5001, () => reply);
    const c = w.gateway.connect(GUEST_IP, 5001);
    const r = collect(c);
    writeAll(c, data, () => c.end());
    assert.ok(await w.run(() => r.r.closed), 'the transfer finished');
    assert.equal(r.r.error, undefined);
    assert.equal(server.got.length, 1);
    assert.equal(server.got[0]!.length, data.length);
    assert.equal(sha(server.got[0]!), sha(data), '32 MiB arrived intact');
    assert.equal(sha(r.data), sha(reply), 'the 1 MiB reply arrived intact');
    assert.ok(w.stats.dropped > 400 && w.stats.reordered > 1000, JSON.stringify(w.stats));
    assert.ok(w.gateway.stats.retransmits > 500, `the gateway retransmitted ${w.gateway.stats.retransmits} segments`);
    assert.ok(w.guest.stats.retransmits > 10, `the peer retransmitted ${w.guest.stats.retransmits} segments`);
  });

  it('gives up on a peer that vanished, with a timeout, after backing off', async () => {
    const w = new TcpWire();
    serve(w.guest, 80);
    const c = w.gateway.connect(GUEST_IP, 80);
    const r = collect(c);
    assert.ok(await w.run(() => c.state === 'established'));
    w.up = false;
    c.write(Buffer.from('hello'));
    const t0 = w.now;
    assert.ok(await w.run(() => r.r.closed));
    assert.equal(r.r.error?.code, 'timeout');
    assert.ok(w.now - t0 > 60_000_000, `gave up after ${(w.now - t0) / 1e6} s`);
    assert.equal(w.gateway.connectionCount, 0);
  });

  it('initial sequence numbers follow the clock and the addresses, never host time', () => {
    const isn = (now: number, port: number) => {
      const got: Uint8Array[] = [];
      const ep = new HostEndpoint({ ip: NET.gateway, mac: NET.servicesMac, clockUs: () => now, send: (f) => got.push(f) });
      ep.receive(frames.ethernetFrame(frames.BROADCAST_MAC, macFromName('web'), frames.ETHERTYPE_ARP, frames.arpPacket({ op: 1, senderMac: macFromName('web'), senderIp: GUEST_IP, targetMac: new Uint8Array(6), targetIp: NET.gateway })));
      ep.connect(GUEST_IP, port);
      const ip = frames.readIpv4(frames.readEthernet(got[1]!).payload);
      return readTcp(ip.payload, ip.src, ip.dst).seq;
    };
    assert.equal(isn(5_000_000, 80), isn(5_000_000, 80));
    assert.notEqual(isn(5_000_000, 80), isn(5_000_000, 81));
    assert.equal((isn(5_000_400, 80) - isn(5_000_000, 80)) >>> 0, 100, 'a 4 µs clock');
  });

  it('a SYN flood to a listening port fills the table to its bound and no further', () => {
    const sent: Uint8Array[] = [];
    const ep = new HostEndpoint({ ip: NET.gateway, mac: NET.servicesMac, clockUs: () => 0, send: (f) => sent.push(f) });
    ep.listen(80, () => {});
    const mac = macFromName('flood');
    for (let i = 0; i < MAX_CONNECTIONS * 4; i++) {
      const seg = tcpSegment(GUEST_IP, NET.gateway, { srcPort: 1024 + i, dstPort: 80, seq: i * 1000, ack: 0, flags: TCP_SYN, window: 1000, payload: new Uint8Array(0) });
      ep.receive(frames.ethernetFrame(NET.servicesMac, mac, frames.ETHERTYPE_IPV4, frames.ipv4Packet(GUEST_IP, NET.gateway, 6, seg)));
    }
    assert.equal(ep.connectionCount, MAX_CONNECTIONS);
    assert.equal(ep.stats.connectionsRefused, MAX_CONNECTIONS * 3);
    assert.equal(ep.stats.resetsSent, MAX_CONNECTIONS * 3);
  });
});
