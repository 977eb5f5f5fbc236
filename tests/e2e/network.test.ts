/**
 * Two VMs on the server's switch in real Chromium, as a user meets them: `web` serves a file
 * with busybox httpd, `client` fetches it by name with wget and pings `web` by name; each
 * card shows the address the switch's DHCP gave it and its frame counters; the Capture
 * button downloads the switch's traffic as a classic pcap holding the HTTP GET. A
 * deterministic two-guest scenario runs in the page on a switch of its own, in lockstep, and
 * each guest's console is byte-identical to its `--console-log` from `romvisor boot`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { encodeScenarioUrl, type ConsoleStep, type Scenario } from '../../src/scenario/index.ts';
import { runCli } from '../boot/runCli.ts';
import { atPrompt, consoleText, hvCommand, newPage, powerOn, shot, startEnv, typeInVm, vmState, waitFor, waitForConsole, waitForHvConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let context: BrowserContext;
let page: Page;

before(async () => {
  env = await startEnv();
  // Downloads stay in the browser's own temporary folder, read from there.
  context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
});

after(async () => {
  await context?.close();
  await env?.close();
});

/** What a VM's card shows for `metric` (address, rx, tx, dropped). */
function metric(p: Page, vm: string, name: string): Promise<string> {
  return p.$eval(`[data-vm="${vm}"] [data-metric="${name}"]`, (e) => e.textContent ?? '');
}

interface PcapFile {
  magic: number;
  linkType: number;
  frames: Uint8Array[];
}

/** Reads a classic little-endian pcap whole; throws if a record runs past the end. */
function readPcap(bytes: Buffer): PcapFile {
  assert.ok(bytes.length >= 24, `a pcap has a 24-byte header; got ${bytes.length} bytes`);
  const frames: Uint8Array[] = [];
  let at = 24;
  while (at < bytes.length) {
    assert.ok(at + 16 <= bytes.length, `record header at ${at} runs past the end (${bytes.length})`);
    const incl = bytes.readUInt32LE(at + 8);
    const orig = bytes.readUInt32LE(at + 12);
    assert.ok(incl <= orig && at + 16 + incl <= bytes.length, `record at ${at}: incl_len ${incl}, orig_len ${orig}, file ${bytes.length}`);
    frames.push(bytes.subarray(at + 16, at + 16 + incl));
    at += 16 + incl;
  }
  return { magic: bytes.readUInt32LE(0), linkType: bytes.readUInt32LE(20), frames };
}

/**
 * A scenario of two base guests: `web` serves "served by NAME 23" with busybox httpd, `client`
 * fetches it by name (retrying while httpd starts) and then plays `after`.
 */
function webAndClient(title: string, time: 'deterministic' | 'realtime', web: string, client: string, after: ConsoleStep[]): Scenario {
  const guest = (name: string, script: ConsoleStep[]) => ({ name, appliance: { builtin: 'base' }, memoryMiB: 128, cmdline: '', time, script }) as const;
  return {
    version: 1,
    title,
    notes: '',
    view: ['console'],
    guests: [
      guest(web, [
        { expect: '~ # ', timeout: 300 },
        { send: 'mkdir -p /www; echo "served by $(hostname) $((20+3))" > /www/index.html; httpd -h /www; echo httpd-$((1+1))\n' },
        { expect: 'httpd-2' },
      ]),
      guest(client, [
        { expect: '~ # ', timeout: 300 },
        { send: `for i in 1 2 3 4 5 6 7 8; do wget -qO- http://${web}/index.html && break; sleep 1; done; echo fetch-$((2+2))\n` },
        { expect: `served by ${web} 23`, timeout: 60 },
        ...after,
      ]),
    ],
  };
}

