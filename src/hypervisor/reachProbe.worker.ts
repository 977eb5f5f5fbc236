/**
 * Asks whether anything answers at a URL the page could not read. In Chromium a server that
 * sends no CORS header and a host where nothing listens give the page the same TypeError,
 * and the page cannot look further itself: under its `Cross-Origin-Embedder-Policy:
 * require-corp` a `no-cors` request to such a server fails as well. This worker is served
 * with `credentialless` instead (vite.config.ts), under which a `no-cors` request is sent
 * without credentials and its answer, opaque, arrives: the server answered. Nothing of the
 * answer is read; only that there was one.
 *
 * Its own script's headers say whether it got that policy (a static host may send
 * require-corp for every file): when it did not, it says it cannot tell.
 */
import type { ReachProbeAnswer } from './probeReachable.ts';

const TIMEOUT_MS = 10_000;

async function probe(url: string): Promise<ReachProbeAnswer> {
  let policy: string;
  try {
    const own = await fetch(location.href, { cache: 'no-store' });
    await own.body?.cancel();
    policy = (own.headers.get('cross-origin-embedder-policy') ?? 'unsafe-none').split(';')[0]!.trim();
  } catch (e) {
    return { verdict: 'cannot-tell', why: `the probe could not read its own headers (${(e as Error).message})` };
  }
  if (policy === 'require-corp') return { verdict: 'cannot-tell', why: 'the site serves the probe with Cross-Origin-Embedder-Policy require-corp' };
  try {
    const res = await fetch(url, { mode: 'no-cors', credentials: 'omit', cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel().catch(() => {});
    return { verdict: 'answers' };
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return { verdict: 'no-answer', why: `no answer in ${TIMEOUT_MS / 1000} s` };
    return { verdict: 'no-answer', why: 'the connection failed' };
  }
}

onmessage = (e: MessageEvent<string>) => {
  void probe(e.data).then((answer) => postMessage(answer));
};
