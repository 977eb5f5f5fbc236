/**
 * Fetches and checks a repository's index over http(s) (the CLI's `--repo`, the page's
 * catalog). A host that cannot be reached, an HTTP error and an index that fails the schema
 * each give their own RepoError.
 */
import { RepoError } from './RepoError.ts';
import { INDEX_LIMITS, parseRepositoryIndex, type RepositoryIndex } from './RepositoryIndex.ts';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** The reason a fetch() rejected, as one phrase: node puts it in `cause`. */
export function fetchFailure(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

export async function fetchRepositoryIndex(url: URL, fetchFn: FetchLike = fetch): Promise<{ index: RepositoryIndex; bytes: number }> {
  let res: Response;
  try {
    res = await fetchFn(url.href, { redirect: 'follow', cache: 'no-cache' });
  } catch (e) {
    throw new RepoError('no-answer', `repository ${url.href}: cannot reach ${url.host || url.href} (${fetchFailure(e)})`, url.href);
  }
  if (!res.ok) throw new RepoError('fetch-failed', `repository ${url.href}: HTTP ${res.status} ${res.statusText}`.trimEnd(), url.href);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > INDEX_LIMITS.bytes) throw new RepoError('bad-index', `${url.href}: ${declared} bytes, over the ${INDEX_LIMITS.bytes / 2 ** 20} MiB an index may have`, url.href);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > INDEX_LIMITS.bytes) throw new RepoError('bad-index', `${url.href}: ${body.length} bytes, over the ${INDEX_LIMITS.bytes / 2 ** 20} MiB an index may have`, url.href);
  return { index: parseRepositoryIndex(body, url.href), bytes: body.length };
}
