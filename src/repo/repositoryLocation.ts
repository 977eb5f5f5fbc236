/**
 * Where a repository's index is, from what a user types: the folder's URL with or without
 * a trailing slash, or the URL of its repository.json. A version's file URL is resolved
 * against the index's URL, as a browser resolves a link.
 */
import { RepoError } from './RepoError.ts';
import { INDEX_FILE } from './RepositoryIndex.ts';

/** The index's URL for a repository URL; only http(s) and file URLs. */
export function indexUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RepoError('bad-url', `repository "${text}" is not a URL (give http://HOST/PATH/ or the folder's path)`, text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'file:') {
    throw new RepoError('bad-url', `repository ${text}: ${url.protocol} URLs are not repositories (http:, https: or a folder)`, text);
  }
  if (url.username || url.password) throw new RepoError('bad-url', `repository ${url.origin}: user names and passwords in the URL are not supported`, text);
  url.hash = '';
  if (/\.json$/i.test(url.pathname)) return url;
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL(INDEX_FILE, url);
}

/** A version's file URL, resolved against the index's URL. */
export function fileUrl(index: URL, relative: string): URL {
  return new URL(relative, index);
}
