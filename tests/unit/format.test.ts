import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSize } from '../../src/cli/parseSize.ts';
import { formatBytes } from '../../src/format/formatBytes.ts';
import { hex } from '../../src/format/hex.ts';
import { readFileSync } from 'node:fs';
import { isLoopbackHost, pageFetchProblem } from '../../src/format/loopbackHost.ts';

describe('the shared formatters', () => {
  it('hex prints bigints as unsigned 64-bit, negative numbers as unsigned 32-bit, offsets past 2^32 whole', () => {
    assert.equal(hex(0x80200000n), '0x80200000');
    assert.equal(hex(-1n), '0xffffffffffffffff');
    assert.equal(hex(-1), '0xffffffff');
    assert.equal(hex(0x1_0000_0200), '0x100000200');
    assert.equal(hex(0x13, 8), '0x00000013');
  });

  it('parseSize takes every suffix the CLI documents and refuses the rest', () => {
    assert.equal(parseSize('65536'), 65536);
    assert.equal(parseSize('512k'), 512 * 1024);
    assert.equal(parseSize('256M'), 256 << 20);
    assert.equal(parseSize('1GiB'), 1 << 30);
    assert.equal(parseSize('1Gi'), 1 << 30);
    assert.equal(parseSize('2 T'), 2 * 1024 ** 4);
    assert.equal(parseSize('4096B'), 4096);
    assert.equal(parseSize('lots'), undefined);
    assert.equal(parseSize('1.5G'), undefined);
    assert.equal(parseSize('99999999999999999999'), undefined);
  });

  it('formatBytes rounds to a readable binary unit', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(64 << 20), '64 MiB');
  });

  it('pageFetchProblem refuses exactly the loopback hosts the page\'s content security policy does not list', () => {
    const csp = /Content-Security-Policy" content="[^"]*connect-src ([^;"]*)/.exec(readFileSync(new URL('../../index.html', import.meta.url), 'utf8'))![1]!.split(' ');
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) {
      assert.ok(isLoopbackHost(host), host);
      const url = new URL(`http://${host}:8000/repo/`);
      const listed = csp.includes(`http://${host}:*`);
      assert.equal(pageFetchProblem(url) === undefined, listed, `${host}: listed in connect-src ${listed}, refused by the page ${pageFetchProblem(url) !== undefined}`);
    }
    assert.match(pageFetchProblem(new URL('http://[::1]:8000/'))!, /use http:\/\/localhost:8000\//);
    assert.equal(pageFetchProblem(new URL('https://example.org/repo/')), undefined);
  });
});
