// Fuzzer for the host endpoint (src/net/host): mutated TCP/IP frames at 10.0.2.2 while
// real connections run both ways over a wire (tests/net/tcpWire.ts). The seeds are frames
// the two endpoints really exchanged (ARP, SYN, data, FIN, ACK, RST) and segments aimed
// at the live connections' sequence numbers; mutations flip bytes, cut, grow, set header
// fields (flags, sequence and acknowledgement numbers, data offset, window, options) and
// most of the time fix the checksums again so the damage reaches the TCP state machine.
// Nothing may throw out of the endpoint, every frame it sends must parse with good
// checksums, and what it holds stays bounded: connections, send buffers, held bytes.
// `fuzzHostEndpoint(count, seed)` is what `npm run fuzz -- --target net` calls.
import { NET, frames } from '../../src/net/index.ts';
import { IPPROTO_TCP, MAX_CONNECTIONS, RECV_WINDOW, SEND_BUFFER, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, readTcp, tcpSegment, type TcpConnection } from '../../src/net/host/index.ts';
import { SeededRandom, mix32 } from '../SeededRandom.ts';
import { TcpWire } from './tcpWire.ts';

export interface HostEndpointFuzzStats {
  cases: number;
  /** Frames the endpoint sent in answer to the fuzzer or the live connections, each checked. */
  sent: number;
  malformed: number;
  resets: number;
  peakConnections: number;
  peakHeldBytes: number;
  failures: string[];
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function checkSent(f: Uint8Array): string | undefined {
  try {
    const eth = frames.readEthernet(f);
    if (eth.type === frames.ETHERTYPE_ARP) {
      frames.readArp(eth.payload);
      return undefined;
    }
    const ip = frames.readIpv4(eth.payload);
    if (frames.internetChecksum(eth.payload.subarray(0, 20)) !== 0) return 'IPv4 header checksum wrong';
    if (ip.protocol === IPPROTO_TCP) readTcp(ip.payload, ip.src, ip.dst); // checks the TCP checksum
    return undefined;
  } catch (e) {
    return `a frame the endpoint sent does not parse: ${(e as Error).message}`;
  }
}

/** Rewrites the IPv4 header checksum and, for a whole TCP segment, the TCP checksum. */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return;
  const ihl = (f[14]! & 15) * 4;
  if (ihl < 20 || f.length < 14 + ihl) return;
  const v = view(f);
  v.setUint16(24, 0);
  v.setUint16(24, frames.internetChecksum(f.subarray(14, 14 + ihl)));
  const total = v.getUint16(16);
  if (f[23] !== IPPROTO_TCP || total < ihl + 20 || 14 + total > f.length) return;
  const tcp = f.subarray(14 + ihl, 14 + total);
  const src = v.getUint32(26);
  const dst = v.getUint32(30);
  tcp[16] = tcp[17] = 0;
  const sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_TCP + tcp.length;
  view(tcp).setUint16(16, frames.internetChecksum(tcp, sum));
}

function mutate(rnd: SeededRandom, f: Uint8Array, live: readonly TcpConnection[]): Uint8Array {
  let out: Uint8Array = f.slice();
  const n = rnd.int(1, 5);
  for (let i = 0; i < n; i++) {
    switch (rnd.weighted({ flip: 3, cut: 1, grow: 1, flags: 3, seq: 2, offset: 1, window: 1, option: 1 })) {
      case 'flip':
        if (out.length) out[rnd.below(out.length)] = rnd.u32() & 255;
        break;
      case 'cut':
        out = out.slice(0, rnd.below(out.length + 1));
        break;
      case 'grow': {
        const g = new Uint8Array(out.length + rnd.int(1, 1500));
        g.set(out);
        for (let j = out.length; j < g.length; j++) g[j] = rnd.u32() & 255;
        if (g.length >= 18) view(g).setUint16(16, Math.min(0xffff, g.length - 14)); // the IPv4 length claims it
        out = g;
        break;
      }
      case 'flags':
        if (out.length > 47) out[47] = rnd.pick([TCP_SYN, TCP_SYN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK, TCP_FIN | TCP_ACK, TCP_ACK, TCP_PSH | TCP_ACK, 0, 0xff, rnd.u32() & 255]);
        break;
      case 'seq':
        // Sequence and acknowledgement numbers near, inside and past the live windows.
        if (out.length > 45) {
          const at = rnd.pick([38, 42]);
          const base = view(out).getUint32(at);
          view(out).setUint32(at, (base + rnd.pick([0, 1, -1, 1460, -1460, 65535, 65536, 0x7fffffff, rnd.u32()])) >>> 0);
        }
        break;
      case 'offset':
        if (out.length > 46) out[46] = (rnd.int(0, 15) << 4) | (out[46]! & 15);
        break;
      case 'window':
        if (out.length > 49) view(out).setUint16(48, rnd.pick([0, 1, 536, 65535, rnd.below(65536)]));
        break;
      case 'option':
        if (out.length > 58) {
          out[46] = 0x60 | (out[46]! & 15);
          out.set([rnd.pick([0, 1, 2, 3, 4, 8, 255]), rnd.pick([0, 1, 2, 4, 40, 255]), rnd.u32() & 255, rnd.u32() & 255], 54);
        }
        break;
    }
  }
  if (live.length && rnd.chance(0.1)) {
    // Aim exactly at a live connection: its ports, the sequence number it expects.
    const c = rnd.pick(live);
    const seg = tcpSegment(c.remote.ip, c.local.ip, {
      srcPort: c.remote.port, dstPort: c.local.port, seq: rnd.u32(), ack: rnd.u32(), flags: rnd.u32() & 0x3f, window: rnd.below(65536), payload: rnd.bytes(rnd.below(100)),
    });
    out = frames.ethernetFrame(NET.servicesMac, f.length >= 12 ? f.slice(6, 12) : new Uint8Array(6), frames.ETHERTYPE_IPV4, frames.ipv4Packet(c.remote.ip, c.local.ip, IPPROTO_TCP, seg));
  }
  if (rnd.chance(0.8)) fixChecksums(out);
  return out;
}

