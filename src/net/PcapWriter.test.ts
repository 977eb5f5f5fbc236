// The capture file as tcpdump reads it: the DHCP exchange, a DNS answer, ARP and ping that
// went through a switch, with the timestamps the switch's clock gave (guest time here).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DHCP, EthernetSwitch, NET, PcapWriter, macFromName } from './index.ts';
import { arpRequest, dhcpFrame, dhcpMessage, dnsFrame, dnsQuery, u32 } from '../../tests/net/netClient.ts';

describe('PcapWriter', () => {
  it('writes a classic libpcap file of the switch\'s frames that tcpdump -nr decodes', () => {
    const chunks: Uint8Array[] = [];
    const pcap = new PcapWriter((c) => chunks.push(c));
    let clock = 1_500_000; // 1.5 s of guest time
    const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => clock });
    sw.tap((f, t) => pcap.write(f, t));
    const web = sw.attach('vm', 'web', () => {});
    const mac = macFromName('web');
    web.send(dhcpFrame(mac, dhcpMessage(mac, DHCP.DISCOVER, 0xabcd)));
    sw.pump();
    clock += 250;
    web.send(dhcpFrame(mac, dhcpMessage(mac, DHCP.REQUEST, 0xabcd, [[50, u32(web.address!)], [54, u32(NET.gateway)]])));
    sw.pump();
    web.send(arpRequest(mac, web.address!, NET.dns));
    web.send(dnsFrame(mac, web.address!, dnsQuery(7, 'web.romvisor')));
    sw.pump();
    assert.equal(pcap.frames, 8);

    const dir = mkdtempSync(join(tmpdir(), 'romvisor-pcap-'));
    try {
      const file = join(dir, 'net.pcap');
      writeFileSync(file, Buffer.concat(chunks));
      const out = execFileSync('tcpdump', ['-nr', file, '-tt', '-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = out.split('\n');
      assert.match(out, /^1\.500000 IP \(.*\)\n\s+0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: BOOTP\/DHCP, Request from 52:54:00/m);
      assert.match(out, /DHCP-Message \(53\), length 1: Discover/);
      assert.match(out, /10\.0\.2\.2\.67 > 10\.0\.2\.\d+\.68: BOOTP\/DHCP, Reply/);
      assert.match(out, /DHCP-Message \(53\), length 1: Offer/);
      assert.match(out, /Hostname \(12\), length 3: "web"/);
      assert.match(out, /Domain-Name \(15\), length 8: "romvisor"/);
      assert.match(out, /DHCP-Message \(53\), length 1: ACK/);
      assert.match(out, /^1\.500250 ARP, .*Request who-has 10\.0\.2\.3/m);
      assert.match(out, /ARP, .*Reply 10\.0\.2\.3 is-at 52:55:0a:00:02:02/);
      assert.match(out, /10\.0\.2\.3\.53 > 10\.0\.2\.\d+\.40000: 7\*- 1\/0\/0 web\.romvisor\. A 10\.0\.2\.\d+/);
      assert.ok(!/bad cksum|wrong|truncated/i.test(out), `tcpdump found no checksum or length errors:\n${out}`);
      assert.ok(lines.length > 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
