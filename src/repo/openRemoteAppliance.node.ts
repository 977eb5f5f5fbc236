/**
 * Node-only: `romvisor boot --repo URL NAME[@VERSION]`. The repository's index is fetched
 * (and kept under the data directory, so a later boot without the network still finds the
 * appliance), the version's VHD is opened lazily over HTTP Range (RemoteChunkBackend, its
 * verified chunks kept in a FileChunkStore under $XDG_DATA_HOME/romvisor/chunks) and
 * given an overlay as a local image is (openApplianceDisk).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VhdDisk } from '../disk/index.ts';
import { FileBackend } from '../disk/node.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { openApplianceDisk, romvisorDataDir, type ApplianceDisk, type OverlayMode } from '../boot/applianceDisk.node.ts';
import { fetchRepositoryIndex } from './fetchRepositoryIndex.ts';
import { FileChunkStore } from './FileChunkStore.node.ts';
import { addRemoteDiskStats, noRemoteDiskStats, RemoteChunkBackend, type RemoteDiskStats } from './RemoteChunkBackend.ts';
import { RepoError } from './RepoError.ts';
import { findVersion, parseRepositoryIndex, versionChain, type RepositoryAppliance, type RepositoryIndex, type RepositoryVersion } from './RepositoryIndex.ts';
import { fileUrl, indexUrl } from './repositoryLocation.ts';

export interface RemoteApplianceOptions {
  /** The repository: its folder's URL or its repository.json's (http or https). */
  repo: string;
  /** NAME or NAME@VERSION (default: the newest version). */
  spec: string;
  overlay: OverlayMode;
  dataDir?: string;
  /** Said when the index comes from the local copy because the server cannot be reached, or a newer version waits. */
  onWarning?: (message: string) => void;
  /**
   * Move the VM's system disk to the version asked for (the newest without @VERSION) when its
   * overlay stands on another: the overlay is made anew (its changes to the system disk are
   * discarded), the data disk is kept. Without it such a boot is refused when @VERSION was
   * given, and boots the overlay's own version otherwise.
   */
  update?: boolean;
  /** The data disk's file (default: beside the overlay). */
  dataDisk?: string;
}

export interface RemoteAppliance {
  readonly disk: ApplianceDisk;
  readonly appliance: RepositoryAppliance;
  readonly version: RepositoryVersion;
  readonly fileUrl: URL;
  /** Set when this boot moved the system disk from one version to another. */
  readonly updated?: { from: RepositoryVersion; to: RepositoryVersion };
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
  const found = findVersion(index, name, wanted);
  const { appliance } = found;
  let version = found.version;
  // One system disk per repository appliance, whatever its version: an update replaces it.
  const persistentName = `${appliance.name}-${createHash('sha256').update(url.href).digest('hex').slice(0, 12)}`;
  const overlayPath = opts.overlay.kind === 'file' ? resolve(opts.overlay.path) : opts.overlay.kind === 'persistent' ? join(dataDir, 'overlays', `${persistentName}.vhd`) : undefined;
  let updated: { from: RepositoryVersion; to: RepositoryVersion } | undefined;
  const standsOn = overlayPath === undefined ? undefined : await overlayParentId(overlayPath);
  const current = standsOn === undefined ? undefined : appliance.versions.find((v) => v.uniqueId === standsOn);
  if (current && current !== version) {
    const change = `${name}@${current.version} to ${name}@${version.version}`;
    if (opts.update) {
      updated = { from: current, to: version };
    } else if (wanted === undefined) {
      opts.onWarning?.(`${overlayPath} is the system disk of ${name}@${current.version}; ${name}@${version.version} is available (${updateDownload(appliance, current, version)}). Booting ${current.version}; add --update to move it to ${version.version} (its changes to the system disk are discarded, the data disk is kept)`);
      version = current;
    } else {
      throw new RepoError('bad-input', `${overlayPath} is the system disk of ${name}@${current.version}; booting ${name}@${version.version} replaces it with a new one, discarding its changes to the system disk (the data disk is kept): add --update to go from ${change}`, overlayPath);
    }
  }
  const file = fileUrl(url, version.url);
  const store = new FileChunkStore(join(dataDir, 'chunks'));
  const backends: RemoteChunkBackend[] = [];
  const openVersion = async (v: RepositoryVersion) => {
    const b = new RemoteChunkBackend({ url: fileUrl(url, v.url), version: v, store });
    backends.push(b);
    return b;
  };
  const disk = await openApplianceDisk({
    image: file.href,
    overlay: opts.overlay,
    dataDir,
    replaceOverlay: updated !== undefined,
    ...(opts.dataDisk !== undefined ? { dataDisk: opts.dataDisk } : {}),
    remoteBase: {
      name: appliance.name,
      where: file.href,
      persistentName,
      open: () => openVersion(version),
      // A patch's parent: the version of this appliance whose VHD has the id its header names.
      async parentResolver(ref) {
        const parent = appliance.versions.find((v) => v.uniqueId === ref.uniqueId);
        return parent ? openVersion(parent) : undefined;
      },
    },
  });
  return {
    disk,
    appliance,
    version,
    ...(updated ? { updated } : {}),
    fileUrl: file,
    stats() {
      const sum = noRemoteDiskStats();
      for (const b of backends) addRemoteDiskStats(sum, b.stats);
      return sum;
    },
    failure: () => backends.find((b) => b.failure)?.failure,
  };
}

