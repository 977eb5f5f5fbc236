/**
 * A file a scenario names by URL ({ url, sha256 }), downloaded with progress and refused
 * unless its bytes hash to the sha256 the scenario states: a link cannot swap an appliance,
 * a kernel or a disk under its reader. The size is bounded while the bytes arrive.
 */
import { pageFetchProblem } from '../../format/loopbackHost.ts';
import { ScenarioRunError } from './ScenarioRunError.ts';
import { sha256Hex } from '../../format/sha256.ts';

export type DownloadProgress = (what: string, bytes: number, total: number | undefined) => void;

export async function downloadVerified(file: { url: string; sha256: string }, maxBytes: number, progress: DownloadProgress): Promise<Blob> {
  const { url, sha256 } = file;
  const problem = pageFetchProblem(new URL(url));
  if (problem) throw new ScenarioRunError('download-failed', `GET ${problem}`);
  let r: Response;
  try {
    r = await fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    throw new ScenarioRunError('download-failed', `GET ${url}: ${(e as Error).message} (is it HTTPS, and does the server allow cross-origin requests?)`);
  }
  if (!r.ok || !r.body) throw new ScenarioRunError('download-failed', `GET ${url}: HTTP ${r.status} ${r.statusText}`);
  const total = Number(r.headers.get('Content-Length')) || undefined;
  if (total !== undefined && total > maxBytes) throw new ScenarioRunError('too-large', `GET ${url}: ${total} bytes, the limit is ${maxBytes}`);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = r.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new ScenarioRunError('too-large', `GET ${url}: more than ${maxBytes} bytes; refused`);
    }
    chunks.push(value);
    progress(url, bytes, total);
  }
  const blob = new Blob(chunks as Uint8Array<ArrayBuffer>[]);
  const digest = await sha256Hex(await blob.arrayBuffer());
  if (digest !== sha256) throw new ScenarioRunError('hash-mismatch', `GET ${url}: the file's SHA-256 is ${digest}, the scenario expects ${sha256}; refused`);
  return blob;
}
