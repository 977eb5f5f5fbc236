/**
 * A file a scenario names by URL ({ url, sha256 }), downloaded and refused unless its bytes
 * hash to the sha256 the scenario states: a link cannot swap an appliance, a kernel or a
 * disk under its reader. The size is bounded while the bytes arrive (and before, when the
 * server says it). The page and the CLI both fetch scenario files through this.
 */
import { CodedError } from '../errors/CodedError.ts';
import { sha256Hex } from '../format/sha256.ts';
import { fetchFailure } from '../repo/fetchRepositoryIndex.ts';

export class FetchError extends CodedError<'fetch-failed' | 'too-large' | 'sha256-mismatch'> {
  override readonly name = 'FetchError';
}

export type DownloadProgress = (url: string, bytes: number, total: number | undefined) => void;

export interface FetchVerifiedOptions {
  maxBytes: number;
  /** What the file is, to begin messages ("guest 1 of 2: kernel"); the URL follows it. */
  what: string;
  progress?: DownloadProgress;
  /** Said after a failure to reach the server (the page's: HTTPS and CORS). */
  unreachableHint?: string;
  init?: RequestInit;
}

export async function fetchVerified(file: { url: string; sha256: string }, opts: FetchVerifiedOptions): Promise<Uint8Array> {
  const { url, sha256 } = file;
  const where = `${opts.what} ${url}`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...opts.init });
  } catch (e) {
    throw new FetchError('fetch-failed', `${where}: ${fetchFailure(e)}${opts.unreachableHint ? ` (${opts.unreachableHint})` : ''}`);
  }
  if (!res.ok || !res.body) throw new FetchError('fetch-failed', `${where}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  const total = Number(res.headers.get('Content-Length')) || undefined;
  if (total !== undefined && total > opts.maxBytes) throw new FetchError('too-large', `${where}: ${total} bytes, the limit is ${opts.maxBytes}`);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > opts.maxBytes) {
      await reader.cancel();
      throw new FetchError('too-large', `${where}: more than ${opts.maxBytes} bytes, the limit; refused`);
    }
    chunks.push(value);
    opts.progress?.(url, bytes, total);
  }
  const whole = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  const got = await sha256Hex(whole);
  if (got !== sha256) throw new FetchError('sha256-mismatch', `${where}: sha256 is ${got}, the scenario says ${sha256}; refused`);
  return whole;
}
