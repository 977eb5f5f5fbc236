/**
 * Node-only: an appliance image on the file system, opened the way `romvisor boot` runs
 * it. The base image (a .vhd, or a .vhd.gz unpacked once into a cache keyed by its
 * sha256) is always opened read-only; guest writes land in a differencing child:
 *
 *   - an explicit overlay file (created over the base if it does not exist yet),
 *   - a temporary snapshot child, deleted by dispose(),
 *   - or by default a persistent child per base image in the user's data directory
 *     ($XDG_DATA_HOME/romvisor or ~/.local/share/romvisor), never next to the image.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { VhdDisk, type ParentResolver } from '../disk/index.ts';
import { FileBackend, fileParentResolver } from '../disk/node.ts';
import { ApplianceError } from './ApplianceError.ts';

export type OverlayMode = { kind: 'persistent' } | { kind: 'file'; path: string } | { kind: 'snapshot' };

export interface ApplianceDiskOptions {
  /** Path of a .vhd or .vhd.gz. */
  image: string;
  overlay: OverlayMode;
  /** Default: romvisorDataDir(). */
  dataDir?: string;
}

export interface ApplianceDisk {
  /** The guest's disk: the overlay, with the read-only base (chain) below it. */
  readonly disk: VhdDisk;
  /** The base VHD as opened (the unpacked cache file for a .vhd.gz). */
  readonly basePath: string;
  readonly overlayPath: string;
  /** True for a snapshot: the overlay is deleted by dispose(). */
  readonly temporary: boolean;
  /** Flushes the overlay, closes the chain and deletes a snapshot. Idempotent. */
  dispose(): Promise<void>;
}

/** Where romvisor keeps per-user state: unpacked images and overlays. */
export function romvisorDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  return xdg && xdg.startsWith('/') ? join(xdg, 'romvisor') : join(homedir(), '.local', 'share', 'romvisor');
}

/** The appliance's name from its file name: "base" for appliances/base.vhd.gz. */
export function applianceName(image: string): string {
  return basename(image).replace(/\.gz$/i, '').replace(/\.vhd$/i, '') || 'appliance';
}

export async function openApplianceDisk(opts: ApplianceDiskOptions): Promise<ApplianceDisk> {
  const dataDir = opts.dataDir ?? romvisorDataDir();
  const image = resolve(opts.image);
  const basePath = /\.gz$/i.test(image) ? await unpackVhdGz(image, join(dataDir, 'cache')) : image;
  const base = await VhdDisk.open(await FileBackend.open(basePath, { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
  let overlayPath: string;
  let temporary = false;
  let tempDir: string | undefined;
  try {
    switch (opts.overlay.kind) {
      case 'file':
        overlayPath = resolve(opts.overlay.path);
        break;
      case 'snapshot':
        tempDir = await mkdtemp(join(tmpdir(), 'romvisor-snapshot-'));
        overlayPath = join(tempDir, `${applianceName(image)}.vhd`);
        temporary = true;
        break;
      case 'persistent':
        overlayPath = join(dataDir, 'overlays', `${applianceName(image)}-${base.uuid}.vhd`);
        break;
    }
  } catch (e) {
    await base.dispose();
    throw e;
  }

  let disk: VhdDisk;
  try {
    disk = (await exists(overlayPath)) ? await openOverlay(overlayPath, base, basePath) : await createOverlay(overlayPath, base, basePath);
  } catch (e) {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw e;
  }
  let disposed = false;
  return {
    disk,
    basePath,
    overlayPath,
    temporary,
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        if (!temporary) await disk.flush();
        await disk.dispose();
      } finally {
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
      }
    },
  };
}

async function createOverlay(path: string, base: VhdDisk, basePath: string): Promise<VhdDisk> {
  await mkdir(dirname(path), { recursive: true });
  try {
    return await VhdDisk.createDifferencing(await FileBackend.create(path), base, {
      parentAbsolutePath: basePath,
      parentRelativePath: relative(dirname(path), basePath) || basename(basePath),
    });
  } catch (e) {
    await base.dispose();
    await rm(path, { force: true });
    throw e;
  }
}

/**
 * Opens an existing overlay whose chain must reach `base`. The already-open base stands in
 * for whatever the locators say (the cache path of an unpacked .vhd.gz may have moved).
 */
async function openOverlay(path: string, base: VhdDisk, basePath: string): Promise<VhdDisk> {
  const fallback = fileParentResolver();
  let usedBase = false;
  const resolver: ParentResolver = async (ref, child) => {
    if (ref.uniqueId === base.uuid) {
      usedBase = true;
      return FileBackend.open(basePath, { readOnly: true });
    }
    return fallback(ref, child);
  };
  let disk: VhdDisk;
  try {
    disk = await VhdDisk.open(await FileBackend.open(path), { parentResolver: resolver });
  } finally {
    // The chain opens its own handle on the base; ours was only for the unique id.
    await base.dispose();
  }
  let reachesBase = usedBase;
  for (let d: VhdDisk | undefined = disk; d && !reachesBase; d = d.parent) reachesBase = d.uuid === base.uuid;
  if (!reachesBase) {
    await disk.dispose();
    throw new ApplianceError('overlay-mismatch', `overlay ${path}: its parent chain does not lead to ${basePath} (unique id ${base.uuid})`, path);
  }
  return disk;
}

/**
 * Unpacks `gz` into `cacheDir/<sha256 of the .gz>.vhd` unless that file exists; returns its
 * path. Written to a temporary name and renamed, so a half-written file is never used.
 */
export async function unpackVhdGz(gz: string, cacheDir: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(gz), hash);
  const out = join(cacheDir, `${hash.digest('hex')}.vhd`);
  if (await exists(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await pipeline(createReadStream(gz), createGunzip(), createWriteStream(tmp));
  } catch (e) {
    await rm(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    if (err.code?.startsWith('Z_')) throw new ApplianceError('bad-image', `${gz}: not a complete gzip file (${err.message})`, gz);
    throw e;
  }
  await rename(tmp, out);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
