// The page's list of repositories where no probe can look (node has no Worker, as a site
// serving the probe with the wrong policy has none that works): a host that gives no answer
// gets the message that names both causes and where the browser says which; an error status
// is an answer and says itself. (Chromium's own probe is in tests/e2e/repository.test.ts.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { Repositories } from './Repositories.ts';

const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
};

describe('repositories the page cannot read', () => {
  it('names both causes of no answer when the probe cannot look, and an HTTP error as it is', async () => {
    const server = createServer((_req, res) => res.writeHead(404, 'Not Found').end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const repos = new Repositories(memory());
    try {
      await assert.rejects(repos.add(`http://127.0.0.1:${port}/`), /repository http:\/\/127\.0\.0\.1:\d+\/repository\.json: HTTP 404 Not Found$/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    // The same port, closed now: nothing answers.
    await assert.rejects(
      repos.add(`http://127.0.0.1:${port}/`),
      /cannot read it: the host does not answer, or its server does not let this page read it \(no CORS header Access-Control-Allow-Origin\); the browser's developer console says which \(no worker to probe from\)$/,
    );
    assert.equal(repos.list().length, 0);
  });
});
