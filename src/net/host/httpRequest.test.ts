// The page's HTTP client to guests: a request through the endpoint to a server on the
// other end of a wire (which answers as busybox httpd does: HTTP/1.0, close after the
// body), and the response parser refusing what is not HTTP or is too large.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError, MAX_RESPONSE_BYTES, httpRequest, parseResponse } from './httpRequest.ts';
import { TcpWire } from '../../../tests/net/tcpWire.ts';

describe('httpRequest', () => {
  it('sends a GET or POST and reads the answer up to the guest\'s close', async () => {
    const w = new TcpWire({ seed: 5, drop: 0.05 });
    const seen: string[] = [];
    w.guest.listen(80, (c) => {
      const parts: Buffer[] = [];
      c.onData = (b) => {
        parts.push(Buffer.from(b));
        const text = Buffer.concat(parts).toString('latin1');
        const head = text.indexOf('\r\n\r\n');
        const length = Number(/Content-Length: (\d+)/.exec(text)?.[1] ?? 0);
        if (head < 0 || text.length < head + 4 + length) return;
        seen.push(text);
        c.write(Buffer.from(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello trailing bytes past the length`));
        c.end();
      };
    });
    const get = httpRequest(w.gateway, w.guest.ip, 80, { path: '/cgi-bin/planets?moons=10', host: 'web' });
    await w.run(() => seen.length === 1);
    await w.run(() => false, 1_000_000);
    const r = await get;
    assert.deepEqual([r.status, r.statusText, new TextDecoder().decode(r.body)], [200, 'OK', 'hello']);
    assert.deepEqual(r.headers[0], ['content-type', 'text/plain']);
    assert.match(seen[0]!, /^GET \/cgi-bin\/planets\?moons=10 HTTP\/1\.0\r\nHost: web\r\n/);
    const post = httpRequest(w.gateway, w.guest.ip, 80, { method: 'POST', path: '/form', host: 'web', body: new TextEncoder().encode('moons=3') });
    await w.run(() => seen.length === 2);
    await w.run(() => false, 1_000_000);
    assert.equal((await post).status, 200);
    assert.match(seen[1]!, /^POST \/form HTTP\/1\.0\r\n[^]*Content-Length: 7\r\n\r\nmoons=3$/);
  });

  it('refuses an answer that is not HTTP, has no end of headers, or is too large', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.throws(() => parseResponse(enc('SSH-2.0-OpenSSH\r\n\r\n')), (e: unknown) => e instanceof HttpError && e.code === 'bad-response');
    assert.throws(() => parseResponse(enc('HTTP/1.0 200 OK\r\nContent-Type: x')), (e: unknown) => e instanceof HttpError && e.code === 'bad-response');
    const big = new Uint8Array(MAX_RESPONSE_BYTES + 100);
    big.set(enc('HTTP/1.0 200 OK\r\n\r\n'));
    assert.throws(() => parseResponse(big), (e: unknown) => e instanceof HttpError && e.code === 'too-large');
  });
});