export async function fuzzHostEndpoint(count: number, seed: number): Promise<HostEndpointFuzzStats> {
  const stats: HostEndpointFuzzStats = { cases: 0, sent: 0, malformed: 0, resets: 0, peakConnections: 0, peakHeldBytes: 0, failures: [] };
  const rnd = new SeededRandom(mix32(seed));
  const w = new TcpWire({ seed, drop: 0.01, reorder: 0.02 });
  const seeds: Uint8Array[] = [];
  w.tap = (f, from) => {
    if (from === w.guest) {
      if (seeds.length < 2000) seeds.push(f);
      return;
    }
    stats.sent++;
    const problem = checkSent(f);
    if (problem && stats.failures.length < 50) stats.failures.push(problem);
  };
  // Live traffic both ways: the guest fetches from the gateway's echo server (which
  // sometimes stops reading), the gateway sends to the guest's sink.
  w.gateway.listen(80, (c) => {
    c.onData = (b) => {
      try {
        c.write(b);
      } catch {
        // the fuzzer closed it under us: fine
      }
      if (rnd.chance(0.05)) c.pause();
    };
    c.onEnd = () => c.end();
  });
  w.guest.listen(9, (c) => (c.onData = () => {}));
  const open = () => {
    try {
      const a = w.guest.connect(NET.gateway, 80);
      a.onConnect = () => a.write(rnd.bytes(rnd.int(1, 20000)));
      const b = w.gateway.connect(w.guest.ip, 9);
      b.onConnect = () => b.write(rnd.bytes(rnd.int(1, 20000)));
    } catch {
      // the table may be full of the fuzzer's connections: that is the bound at work
    }
  };
  open();
  await w.run(() => false, 50_000);
  for (let c = 0; c < count; c++) {
    stats.cases++;
    const base = seeds.length ? rnd.pick(seeds) : new Uint8Array(60);
    const frame = mutate(rnd, base, w.gateway.connections);
    try {
      w.gateway.receive(frame);
    } catch (e) {
      stats.failures.push(`case ${c} (seed ${seed}): ${(e as Error)?.stack ?? String(e)}`);
    }
    if (c % 50 === 0) {
      for (const conn of w.gateway.connections) if (rnd.chance(0.3)) conn.resume();
      if (c % 500 === 0) open();
      await w.run(() => false, rnd.int(100, 3_000_000));
    }
    const conns = w.gateway.connections;
    stats.peakConnections = Math.max(stats.peakConnections, conns.length);
    let held = 0;
    for (const conn of conns) {
      held += conn.heldForReader;
      if (conn.heldForReader > RECV_WINDOW || conn.bufferedBytes > SEND_BUFFER) stats.failures.push(`case ${c}: a connection holds ${conn.heldForReader} received and ${conn.bufferedBytes} unsent bytes`);
    }
    stats.peakHeldBytes = Math.max(stats.peakHeldBytes, held);
    if (conns.length > MAX_CONNECTIONS) stats.failures.push(`case ${c}: ${conns.length} connections, more than ${MAX_CONNECTIONS}`);
    if (stats.failures.length > 50) break;
  }
  await w.run(() => false, 10_000_000);
  stats.malformed = w.gateway.stats.malformed;
  stats.resets = w.gateway.stats.resetsSent;
  return stats;
}