/**
 * The unique id of the disk an existing overlay stands on (its header's parent), or
 * undefined when there is no such file or it is not a differencing VHD.
 */
async function overlayParentId(path: string): Promise<string | undefined> {
  let backend: FileBackend;
  try {
    backend = await FileBackend.open(path, { readOnly: true });
  } catch {
    return undefined;
  }
  let id: string | undefined;
  try {
    // The resolver hears the parent's id first; declining it ends the open, which is all we need.
    const disk = await VhdDisk.open(backend, { readOnly: true, parentResolver: async (ref) => ((id = ref.uniqueId), undefined) });
    await disk.dispose();
  } catch {
    await backend.dispose();
  }
  return id;
}

/** What an update from `from` to `to` downloads at most: the VHDs of `to`'s chain that `from`'s lacks. */
export function updateDownload(appliance: RepositoryAppliance, from: RepositoryVersion, to: RepositoryVersion): string {
  const have = new Set(versionChain(appliance, from));
  const need = versionChain(appliance, to).filter((v) => !have.has(v));
  const bytes = need.reduce((n, v) => n + v.size, 0);
  const what = need.length === 0 ? 'nothing' : need.every((v) => v.parent !== undefined) ? (need.length === 1 ? 'a patch' : `${need.length} patches`) : 'an image';
  return `${what} of ${formatBytes(bytes)} to download at most`;
}

/**
 * `romvisor repo fetch URL NAME[@VERSION]`: every chunk of the version the local store
 * lacks, fetched and verified, so it boots later without the network.
 */
export async function fetchRemoteAppliance(opts: { repo: string; spec: string; dataDir?: string }): Promise<{ appliance: RepositoryAppliance; version: RepositoryVersion; stats: RemoteDiskStats; chunks: number }> {
  const { name, version: wanted } = parseApplianceSpec(opts.spec);
  const url = indexUrl(opts.repo);
  if (url.protocol === 'file:') throw new RepoError('bad-url', `${opts.repo}: give the repository's http(s) URL`, opts.repo);
  const dataDir = opts.dataDir ?? romvisorDataDir();
  const index = await indexWithLocalCopy(url, join(dataDir, 'repositories'));
  const { appliance, version } = findVersion(index, name, wanted);
  // A patch boots on its parents: the whole chain is fetched.
  const store = new FileChunkStore(join(dataDir, 'chunks'));
  const stats = noRemoteDiskStats();
  const chain = versionChain(appliance, version);
  for (const v of chain) {
    const backend = new RemoteChunkBackend({ url: fileUrl(url, v.url), version: v, store });
    try {
      await backend.fetchAll();
    } finally {
      await backend.dispose();
    }
    addRemoteDiskStats(stats, backend.stats);
  }
  return { appliance, version, stats, chunks: chain.reduce((n, v) => n + v.chunks.length, 0) };
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
    if (!(e instanceof RepoError) || (e.code !== 'fetch-failed' && e.code !== 'no-answer')) throw e;
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
