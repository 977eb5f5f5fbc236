/**
 * "Open port…" on a VM card in real Chromium: the sqlite appliance's web page (busybox httpd
 * started by its init) shown in the card through the server switch's host endpoint; a link
 * and a form reach its CGI, whose query result shows. Isolation: a guest page whose script
 * tries to open the playground's IndexedDB ("romvisor", which the page itself holds open)
 * and to read the playground's document is refused both, because the frame is sandboxed
 * without allow-same-origin. The packet panel shows the handshake of the view's fetch.
 */
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { atPrompt, hvCommand, newPage, powerOn, shot, startEnv, typeInVm, vmState, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

let env: E2eEnv;
let page: Page;

before(async () => (env = await startEnv()));
after(() => env?.close());

const frameText = (f: FrameLocator) => f.locator('body').innerText({ timeout: 30_000 });

/** Waits for the view to show `path`; on a timeout, says what the view's status line said. */
async function loaded(path: string): Promise<void> {
  try {
    await page.waitForSelector(`[data-vm="web"] .guest-web[data-loaded="${path}"]`, { timeout: 60_000 });
  } catch (e) {
    const status = await page.textContent('[data-vm="web"] [data-guest-web-status]').catch(() => '?');
    const field = await page.inputValue('[data-vm="web"] .guest-web-path').catch(() => '?');
    const frames = page.frames().map((f) => f.url()).join(' ');
    throw new Error(`${path} not shown; the view says: ${status}, path field ${field}, frames ${frames}`, { cause: e });
  }
}

describe('Open port', () => {
  test('shows the sqlite appliance\'s page; a link and a form reach its CGI query', async () => {
    page = await newPage(env, undefined, { width: 1280, height: 1000 });
    await powerOn(page);
    await hvCommand(page, 'new sqlite web');
    await page.waitForSelector('[data-vm="web"]', { timeout: 60_000 });
    await hvCommand(page, 'start web');
    await vmState(page, 'web', 'running');
    await waitForConsole(page, 'web', (t) => t.includes('httpd: serving /www on port 80') && atPrompt(t), 180_000);
    await page.click('[data-vm="web"] details.menu > summary');
    await page.click('[data-vm="web"] [data-action="open-port"]');
    await loaded('/');
    const frame = page.frameLocator('[data-vm="web"] .guest-web-frame');
    assert.match(await frameText(frame), /romvisor SQLite appliance/);
    assert.equal(await page.getAttribute('[data-vm="web"] .guest-web-frame', 'sandbox'), 'allow-scripts allow-forms');

    // Clicks are dispatched in the frame: a mouse click aims at page coordinates, and the
    // card above the frame changes height as console lines and counters arrive.
    await frame.locator('a', { hasText: 'at least 10 moons' }).dispatchEvent('click');
    await loaded('/cgi-bin/planets?moons=10');
    const tenMoons = await frameText(frame);
    assert.match(tenMoons, /query result: 4 planets \(sqlite3 3\.40\.1 on web\)/);
    assert.match(tenMoons, /Saturn\s+58232\.0\s+146/);
    await shot(page, 'open-port-01-query');

    await frame.locator('a', { hasText: 'back' }).dispatchEvent('click');
    await loaded('/');
    await frame.locator('input[name="moons"]').fill('100');
    await frame.locator('button[type="submit"]').dispatchEvent('click');
    await loaded('/cgi-bin/planets?moons=100');
    assert.match(await frameText(frame), /query result: 1 planets/);
  });

  test('a guest page cannot open the playground\'s IndexedDB nor reach its document', async () => {
    // The playground's own database exists: the refusal below is the sandbox, not a missing database.
    const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok(names.includes('romvisor'), `the playground's databases: ${names.join(', ')}`);
    await typeInVm(
      page,
      'web',
      "cat > /www/iso.html <<'EOF'\n" +
        '<p id="idb">idb pending</p><p id="top">top pending</p><script>\n' +
        'const show = (id, t) => { document.getElementById(id).textContent = t; };\n' +
        'try { const q = indexedDB.open("romvisor"); q.onsuccess = () => show("idb", "idb opened " + q.result.objectStoreNames.length); q.onerror = () => show("idb", "idb refused " + q.error.name); } catch (e) { show("idb", "idb refused " + e.name); }\n' +
        'try { show("top", "top read " + parent.document.title); } catch (e) { show("top", "top refused " + e.name); }\n' +
        '</script>\nEOF\necho iso-$((4+4))\n',
    );
    await waitForConsole(page, 'web', (t) => t.includes('iso-8'), 30_000);
    await page.fill('[data-vm="web"] .guest-web-path', '/iso.html');
    await page.click('[data-vm="web"] [data-action="guest-web-go"]');
    await loaded('/iso.html');
    const frame = page.frameLocator('[data-vm="web"] .guest-web-frame');
    const text = await waitFor('the guest page\'s verdicts', async () => {
      const t = await frameText(frame);
      return !t.includes('pending') && t;
    }, 30_000);
    assert.match(text, /idb refused SecurityError/);
    assert.match(text, /top refused SecurityError/);
    assert.doesNotMatch(text, /opened|top read/);
    await shot(page, 'open-port-02-isolation');
  });

  test('the packet panel shows the TCP handshake of a fetch, filtered by VM and protocol, and freezes', async () => {
    await page.click('[data-action="packets"]');
    await page.waitForSelector('.packet-panel');
    await page.selectOption('.packet-vm', 'web');
    await page.selectOption('.packet-proto', 'TCP');
    await page.click('[data-vm="web"] [data-action="guest-web-go"]');
    await loaded('/iso.html');
    const lines = () => page.$$eval('.packet-list .packet', (els) => els.map((e) => e.textContent ?? ''));
    const got = await waitFor('the fetch in the packet panel', async () => {
      const l = await lines();
      return l.some((t) => /\| HTTP\/1\.[01] 200/.test(t)) && l;
    }, 30_000);
    // The gateway (the page's fetch) opens the connection to web's port 80: SYN, SYN|ACK, ACK.
    const syn = got.findIndex((t) => / TCP 10\.0\.2\.2:\d+ > 10\.0\.2\.\d+:80 SYN seq 0 win 65535$/.test(t));
    assert.ok(syn >= 0, got.join('\n'));
    assert.match(got[syn + 1]!, / TCP 10\.0\.2\.\d+:80 > 10\.0\.2\.2:\d+ SYN\|ACK seq 0 ack 1 win \d+$/);
    assert.match(got[syn + 2]!, / TCP 10\.0\.2\.2:\d+ > 10\.0\.2\.\d+:80 (PSH\|)?ACK seq 1 ack 1 win 65535/);
    assert.ok(got.some((t) => t.includes('| GET /iso.html HTTP/1.0')), got.join('\n'));
    assert.ok(got.every((t) => / TCP /.test(t)), 'only TCP lines with the TCP filter');
    await shot(page, 'open-port-03-packets');

    // Frozen, the list stands still while traffic goes on; thawed, it shows what came.
    await page.click('[data-action="packets-freeze"]');
    const frozen = (await lines()).length;
    await page.click('[data-vm="web"] [data-action="guest-web-reload"]');
    await page.waitForSelector('.packet-count:has-text("new")', { timeout: 30_000 });
    assert.equal((await lines()).length, frozen);
    await page.click('[data-action="packets-freeze"]');
    await waitFor('the lines after thawing', async () => (await lines()).length > frozen, 10_000);
    // Another protocol: the DHCP exchange of web's boot is there (the panel opened after it: nothing).
    await page.selectOption('.packet-proto', 'ARP');
    assert.ok((await lines()).every((t) => t.includes(' ARP ')));
  });

  test('a scenario with view "packets": a client fetches from web, the handshake in the panel; Open port on the scenario guest', async () => {
    const scenario = {
      version: 1,
      title: 'One machine serves a page, the other fetches it',
      view: ['console', 'packets'],
      guests: [
        { name: 'www', appliance: { builtin: 'sqlite' }, time: 'realtime', script: [{ expect: '~ # ', timeout: 300 }] },
        {
          name: 'client',
          appliance: { builtin: 'base' },
          time: 'realtime',
          script: [
            { expect: '~ # ', timeout: 300 },
            { send: 'for i in 1 2 3 4 5 6 7 8; do wget -qO- "http://www/cgi-bin/planets?moons=10" && break; sleep 1; done; echo fetched-$((3+4))\n' },
            { expect: 'fetched-7', timeout: 120 },
          ],
        },
      ],
    };
    const p = await newPage(env, undefined, { width: 1280, height: 1000 });
    await p.goto(`${env.url}#s=${deflateRawSync(Buffer.from(JSON.stringify(scenario))).toString('base64url')}`);
    await p.click('[data-action="run-scenario"]');
    await p.waitForSelector('.packet-panel', { timeout: 60_000 });
    const lines = () => p.$$eval('.packet-list .packet', (els) => els.map((e) => e.textContent ?? ''));
    const got = await waitFor('the client\'s fetch in the packet panel', async () => {
      const l = await lines();
      return l.some((t) => /\| HTTP\/1\.[01] 200/.test(t)) && l;
    }, 300_000);
    const syn = got.findIndex((t) => / TCP (10\.0\.2\.\d+):\d+ > 10\.0\.2\.\d+:80 SYN seq 0 win \d+$/.test(t) && !t.includes(' TCP 10.0.2.2:'));
    assert.ok(syn >= 0, got.join('\n'));
    assert.match(got.slice(syn + 1).join('\n'), / TCP 10\.0\.2\.\d+:80 > 10\.0\.2\.\d+:\d+ SYN\|ACK seq 0 ack 1 /);
    assert.ok(got.some((t) => t.includes('| GET /cgi-bin/planets?moons=10 HTTP/1.')), got.join('\n'));
    assert.ok(got.some((t) => / DNS query A www/.test(t)), 'the client looked www up first');
    await shot(p, 'open-port-04-scenario-packets');
    // The scenario's web guest is on the server's switch too: its card opens its page.
    await p.click('[data-vm="www"] details.menu > summary');
    await p.click('[data-vm="www"] [data-action="open-port"]');
    await p.waitForSelector('[data-vm="www"] .guest-web[data-loaded="/"]', { timeout: 60_000 });
    assert.match(await frameText(p.frameLocator('[data-vm="www"] .guest-web-frame')), /romvisor SQLite appliance/);
    await p.close();
  });
});
