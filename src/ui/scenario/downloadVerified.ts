/**
 * The page's fetch of a file a scenario names by URL: the shared fetchVerified (sha256 and
 * size checked), after the page's own rule for plain http (what its Content Security Policy
 * lets through), as a CORS request without cookies.
 */
import { pageFetchProblem } from '../../format/loopbackHost.ts';
import { FetchError, fetchVerified, type DownloadProgress } from '../../scenario/fetchVerified.ts';

export type { DownloadProgress };

export async function downloadVerified(file: { url: string; sha256: string }, maxBytes: number, progress: DownloadProgress): Promise<Uint8Array> {
  const problem = pageFetchProblem(new URL(file.url));
  if (problem) throw new FetchError('fetch-failed', `GET ${problem}`);
  return fetchVerified(file, {
    maxBytes,
    what: 'GET',
    progress,
    unreachableHint: 'is it HTTPS, and does the server allow cross-origin requests?',
    init: { mode: 'cors', credentials: 'omit' },
  });
}
