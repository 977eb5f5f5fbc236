// Two appliances on one switch, driven through `romvisor boot SCENARIO.json` as a user runs
// it: `web` serves a file with busybox httpd, `client` fetches it by name with wget, pings
// web by name and asks the switch's DNS; the capture read by tcpdump shows the DHCP
// exchange and the HTTP GET; a deterministic run replays byte for byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-net-'));

/** The appliance's init brought eth0 up by DHCP before the prompt: show what it got. */
const CONFIGURE = 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"; hostname; cat /etc/resolv.conf; echo net-$((6*7))\n';

function twoGuests(time: 'deterministic' | 'realtime'): string {
  const path = join(dir, `web-client-${time}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      version: 1,
      guests: [
        {
          name: 'web',
          appliance: { builtin: 'base' },
          time,
          script: [
            { expect: '~ # ', timeout: 300 },
            { send: CONFIGURE },
            { expect: 'net-42', timeout: 60 },
            { send: 'mkdir -p /www; echo "served by $(cat /proc/sys/kernel/hostname) $((20+3))" > /www/index.html; httpd -h /www; echo httpd-$((1+1))\n' },
            { expect: 'httpd-2' },
          ],
        },
        {
          name: 'client',
          appliance: { builtin: 'base' },
          time,
          script: [
            { expect: '~ # ', timeout: 300 },
            { send: CONFIGURE },
            { expect: 'net-42', timeout: 60 },
            // web may still be starting httpd: try for a few seconds.
            { send: 'for i in 1 2 3 4 5 6 7 8; do wget -qO- http://web/index.html && break; sleep 1; done; echo fetch-$((2+2))\n' },
            { expect: 'served by web 23', timeout: 60 },
            { expect: 'fetch-4' },
            { send: 'ping -c 2 web\n' },
            { expect: '2 packets transmitted, 2 packets received, 0% packet loss', timeout: 60 },
            { send: 'nslookup web.romvisor; nslookup client; nslookup nosuch || echo lookup-$((3+3))\n' },
            { expect: 'lookup-6', timeout: 60 },
          ],
        },
      ],
    }),
  );
  return path;
}

function addressesIn(text: string): string[] {
  return [...text.matchAll(/inet (10\.0\.2\.\d+)/g)].map((m) => m[1]!);
}

describe('two appliances on the switch (romvisor boot SCENARIO.json)', () => {
  it('fetch a page, ping and resolve by name in deterministic time; the pcap shows DHCP and the GET; a second run replays byte for byte', async () => {
    const scenario = twoGuests('deterministic');
    const runs = [];
    for (const n of [1, 2]) {
      const logs = join(dir, `logs-${n}`);
      const pcap = join(dir, `run-${n}.pcap`);
      const r = await runCli(['boot', scenario, '--console-log', logs, '--pcap', pcap], { timeoutMs: 600_000 });
      assert.equal(r.code, 0, `run ${n}: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      runs.push({ r, logs, pcap, web: readFileSync(join(logs, 'web.log'), 'latin1'), client: readFileSync(join(logs, 'client.log'), 'latin1') });
    }
    const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];

    // Each guest's lines on the terminal behind its name; its log holds its own bytes only.
    // web's hostname is its name, from DHCP option 12.
    assert.match(a.r.stdout, /^\[client\] served by web 23\r?$/m);
    assert.match(a.client, /^client\r?$/m);
    assert.match(a.client, /^search romvisor\r?$/m);
    assert.match(a.client, /^nameserver 10\.0\.2\.3\r?$/m);
    assert.match(a.r.stdout, /^\[web\] httpd-2\r?$/m);
    assert.ok(!a.web.includes('fetch-4') && a.client.includes('fetch-4'), 'web.log has none of the client\'s console');
    assert.ok(!a.web.includes('[web]'), 'logs are raw console bytes, without the prefix');

    const [webIp] = addressesIn(a.web);
    const [clientIp] = addressesIn(a.client);
    assert.ok(webIp && clientIp && webIp !== clientIp, `each guest got an address of its own (${webIp}, ${clientIp})`);
    assert.match(a.client, new RegExp(`PING web \\(${webIp.replace(/\./g, '\\.')}\\)`));
    assert.match(a.client, new RegExp(`Name:\\s+web\\.romvisor\\s+Address:\\s+${webIp.replace(/\./g, '\\.')}`));
    // The resolver's search domain (romvisor, from DHCP) may complete the short name.
    assert.match(a.client, new RegExp(`Name:\\s+client(\\.romvisor)?\\s+Address:\\s+${clientIp.replace(/\./g, '\\.')}`));
    assert.match(a.client, /NXDOMAIN/);

    const dump = execFileSync('tcpdump', ['-nr', a.pcap, '-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const kind of ['Discover', 'Offer', 'Request', 'ACK']) assert.match(dump, new RegExp(`DHCP-Message \\(53\\), length 1: ${kind}`), `the capture has a DHCP ${kind}`);
    assert.match(dump, /Hostname \(12\), length 3: "web"/);
    const brief = execFileSync('tcpdump', ['-nr', a.pcap], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(brief, new RegExp(`${clientIp.replace(/\./g, '\\.')}\\.\\d+ > ${webIp.replace(/\./g, '\\.')}\\.80: .*HTTP: GET /index.html HTTP/1\\.1`));
    assert.match(brief, /HTTP: HTTP\/1\.[01] 200 OK/);

    assert.equal(b.web, a.web, 'web.log is byte-identical in the second run');
    assert.equal(b.client, a.client, 'client.log is byte-identical in the second run');
    assert.ok(readFileSync(a.pcap).equals(readFileSync(b.pcap)), 'so is the capture, stamped with guest time');
  });

  it('fetch a page by name in realtime too', async () => {
    const r = await runCli(['boot', twoGuests('realtime')], { timeoutMs: 600_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
    assert.match(r.stdout, /^\[client\] served by web 23\r?$/m);
    assert.match(r.stdout, /^\[client\] 2 packets transmitted, 2 packets received, 0% packet loss\r?$/m);
  });
});
