/**
 * Node-only: an appliance image on the file system, opened the way `romvisor boot` runs
 * it. The base image (a .vhd, or a .vhd.gz unpacked once into a cache keyed by its
 * sha256) is always opened read-only; guest writes land in a differencing child:
 *
 *   - an explicit overlay file (created over the base if it does not exist yet),
 *   - a temporary snapshot child, deleted by dispose(),
 *   - or by default a persistent child per base image in the user's data directory
 *     ($XDG_DATA_HOME/romvisor or ~/.local/share/romvisor), never next to the image.
 *
 * The overlay is locked for writing and every disk below it for reading (DiskLock) until
 * dispose(): a second run on the same overlay is refused, while runs over one base share it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { VhdDisk, type BlockBackend, type ParentResolver } from '../disk/index.ts';
import { chainFiles, DiskLockSet, FileBackend, fileParentResolver, findSameFile, resolveLinks, type DiskLock } from '../disk/node.ts';
import { ApplianceError } from './ApplianceError.ts';

export type OverlayMode = { kind: 'persistent' } | { kind: 'file'; path: string } | { kind: 'snapshot' };

export interface ApplianceDiskOptions {
  /** Path of a .vhd or .vhd.gz (unused with `remoteBase`). */
  image: string;
  /**
   * A base that is not a file on this host (a repository's disk read by range): how to
   * open its backend (each call a new one), its name for the overlay's file name, and
   * where it is for messages and the overlay's parent locator.
   */
  remoteBase?: {
    name: string;
    where: string;
    open: () => Promise<BlockBackend>;
    /** The base's own parents when it is a patch (a differencing VHD in the same repository). */
    parentResolver?: ParentResolver;
    /** The persistent overlay's file name without .vhd (default NAME-UUID: one per base image). */
    persistentName?: string;
  };
  overlay: OverlayMode;
  /**
   * An existing overlay is deleted and made anew over this base (an update or roll back:
   * the system disk's changes go, the data disk stays). Done under the overlay's lock.
   */
  replaceOverlay?: boolean;
  /** The data disk's file (default: beside the overlay, NAME.data.vhd). */
  dataDisk?: string;
  /**
   * A restored machine's data disk: the file its state froze. When the data disk's file
   * does not exist it is made as a differencing child over this one (not blank), so the
   * guest writes into the child and the state's file stays as the state saw it.
   */
  dataDiskOver?: string;
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
  /**
   * The appliance's data disk (appliance.json's dataDiskMiB): a blank dynamic VHD made the
   * first time beside the overlay (NAME-UUID.data.vhd; in the snapshot's folder for a
   * snapshot), then kept: the user's data outlives the system disk's overlay. One that
   * exists is used at the size it has. Locked for writing and closed with the rest.
   */
  openDataDisk(sizeMiB: number): Promise<VhdDisk>;
  /** The data disk, once openDataDisk opened it. */
  readonly dataDisk: VhdDisk | undefined;
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
  const remote = opts.remoteBase;
  const image = remote ? remote.where : resolve(opts.image);
  const basePath = remote ? remote.where : /\.gz$/i.test(image) ? await unpackVhdGz(image, join(dataDir, 'cache')) : image;
  const openBase = remote ? remote.open : () => FileBackend.open(basePath, { readOnly: true });
  const name = remote ? remote.name : applianceName(image);
  // A remote base that is a patch finds its parents in its repository, a file's by locator.
  const parents = remote ? (remote.parentResolver ?? (async () => undefined)) : fileParentResolver();
  const base = await VhdDisk.open(await openBase(), { readOnly: true, parentResolver: parents });
  const locks = new DiskLockSet();
  let overlayLock: DiskLock;
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
        overlayPath = join(tempDir, `${name}.vhd`);
        temporary = true;
        break;
      case 'persistent':
        overlayPath = join(dataDir, 'overlays', `${remote?.persistentName ?? `${name}-${base.uuid}`}.vhd`);
        break;
    }
    // Writes go to the overlay only: an overlay that is the image (or a disk below it) by
    // another name would take them straight into the image.
    const same = findSameFile(overlayPath, [{ path: image, what: image }, ...chainFiles(base)]);
    if (same) throw new ApplianceError('overlay-is-image', `overlay ${overlayPath} is the same file as ${same.what}; guest writes never go into the image`, overlayPath);
    // Other runs may read the same base at once, but only this one writes its overlay.
    await mkdir(dirname(overlayPath), { recursive: true });
    for (const f of chainFiles(base)) await locks.add(f.path, 'read');
    overlayLock = await locks.add(overlayPath, 'write');
  } catch (e) {
    locks.release();
    await base.dispose();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw e;
  }

  let disk: VhdDisk;
  try {
    const temp = overlayLock.temporaryPath();
    if (opts.replaceOverlay) await rm(overlayLock.target, { force: true });
    disk = (await exists(overlayPath)) ? await openOverlay(overlayPath, base, basePath, openBase, parents) : await createOverlay(overlayPath, overlayLock.target, temp, base, basePath, openBase, !remote, parents);
    // An existing overlay may sit on disks between it and the base; they are read too.
    const locked = new Set([basePath, overlayPath, ...chainFiles(base).map((f) => f.path)].map(resolveLinks));
    try {
      for (const f of chainFiles(disk).slice(1)) if (!locked.has(resolveLinks(f.path))) await locks.add(f.path, 'read');
    } catch (e) {
      await disk.dispose();
      throw e;
    }
  } catch (e) {
    await base.dispose(); // idempotent: the overlay's chain may have disposed it already
    locks.release();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw e;
  }
  let disposed = false;
  let data: VhdDisk | undefined;
  return {
    disk,
    basePath,
    overlayPath,
    temporary,
    get dataDisk() {
      return data;
    },
    async openDataDisk(sizeMiB) {
      if (data) return data;
      const path = opts.dataDisk !== undefined ? resolve(opts.dataDisk) : overlayPath.replace(/\.vhd$/i, '') + '.data.vhd';
      const lock = await locks.add(path, 'write');
      if (!(await exists(path))) {
        const temp = lock.temporaryPath();
        let created: VhdDisk;
        if (opts.dataDiskOver !== undefined) {
          const over = resolve(opts.dataDiskOver);
          await locks.add(over, 'read');
          const parent = await VhdDisk.open(await FileBackend.open(over, { readOnly: true }), { readOnly: true, parentResolver: fileParentResolver() });
          created = await VhdDisk.createDifferencing(await FileBackend.create(temp), parent, { parentAbsolutePath: over, parentRelativePath: relative(dirname(lock.target), over) || basename(over) });
        } else created = await VhdDisk.createDynamic(await FileBackend.create(temp), sizeMiB * 2 ** 20);
        await created.flush();
        await created.dispose();
        await rename(temp, lock.target);
      }
      data = await VhdDisk.open(await FileBackend.open(path), { parentResolver: fileParentResolver() });
      return data;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        if (data) {
          // An explicit data disk is the user's file even under a snapshot overlay.
          if (!temporary || opts.dataDisk !== undefined) await data.flush();
          await data.dispose();
        }
        if (!temporary) await disk.flush();
        await disk.dispose();
      } finally {
        locks.release();
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Creates the overlay over `base` (which it takes over) under the temporary name `temp`,
 * renames it to `target` (the file `path` names) once complete, and opens it: a run
 * killed half way leaves no overlay that would not open next time, only a temporary
 * file that the next run removes (DiskLock.temporaryPath).
 */
async function createOverlay(path: string, target: string, temp: string, base: VhdDisk, basePath: string, openBase: () => Promise<BlockBackend>, baseIsFile: boolean, parents: ParentResolver): Promise<VhdDisk> {
  const backend = await FileBackend.create(temp);
  try {
    const created = await VhdDisk.createDifferencing(backend, base, {
      parentAbsolutePath: basePath,
      ...(baseIsFile ? { parentRelativePath: relative(dirname(target), basePath) || basename(basePath) } : { parentName: basename(basePath) }),
    });
    await created.flush();
    await created.dispose();
    await rename(temp, target);
  } catch (e) {
    await backend.dispose();
    await base.dispose();
    await rm(temp, { force: true });
    throw e;
  }
  return openOverlay(path, base, basePath, openBase, parents);
}

/**
 * Opens an existing overlay whose chain must reach `base`. The already-open base stands in
 * for whatever the locators say (the cache path of an unpacked .vhd.gz may have moved).
 */
async function openOverlay(path: string, base: VhdDisk, basePath: string, openBase: () => Promise<BlockBackend>, fallback: ParentResolver): Promise<VhdDisk> {
  let usedBase = false;
  const resolver: ParentResolver = async (ref, child) => {
    if (ref.uniqueId === base.uuid) {
      usedBase = true;
      return openBase();
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
