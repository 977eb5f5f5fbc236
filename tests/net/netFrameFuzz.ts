// Fuzzer for the switch and its services: frames a guest could send (DHCP, DNS, ARP, ping,
// random Ethernet) with bytes flipped, cut short or grown, sent through a switch with two
// VM ports. Nothing may throw out of the switch, every malformed frame must end counted
// (dropped), and every reply the services send must itself parse as Ethernet/IPv4 or ARP.
// `fuzzNetFrames(count, seed)` is what `npm run fuzz` calls; netFrameFuzz.test.ts runs 2,000.
import { DHCP, EthernetSwitch, NET, frames, macFromName } from '../../src/net/index.ts';
import { arpRequest, dhcpFrame, dhcpMessage, dnsFrame, dnsQuery, pingFrame, u32 } from './netClient.ts';
import { SeededRandom, mix32 } from '../SeededRandom.ts';

export interface NetFrameFuzzStats {
  cases: number;
  /** Replies the services sent, each checked. */
  replies: number;
  malformed: number;
  failures: string[];
}

function seedFrame(rnd: SeededRandom, mac: Uint8Array, address: number): Uint8Array {
  switch (rnd.weighted({ discover: 2, request: 2, dns: 3, arp: 1, ping: 1, random: 1 })) {
    case 'discover':
      return dhcpFrame(mac, dhcpMessage(mac, DHCP.DISCOVER, rnd.u32(), [], rnd.chance(0.5)));
    case 'request':
      return dhcpFrame(mac, dhcpMessage(mac, DHCP.REQUEST, rnd.u32(), [[50, u32(rnd.chance(0.7) ? address : rnd.u32())], [54, u32(NET.gateway)]]));
    case 'dns':
      return dnsFrame(mac, address, dnsQuery(rnd.below(65536), rnd.pick(['web', 'client.romvisor', 'nosuch', 'a.b.c.d', '']), rnd.pick([1, 28, 255, 12])));
    case 'arp':
      return arpRequest(mac, address, rnd.pick([NET.gateway, NET.dns, rnd.u32()]));
    case 'ping':
      return pingFrame(mac, NET.servicesMac, address, rnd.pick([NET.gateway, NET.dns]), rnd.below(256));
    default: {
      const f = new Uint8Array(rnd.int(0, 1600));
      for (let i = 0; i < f.length; i++) f[i] = rnd.u32() & 255;
      return f;
    }
  }
}

function mutate(rnd: SeededRandom, f: Uint8Array): Uint8Array {
  let out = f.slice();
  const n = rnd.int(0, 6);
  for (let i = 0; i < n; i++) {
    switch (rnd.weighted({ flip: 5, cut: 2, grow: 1, field: 2 })) {
      case 'flip':
        if (out.length) out[rnd.below(out.length)] = rnd.u32() & 255;
        break;
      case 'cut':
        out = out.slice(0, rnd.below(out.length + 1));
        break;
      case 'grow': {
        const g = new Uint8Array(out.length + rnd.int(1, 64));
        g.set(out);
        out = g;
        break;
      }
      case 'field':
        // Lengths and counts: IPv4 total length, IHL, UDP length, DNS counts, DHCP option lengths.
        if (out.length > 2) {
          const at = rnd.pick([14, 16, 17, 38, 39, 44, 45, 46, 47, 282, 283, 284, 285].filter((x) => x < out.length)) ?? 0;
          out[at] = rnd.pick([0, 1, 0x45, 0x4f, 0x7f, 0xc0, 0xff]);
        }
        break;
    }
  }
  return out;
}

function checkReply(f: Uint8Array): string | undefined {
  try {
    const eth = frames.readEthernet(f);
    if (eth.type === frames.ETHERTYPE_ARP) frames.readArp(eth.payload);
    else {
      const ip = frames.readIpv4(eth.payload);
      if (frames.internetChecksum(eth.payload.subarray(0, 20)) !== 0) return 'IPv4 header checksum wrong';
      if (ip.protocol === frames.IPPROTO_UDP) frames.readUdp(ip.payload);
    }
    return undefined;
  } catch (e) {
    return `reply does not parse: ${(e as Error).message}`;
  }
}

export function fuzzNetFrames(count: number, seed: number): NetFrameFuzzStats {
  const stats: NetFrameFuzzStats = { cases: 0, replies: 0, malformed: 0, failures: [] };
  const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0 });
  // The longest VM name a switch takes (63, one DNS label) too: the services' replies grow with it.
  const names = ['web', 'client', `long-${'n'.repeat(58)}`];
  const ports = names.map((n) =>
    sw.attach('vm', n, (f, from) => {
      if (from.kind !== 'services') return;
      stats.replies++;
      const problem = checkReply(f);
      if (problem) stats.failures.push(`reply to ${n}: ${problem}`);
    }),
  );
  for (let c = 0; c < count; c++) {
    const rnd = new SeededRandom(mix32(seed + c));
    stats.cases++;
    const i = rnd.below(names.length);
    const port = ports[i]!;
    const frame = mutate(rnd, seedFrame(rnd, macFromName(names[i]!), port.address!));
    try {
      port.send(frame);
      sw.pump();
    } catch (e) {
      stats.failures.push(`case ${c} (seed ${seed}): ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  stats.malformed = sw.services.stats.malformed;
  return stats;
}
