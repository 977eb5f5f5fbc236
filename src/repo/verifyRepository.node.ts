/**
 * Node-only: `romvisor repo verify URL|DIR`, every file a repository's index names read
 * whole and checked against it: its size, the sha256 of each chunk and of the whole file.
 * A local folder is read from the file system; a URL over http(s), each file in one GET.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fetchFailure, fetchRepositoryIndex } from './fetchRepositoryIndex.ts';
import { RepoError } from './RepoError.ts';
import { chunkName, parseRepositoryIndex, type RepositoryIndex, type RepositoryVersion } from './RepositoryIndex.ts';
import { fileUrl, indexUrl } from './repositoryLocation.ts';

/** Chunk mismatches listed per file before the rest are counted only. */
const MAX_CHUNK_PROBLEMS = 8;

export interface VerifyReport {
  index: RepositoryIndex;
  indexUrl: URL;
  files: number;
  chunks: number;
  bytes: number;
  /** Everything that does not match, each naming the file (and chunk). Empty when sound. */
  problems: RepoError[];
}

/** A folder path or an http(s)/file URL, as `repo verify` takes it. */
export async function locateRepository(location: string): Promise<URL> {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(location)) return indexUrl(location);
  const s = await stat(location).catch(() => undefined);
  if (s?.isDirectory()) return indexUrl(pathToFileURL(location.endsWith('/') ? location : `${location}/`).href);
  if (s?.isFile()) return indexUrl(pathToFileURL(location).href);
  throw new RepoError('bad-url', `repository "${location}" is neither a folder nor an http(s) URL`, location);
}

/** Loads the index from a file: or http(s) URL. */
export async function loadRepositoryIndex(url: URL): Promise<RepositoryIndex> {
  if (url.protocol !== 'file:') return (await fetchRepositoryIndex(url)).index;
  const path = fileURLToPath(url);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new RepoError('fetch-failed', `repository ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  return parseRepositoryIndex(bytes, path);
}

export async function verifyRepository(location: string, onFile?: (line: string) => void): Promise<VerifyReport> {
  const url = await locateRepository(location);
  const index = await loadRepositoryIndex(url);
  const report: VerifyReport = { index, indexUrl: url, files: 0, chunks: 0, bytes: 0, problems: [] };
  for (const appliance of index.appliances) {
    for (const version of appliance.versions) {
      const before = report.problems.length;
      await verifyFile(fileUrl(url, version.url), version, report);
      report.files++;
      onFile?.(`${appliance.name}@${version.version} ${version.url}: ${report.problems.length === before ? 'ok' : `${report.problems.length - before} problem(s)`}`);
    }
  }
  return report;
}

async function verifyFile(url: URL, v: RepositoryVersion, report: VerifyReport): Promise<void> {
  let body: AsyncIterable<Uint8Array>;
  if (url.protocol === 'file:') {
    body = createReadStream(fileURLToPath(url));
  } else {
    let res: Response;
    try {
      res = await fetch(url.href, { redirect: 'follow' });
    } catch (e) {
      report.problems.push(new RepoError('fetch-failed', `${v.url}: cannot fetch ${url.href} (${fetchFailure(e)})`, v.url));
      return;
    }
    if (!res.ok || !res.body) {
      report.problems.push(new RepoError('fetch-failed', `${v.url}: HTTP ${res.status} ${res.statusText} for ${url.href}`, v.url));
      return;
    }
    body = res.body as unknown as AsyncIterable<Uint8Array>;
  }
  const whole = createHash('sha256');
  let chunk = createHash('sha256');
  let inChunk = 0;
  let index = 0;
  let size = 0;
  let bad = 0;
  const endChunk = () => {
    const got = chunk.digest('hex');
    const want = v.chunks[index];
    if (want !== undefined && got !== want) {
      if (++bad <= MAX_CHUNK_PROBLEMS) report.problems.push(new RepoError('sha256-mismatch', `${chunkName(v, index)}: sha256 is ${got}, the index says ${want}`, chunkName(v, index)));
    }
    report.chunks++;
    index++;
    inChunk = 0;
    chunk = createHash('sha256');
  };
  try {
    for await (const piece of body) {
      whole.update(piece);
      size += piece.length;
      for (let at = 0; at < piece.length; ) {
        const take = Math.min(v.chunkSize - inChunk, piece.length - at);
        chunk.update(piece.subarray(at, at + take));
        inChunk += take;
        at += take;
        if (inChunk === v.chunkSize) endChunk();
      }
    }
  } catch (e) {
    report.problems.push(new RepoError('fetch-failed', `${v.url}: reading ${url.href} failed after ${size} bytes (${(e as NodeJS.ErrnoException).code ?? fetchFailure(e)})`, v.url));
    return;
  }
  if (inChunk > 0) endChunk();
  report.bytes += size;
  if (bad > MAX_CHUNK_PROBLEMS) report.problems.push(new RepoError('sha256-mismatch', `${v.url}: ${bad - MAX_CHUNK_PROBLEMS} more chunks do not match`, v.url));
  if (size !== v.size) {
    report.problems.push(new RepoError('size-mismatch', `${v.url}: ${size} bytes, the index says ${v.size}`, v.url));
    return;
  }
  const sha = whole.digest('hex');
  if (sha !== v.sha256) report.problems.push(new RepoError('sha256-mismatch', `${v.url}: sha256 is ${sha}, the index says ${v.sha256}`, v.url));
}
