/**
 * Whether a server answers at a URL whose fetch failed in the page: the one thing that tells
 * "the server sends no CORS header" from "nothing answers there", which the page itself sees
 * as the same TypeError. The look is taken from a worker of its own (reachProbe.worker.ts
 * says why and how); where there is no such worker (node, a site that serves it with the
 * wrong policy) the answer is that it cannot tell.
 */
export type ReachProbeAnswer = { verdict: 'answers' } | { verdict: 'no-answer'; why: string } | { verdict: 'cannot-tell'; why: string };

/** Longer than the worker's own time limit: it answers by then, or it is not working. */
const PROBE_MS = 15_000;

export async function probeReachable(url: string): Promise<ReachProbeAnswer> {
  if (typeof Worker === 'undefined') return { verdict: 'cannot-tell', why: 'no worker to probe from' };
  let worker: Worker;
  try {
    worker = new Worker(new URL('./reachProbe.worker.ts', import.meta.url), { type: 'module', name: 'reach probe' });
  } catch (e) {
    return { verdict: 'cannot-tell', why: `the probe did not start (${(e as Error).message})` };
  }
  try {
    return await new Promise<ReachProbeAnswer>((resolve) => {
      worker.onmessage = (e: MessageEvent<ReachProbeAnswer>) => resolve(e.data);
      // A site whose headers do not let the page start the worker: an event, no message.
      worker.onerror = () => resolve({ verdict: 'cannot-tell', why: 'the probe did not start' });
      setTimeout(() => resolve({ verdict: 'cannot-tell', why: 'the probe did not answer' }), PROBE_MS);
      worker.postMessage(url);
    });
  } finally {
    worker.terminate();
  }
}

/**
 * Why nothing readable came from `url` (a fetch that got no answer the page may read), in
 * words, after the probe had its look: a server without CORS, a host where nothing
 * answers, or, when the probe cannot tell, both and where the browser says which.
 */
export async function noAnswerReason(url: string): Promise<string> {
  const host = new URL(url).host;
  const probe = await probeReachable(url);
  switch (probe.verdict) {
    case 'answers':
      return `the server at ${host} answers, but does not let this page read it: its answer has no CORS header (Access-Control-Allow-Origin). Its owner can send "Access-Control-Allow-Origin: *" (and allow the Range request header), or host the files where it is sent`;
    case 'no-answer':
      return `cannot reach ${host}: ${probe.why} (no server listens at that address and port, the host name does not resolve, or there is no network)`;
    default:
      return `cannot read it: the host does not answer, or its server does not let this page read it (no CORS header Access-Control-Allow-Origin); the browser's developer console says which (${probe.why})`;
  }
}
