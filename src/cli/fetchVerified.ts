/**
 * Downloads a file a scenario names by URL ({ url, sha256 }) into a local file, refusing it
 * unless its bytes hash to the sha256 the scenario states: a link cannot swap a kernel or a
 * disk under its reader. The size is bounded while the bytes arrive.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { CodedError } from '../errors/CodedError.ts';

export class FetchError extends CodedError<'fetch-failed' | 'too-large' | 'sha256-mismatch'> {
  override readonly name = 'FetchError';
}

export async function fetchVerified(file: { url: string; sha256: string }, to: string, maxBytes: number, what: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(file.url, { redirect: 'follow' });
  } catch (e) {
    throw new FetchError('fetch-failed', `${what} ${file.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new FetchError('fetch-failed', `${what} ${file.url}: HTTP ${res.status} ${res.statusText}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const hash = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxBytes) throw new FetchError('too-large', `${what} ${file.url}: more than ${maxBytes} bytes, the limit`);
    hash.update(chunk);
    chunks.push(chunk);
  }
  const got = hash.digest('hex');
  if (got !== file.sha256) throw new FetchError('sha256-mismatch', `${what} ${file.url}: sha256 is ${got}, the scenario says ${file.sha256}`);
  await writeFile(to, Buffer.concat(chunks));
}
