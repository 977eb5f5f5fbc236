// A static file server for repository tests and the remote-boot benchmark: serves one
// folder over http://127.0.0.1, with or without Range support (without, it answers every
// GET with 200 and the whole file, as some servers do), and counts what it sends.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';

export interface RepoServer {
  /** The folder's URL, with a trailing slash. */
  url: string;
  /** Bytes of response bodies sent, per path, and in all. */
  sent: Map<string, number>;
  totalSent(): number;
  /** Requests per path, each with its Range header ('' when none). */
  requests: { path: string; range: string }[];
  /** Forget the counts. */
  reset(): void;
  close(): Promise<void>;
}

export interface RepoServerOptions {
  /** Honour Range headers (206); default true. */
  ranges?: boolean;
  /** Let any page read the files (CORS: Access-Control-Allow-Origin *, Range allowed, Content-Range exposed); default false. */
  cors?: boolean;
}

export async function startRepoServer(dir: string, opts: RepoServerOptions = {}): Promise<RepoServer> {
  const ranges = opts.ranges ?? true;
  const sent = new Map<string, number>();
  const requests: { path: string; range: string }[] = [];
  const count = (path: string, n: number) => sent.set(path, (sent.get(path) ?? 0) + n);
  const server: Server = createServer(async (req, res) => {
    if (opts.cors) {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-expose-headers', 'content-range, content-length, accept-ranges');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET, HEAD' }).end();
        return;
      }
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range ?? '';
    requests.push({ path, range });
    const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (ranges && m) {
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), bytes.length - 1);
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      const body = bytes.subarray(start, end + 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': body.length, 'accept-ranges': 'bytes' });
      res.end(body);
      count(path, body.length);
      return;
    }
    res.writeHead(200, { 'content-length': bytes.length, ...(ranges ? { 'accept-ranges': 'bytes' } : {}) });
    // HEAD (QEMU's curl driver asks for the size first): headers only.
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.end(bytes);
    count(path, bytes.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    sent,
    totalSent: () => [...sent.values()].reduce((a, b) => a + b, 0),
    requests,
    reset() {
      sent.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
