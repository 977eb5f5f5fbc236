/**
 * Node-only: `romvisor boot --repo URL NAME[@VERSION]`. The repository's index is fetched
 * (and kept under the data directory, so a later boot without the network still finds the
 * appliance), the version's VHD is opened lazily over HTTP Range (RemoteChunkBackend, its
 * verified chunks kept in a FileChunkStore under $XDG_DATA_HOME/romvisor/chunks) and
 * given an overlay as a local image is (openApplianceDisk).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApplianceDisk, romvisorDataDir, type ApplianceDisk, type OverlayMode } from '../boot/applianceDisk.node.ts';
import { fetchRepositoryIndex } from './fetchRepositoryIndex.ts';
import { FileChunkStore } from './FileChunkStore.node.ts';
import { RemoteChunkBackend, type RemoteDiskStats } from './RemoteChunkBackend.ts';
import { RepoError } from './RepoError.ts';
import { findVersion, parseRepositoryIndex, type RepositoryAppliance, type RepositoryIndex, type RepositoryVersion } from './RepositoryIndex.ts';
import { fileUrl, indexUrl } from './repositoryLocation.ts';

export interface RemoteApplianceOptions {
  /** The repository: its folder's URL or its repository.json's (http or https). */
  repo: string;
  /** NAME or NAME@VERSION (default: the newest version). */
  spec: string;
  overlay: OverlayMode;
  dataDir?: string;
  /** Said when the index comes from the local copy because the server cannot be reached. */
  onWarning?: (message: string) => void;
}

export interface RemoteAppliance {
  readonly disk: ApplianceDisk;
  readonly appliance: RepositoryAppliance;
  readonly version: RepositoryVersion;
  readonly fileUrl: URL;
  /** What the disk's backends fetched and took from the store, summed. */
  stats(): RemoteDiskStats;
  /** A chunk that failed verification, or a fetch that failed: the VM must stop. */
  failure(): RepoError | undefined;
}

/** NAME or NAME@VERSION. */
export function parseApplianceSpec(spec: string): { name: string; version?: string } {
  const m = /^([A-Za-z0-9._-]+)(?:@([A-Za-z0-9._+~-]+))?$/.exec(spec);
  if (!m) throw new RepoError('bad-input', `"${spec}" is not an appliance name, NAME or NAME@VERSION`, spec);
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, version: m[2] };
}

export async function openRemoteAppliance(opts: RemoteApplianceOptions): Promise<RemoteAppliance> {
  const { name, version: wanted } = parseApplianceSpec(opts.spec);
  const url = indexUrl(opts.repo);
  if (url.protocol === 'file:') throw new RepoError('bad-url', `--repo ${opts.repo}: give the repository's http(s) URL (serve a folder with any web server, e.g. python3 -m http.server)`, opts.repo);
  const dataDir = opts.dataDir ?? romvisorDataDir();
  const index = await indexWithLocalCopy(url, join(dataDir, 'repositories'), opts.onWarning);
  const { appliance, version } = findVersion(index, name, wanted);
  const file = fileUrl(url, version.url);
  const store = new FileChunkStore(join(dataDir, 'chunks'));
  const backends: RemoteChunkBackend[] = [];
  const disk = await openApplianceDisk({
    image: file.href,
    overlay: opts.overlay,
    dataDir,
    remoteBase: {
      name: appliance.name,
      where: file.href,
      async open() {
        const b = new RemoteChunkBackend({ url: file, version, store });
        backends.push(b);
        return b;
      },
    },
  });
  return {
    disk,
    appliance,
    version,
    fileUrl: file,
    stats() {
      const sum: RemoteDiskStats = { fetchedBytes: 0, requests: 0, storeChunks: 0, fetchedChunks: 0, fullDownload: false, storeFailures: 0 };
      for (const b of backends) {
        sum.fetchedBytes += b.stats.fetchedBytes;
        sum.requests += b.stats.requests;
        sum.storeChunks += b.stats.storeChunks;
        sum.fetchedChunks += b.stats.fetchedChunks;
        sum.fullDownload ||= b.stats.fullDownload;
        sum.storeFailures += b.stats.storeFailures;
      }
      return sum;
    },
    failure: () => backends.find((b) => b.failure)?.failure,
  };
}

/**
 * `romvisor repo fetch URL NAME[@VERSION]`: every chunk of the version the local store
 * lacks, fetched and verified, so it boots later without the network.
 */
export async function fetchRemoteAppliance(opts: { repo: string; spec: string; dataDir?: string }): Promise<{ appliance: RepositoryAppliance; version: RepositoryVersion; stats: RemoteDiskStats }> {
  const { name, version: wanted } = parseApplianceSpec(opts.spec);
  const url = indexUrl(opts.repo);
  if (url.protocol === 'file:') throw new RepoError('bad-url', `${opts.repo}: give the repository's http(s) URL`, opts.repo);
  const dataDir = opts.dataDir ?? romvisorDataDir();
  const index = await indexWithLocalCopy(url, join(dataDir, 'repositories'));
  const { appliance, version } = findVersion(index, name, wanted);
  const backend = new RemoteChunkBackend({ url: fileUrl(url, version.url), version, store: new FileChunkStore(join(dataDir, 'chunks')) });
  try {
    await backend.fetchAll();
    return { appliance, version, stats: backend.stats };
  } finally {
    await backend.dispose();
  }
}

/**
 * The index from the server, kept as a local copy; when the server cannot be reached the
 * copy serves (with a warning), so what was read before boots offline.
 */
async function indexWithLocalCopy(url: URL, dir: string, warn?: (message: string) => void): Promise<RepositoryIndex> {
  const copy = join(dir, `${createHash('sha256').update(url.href).digest('hex').slice(0, 32)}.json`);
  try {
    const { index } = await fetchRepositoryIndex(url);
    await mkdir(dir, { recursive: true });
    const temp = `${copy}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(index));
    await rename(temp, copy);
    return index;
  } catch (e) {
    if (!(e instanceof RepoError) || e.code !== 'fetch-failed') throw e;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(copy));
    } catch {
      throw e;
    }
    warn?.(`${e.message}; using the copy of its index kept from an earlier boot`);
    return parseRepositoryIndex(bytes, copy);
  }
}