describe('the network in the page', () => {
  test('two VMs talk by name: ping, an HTTP fetch, addresses and counters on the cards', async () => {
    page = await newPage(env, context);
    await powerOn(page);
    await hvCommand(page, 'new base web');
    await hvCommand(page, 'new base client');
    await page.waitForSelector('[data-vm="web"]', { timeout: 60_000 });
    await page.waitForSelector('[data-vm="client"]', { timeout: 60_000 });
    await hvCommand(page, 'start web');
    await vmState(page, 'web', 'running');
    await hvCommand(page, 'start client');
    await vmState(page, 'client', 'running');
    await waitForConsole(page, 'web', atPrompt, 120_000);
    await waitForConsole(page, 'client', atPrompt, 120_000);

    await typeInVm(page, 'web', 'mkdir -p /www; echo "served by $(hostname) $((20+3))" > /www/index.html; httpd -h /www; echo httpd-$((1+1))\n');
    await waitForConsole(page, 'web', (t) => t.includes('httpd-2'), 30_000);

    // The address the guest configured is the one its card shows (the switch's DHCP lease).
    await typeInVm(page, 'client', 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"; echo addr-$((3*3))\n');
    const shown = await waitForConsole(page, 'client', (t) => /inet 10\.0\.2\.\d+[\s\S]*addr-9/.test(t), 30_000);
    const guestAddress = /inet (10\.0\.2\.\d+)/.exec(shown)![1]!;
    assert.equal(await metric(page, 'client', 'address'), guestAddress);
    assert.match(await metric(page, 'web', 'address'), /^10\.0\.2\.\d+$/);
    assert.notEqual(await metric(page, 'web', 'address'), guestAddress);

    await typeInVm(page, 'client', 'for i in 1 2 3 4 5; do wget -qO- http://web/index.html && break; sleep 1; done; echo fetch-$((2+2))\n');
    const fetched = await waitForConsole(page, 'client', (t) => /fetch-4\s*$/.test(t.trimEnd()) || t.includes('fetch-4\r\n') || t.includes('fetch-4\n'), 60_000);
    assert.match(fetched, /served by web 23/);

    await typeInVm(page, 'client', 'ping -c 2 web; echo ping-$((5+5))\n');
    const pinged = await waitForConsole(page, 'client', (t) => t.includes('ping-10'), 60_000);
    assert.match(pinged, /PING web \(10\.0\.2\.\d+\)/);
    assert.match(pinged, /2 packets transmitted, 2 packets received, 0% packet loss/);
    await shot(page, 'net-01-two-vms-talk');

    // The counters follow the traffic, refreshed with the stats.
    const rx = Number(await waitFor('client rx frames on its card', async () => Number(await metric(page, 'client', 'rx')) >= 4 && (await metric(page, 'client', 'rx')), 10_000));
    assert.ok(rx >= 4, `client received ${rx} frames`);
    assert.ok(Number(await metric(page, 'web', 'tx')) >= 4);
    assert.match(await metric(page, 'web', 'dropped'), /^\d+$/);
    await hvCommand(page, 'info client');
    await waitForHvConsole(page, (t) => new RegExp(`network: ${guestAddress.replace(/\./g, '\\.')}; rx \\d+ tx \\d+ frames`).test(t), 10_000);
  });

  test('the Capture button downloads the switch traffic as a pcap with the HTTP GET', async () => {
    const download = page.waitForEvent('download');
    await page.click('[data-action="capture"]');
    const d = await download;
    assert.match(d.suggestedFilename(), /^romvisor-.*\.pcap$/);
    const file = await d.path();
    const pcap = readPcap(readFileSync(file));
    assert.equal(pcap.magic, 0xa1b2c3d4);
    assert.equal(pcap.linkType, 1, 'link type Ethernet');
    assert.ok(pcap.frames.length >= 10, `${pcap.frames.length} frames`);
    const text = pcap.frames.map((f) => Buffer.from(f).toString('latin1'));
    assert.ok(text.some((t) => t.includes('GET /index.html HTTP/1.')), 'the capture holds the HTTP GET');
    assert.ok(text.some((t) => t.includes('served by web 23')), 'and the page it answered');
    // The ping: IPv4 (0x0800) carrying ICMP (protocol 1) echo requests.
    assert.ok(pcap.frames.some((f) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && f[34] === 8), 'an ICMP echo request');
    // The management console's command gives the same file.
    const again = page.waitForEvent('download');
    await hvCommand(page, 'capture');
    await waitForHvConsole(page, (t) => /captured romvisor-.*\.pcap: \d+ frames/.test(t), 10_000);
    assert.match((await again).suggestedFilename(), /\.pcap$/);
    assert.ok(!(await consoleText(page, 'web')).includes('no network'));
  });

  test('a deterministic two-guest scenario talks by name in the page and prints what romvisor boot prints, byte for byte', async () => {
    const scenario = webAndClient('web and client', 'deterministic', 'web', 'client', [
      { expect: 'fetch-4' },
      // The round-trip times ping prints are guest time: they pin when each frame
      // crossed, so a page that moved frames at other points would print other bytes.
      { send: 'ping -c 3 web\n' },
      { expect: '3 packets transmitted, 3 packets received, 0% packet loss', timeout: 60 },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'romvisor-net-e2e-'));
    try {
      const file = join(dir, 'web-client.json');
      writeFileSync(file, JSON.stringify(scenario));
      // The CLI's run goes alongside the page's (the machine has few cores).
      const cli = runCli(['boot', file, '--console-log', join(dir, 'logs'), '--pcap', join(dir, 'cli.pcap')], { timeoutMs: 600_000 });
      cli.catch(() => {});
      const link = encodeScenarioUrl(scenario, env.url);
      const run = await newPage(env, context);
      await run.goto(link);
      await run.click('[data-action="run-scenario"]', { timeout: 60_000 });
      const transcript = (i: number) => run.evaluate(`globalThis.__romvisorScenario?.transcript(${i})`) as Promise<{ text: string; atScriptEnd?: number } | undefined>;
      await waitFor('both guests to reach their scripts\' ends in the page', async () => (await transcript(0))?.atScriptEnd !== undefined && (await transcript(1))?.atScriptEnd !== undefined, 600_000, 500);
      const r = await cli;
      assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
      for (const [i, name] of ['web', 'client'].entries()) {
        const fromCli = readFileSync(join(dir, 'logs', `${name}.log`), 'latin1');
        // The CLI stops at the end of the quantum where the last script ended; the page's
        // guests run on, so the page holds at least as much.
        const inPage = await waitFor(`${name}'s console in the page to reach the CLI's length`, async () => {
          const t = await transcript(i);
          return t && t.text.length >= fromCli.length ? t.text.slice(0, fromCli.length) : undefined;
        }, 120_000);
        if (inPage !== fromCli) {
          let k = 0;
          while (k < fromCli.length && inPage[k] === fromCli[k]) k++;
          assert.fail(`${name}: the consoles differ at byte ${k} of ${fromCli.length}:\n  cli:  ${JSON.stringify(fromCli.slice(Math.max(0, k - 80), k + 80))}\n  page: ${JSON.stringify(inPage.slice(Math.max(0, k - 80), k + 80))}`);
        }
      }
      // The scenario's capture is stamped with guest time: the CLI's --pcap, frame for frame
      // (the page's guests ran on, so its capture may go further).
      const fromCliPcap = readFileSync(join(dir, 'cli.pcap')).toString('latin1');
      const pagePcap = (await run.evaluate('globalThis.__romvisorScenario?.capture()')) as string | undefined;
      assert.ok(fromCliPcap.length > 24 + 16 * 10, `the CLI captured frames (${fromCliPcap.length} bytes)`);
      assert.ok(pagePcap !== undefined && pagePcap.length >= fromCliPcap.length, `the page captured as much (${pagePcap?.length} bytes)`);
      assert.ok(pagePcap.slice(0, fromCliPcap.length) === fromCliPcap, 'the page\'s capture is the CLI\'s, byte for byte');
      const saved = run.waitForEvent('download');
      await run.click('[data-action="scenario-capture"]');
      const d = await saved;
      assert.equal(d.suggestedFilename(), 'web-and-client.pcap');
      assert.ok(readFileSync(await d.path()).toString('latin1').startsWith(fromCliPcap), 'the Capture button downloads it');
      const client = readFileSync(join(dir, 'logs', 'client.log'), 'latin1');
      assert.match(client, /served by web 23/);
      assert.match(client, /seq=2 ttl=64 time=\d+\.\d+ ms/);
      // The scenario's cards show the leases of its own switch.
      const ip = /net: eth0 (10\.0\.2\.\d+), hostname client/.exec(client)?.[1];
      assert.ok(ip, 'the client printed its DHCP address at boot');
      await waitFor('the client card to show its address', async () => (await metric(run, 'client', 'address')) === ip, 10_000);
      await shot(run, 'net-02-deterministic-scenario');
      await run.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a realtime scenario's guests join the server's switch: they talk by name and its Capture holds their traffic", async () => {
    const scenario = webAndClient('realtime pair', 'realtime', 'rt-web', 'rt-client', []);
    const run = await newPage(env, context);
    await run.goto(encodeScenarioUrl(scenario, env.url));
    await run.click('[data-action="run-scenario"]', { timeout: 60_000 });
    await waitFor('the realtime scenario to pass', async () => {
      const phase = (await run.evaluate('globalThis.__romvisorScenario?.phase()')) as string;
      if (phase === 'failed') throw new Error(`the scenario failed: ${await run.locator('[data-scenario-status]').innerText()}`);
      return phase === 'passed';
    }, 300_000);
    // On the server's switch: its Capture (not the scenario's own) holds the fetch.
    const download = run.waitForEvent('download');
    await run.click('[data-action="capture"]');
    const pcap = readPcap(readFileSync(await (await download).path()));
    const text = pcap.frames.map((f) => Buffer.from(f).toString('latin1'));
    assert.ok(text.some((t) => t.includes('served by rt-web 23')), "the server's capture holds the page web served");
    await waitFor("the client card to show its lease from the server's DHCP", async () => /^10\.0\.2\.\d+$/.test(await metric(run, 'rt-client', 'address')), 10_000);
    await run.close();
  });
});
