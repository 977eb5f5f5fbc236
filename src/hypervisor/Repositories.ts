/**
 * The repositories the user added to the page's catalog, by the URL of their index: kept
 * in localStorage across reloads, each index fetched when the server powers on and when
 * added. A repository whose index cannot be read stays in the list with its error, so a
 * server that is down for a while does not lose the user's entry; removing one never
 * touches the VMs made from its appliances (their disks are in the image store).
 */
import { fetchRepositoryIndex, fileUrl, findVersion, indexUrl, RepoError } from '../repo/index.ts';
import { isLoopbackHost, LOOPBACK_TEXT, pageFetchProblem } from '../format/loopbackHost.ts';
import type { Appliance } from '../store/index.ts';
import { HypervisorError } from './HypervisorError.ts';
import { noAnswerReason } from './probeReachable.ts';
import type { RepositoryAppliance, RepositoryIndex, RepositoryVersion } from '../repo/index.ts';
import type { RepositoryEntry } from './Types.ts';

const STORAGE_KEY = 'romvisor.repositories';
const MAX_REPOSITORIES = 32;

/** The index URL the page accepts for what the user typed, or a HypervisorError saying why not. */
export function pageIndexUrl(text: string): URL {
  let url: URL;
  try {
    url = indexUrl(text.trim());
  } catch (e) {
    throw new HypervisorError('bad-input', (e as Error).message);
  }
  if (url.protocol === 'file:') throw new HypervisorError('bad-input', `repository ${text}: the page reads repositories over https (or http on this machine), not file: URLs`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new HypervisorError('bad-input', `repository ${url.href}: plain http is accepted for ${LOOPBACK_TEXT} only; use https`);
  }
  const problem = pageFetchProblem(url);
  if (problem) throw new HypervisorError('bad-input', `repository ${problem}`);
  return url;
}

export class Repositories {
  private entries: RepositoryEntry[] = [];
  /** URLs whose index is being read for add(): a second add of one is refused, not listed twice. */
  private readonly adding = new Set<string>();

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage) {
    try {
      const saved = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? '[]') as unknown;
      if (Array.isArray(saved)) this.entries = saved.filter((u): u is string => typeof u === 'string').slice(0, MAX_REPOSITORIES).map((url) => ({ url }));
    } catch {
      // A damaged entry in localStorage: start with no repositories.
    }
  }

  list(): readonly RepositoryEntry[] {
    return this.entries;
  }

  /** Fetches every index again; failures are kept on their entries. */
  async refresh(): Promise<void> {
    await Promise.all(this.entries.map((e) => this.load(e).catch(() => undefined)));
  }

  /** Adds a repository by its URL once its index reads and validates; throws the reason otherwise. */
  async add(text: string): Promise<RepositoryEntry> {
    const url = pageIndexUrl(text).href;
    if (this.entries.some((e) => e.url === url)) throw new HypervisorError('bad-input', `repository ${url} is in the catalog already`);
    if (this.adding.has(url)) throw new HypervisorError('bad-input', `repository ${url} is being added already`);
    // Adds in flight count against the limit: each of them may land.
    if (this.entries.length + this.adding.size >= MAX_REPOSITORIES) throw new HypervisorError('bad-input', `at most ${MAX_REPOSITORIES} repositories; remove one first`);
    const entry: RepositoryEntry = { url };
    this.adding.add(url);
    try {
      await this.load(entry);
    } finally {
      this.adding.delete(url);
    }
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /** Removes a repository by its URL, its name or its 1-based number. */
  remove(ref: string): RepositoryEntry {
    const n = Number(ref);
    const entry = Number.isInteger(n) && n >= 1 && n <= this.entries.length ? this.entries[n - 1] : this.entries.find((e) => e.url === ref || e.index?.name === ref || e.url === safeIndexUrl(ref));
    if (!entry) throw new HypervisorError('not-found', `no repository "${ref}" (try "repo list")`);
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.save();
    return entry;
  }

  /** The catalog entries of every repository that loaded. */
  appliances(): Appliance[] {
    return this.entries.flatMap((e) =>
      (e.index?.appliances ?? []).map((a) => repositoryAppliance(e.url, e.index!, a, a.versions.at(-1)!)),
    );
  }

  private async load(entry: RepositoryEntry): Promise<void> {
    try {
      entry.index = (await fetchRepositoryIndex(new URL(entry.url))).index;
      entry.error = undefined;
    } catch (e) {
      entry.error = await describeFailure(entry.url, e);
      throw new HypervisorError(e instanceof RepoError && e.code === 'bad-index' ? 'bad-input' : 'download-failed', entry.error);
    }
  }

  private save(): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.entries.map((e) => e.url)));
    } catch {
      // Storage full or refused: the list lasts until the page closes.
    }
  }
}

/**
 * The catalog entry of appliance `a` at `version` of the repository whose index is at `url`;
 * `pinned` (a scenario naming its version) makes it an entry of its own beside the catalog's newest.
 */
function repositoryAppliance(url: string, index: RepositoryIndex, a: RepositoryAppliance, version: RepositoryVersion, pinned = false): Appliance {
  return {
    id: `repo:${url}#${a.name}${pinned ? `@${version.version}` : ''}`,
    name: a.name,
    title: a.title,
    description: a.description,
    origin: 'repository',
    boot: 'disk',
    memoryMiB: a.memoryMiB,
    sizeBytes: version.size,
    virtualSize: version.virtualSize,
    source: { url: fileUrl(new URL(url), version.url).href, sha256: version.sha256, gzip: false },
    repository: { url, name: index.name, version, appliance: a },
    ...(a.dataDiskMiB !== undefined ? { dataDiskMiB: a.dataDiskMiB } : {}),
  };
}

/** Appliance `name` (at `version`, or its newest) of the repository at `text`, read now; not added to the catalog. */
export async function fetchRepositoryAppliance(text: string, name: string, version?: string): Promise<Appliance> {
  const url = pageIndexUrl(text).href;
  let index: RepositoryIndex;
  try {
    index = (await fetchRepositoryIndex(new URL(url))).index;
  } catch (e) {
    throw new HypervisorError(e instanceof RepoError && e.code === 'bad-index' ? 'bad-input' : 'download-failed', await describeFailure(url, e));
  }
  let found: ReturnType<typeof findVersion>;
  try {
    found = findVersion(index, name, version);
  } catch (e) {
    throw new HypervisorError('not-found', `repository ${url}: ${(e as Error).message}`);
  }
  return repositoryAppliance(url, index, found.appliance, found.version, version !== undefined);
}

function safeIndexUrl(text: string): string | undefined {
  try {
    return indexUrl(text).href;
  } catch {
    return undefined;
  }
}

/** What the page says when an index cannot be read: a failure without an answer gets the probe's look. */
async function describeFailure(url: string, e: unknown): Promise<string> {
  if (e instanceof RepoError && e.code === 'no-answer') return `repository ${url}: ${await noAnswerReason(url)}`;
  return (e as Error).message;
}
