/**
 * Node-only: `romvisor repo build DIR`, the repository.json of the VHDs in a folder. Each
 * VHD is opened as `romvisor boot` opens it and named by the appliance.json on its boot
 * partition (version "1" when it names none); title, description and memory come from the
 * newest version's appliance.json. URLs are the file names, relative to the index.
 * A differencing VHD (`romvisor appliance diff`) is published as a patch: its parent must be
 * another VHD in the folder, of the same appliance, whose version becomes its `parent`.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readApplianceManifest } from '../boot/applianceBoot.ts';
import type { ApplianceManifest } from '../boot/ApplianceManifest.ts';
import { VhdDisk } from '../disk/index.ts';
import { FileBackend, fileParentResolver } from '../disk/node.ts';
import { RepoError } from './RepoError.ts';
import { CHUNK_SIZE, INDEX_FILE, parseRepositoryIndex, REPOSITORY_SCHEMA, type RepositoryAppliance, type RepositoryIndex, type RepositoryVersion } from './RepositoryIndex.ts';

/** RAM for an appliance whose appliance.json asks for none: what the page gives an imported one. */
const DEFAULT_MEMORY_MIB = 128;

export interface BuildRepositoryOptions {
  /** Default: the name in an existing repository.json, else the folder's name. */
  name?: string;
  chunkSize?: number;
}

export async function buildRepository(dir: string, opts: BuildRepositoryOptions = {}): Promise<{ path: string; index: RepositoryIndex }> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE.default;
  if (!Number.isInteger(chunkSize) || chunkSize < CHUNK_SIZE.min || chunkSize > CHUNK_SIZE.max || (chunkSize & (chunkSize - 1)) !== 0) {
    throw new RepoError('bad-input', `chunk size ${chunkSize} is not a power of two from ${CHUNK_SIZE.min / 1024} KiB to ${CHUNK_SIZE.max / 1024} KiB`, 'chunk-size');
  }
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new RepoError('bad-input', `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, dir);
  }
  const gz = names.find((n) => /\.vhd\.gz$/i.test(n));
  if (gz) throw new RepoError('bad-input', `${join(dir, gz)}: a gzipped VHD cannot be read by range; gunzip it into the folder first`, gz);
  const files = names.filter((n) => /\.vhd$/i.test(n));
  if (files.length === 0) throw new RepoError('bad-input', `${dir}: no .vhd files to index`, dir);

  const byName = new Map<string, { manifest: ApplianceManifest; version: RepositoryVersion; file: string; parentId?: string }[]>();
  for (const file of files) {
    const path = join(dir, file);
    const { manifest, virtualSize, uniqueId, parentId } = await readVhd(path);
    const version = manifest.version ?? '1';
    if (!/^[A-Za-z0-9._+~-]{1,64}$/.test(version)) {
      throw new RepoError('bad-input', `${path}: appliance.json version ${JSON.stringify(version.slice(0, 40))} cannot name a repository version (letters, digits, '.', '_', '+', '~', '-', at most 64)`, path);
    }
    const hashed = await hashChunks(path, chunkSize);
    const list = byName.get(manifest.name) ?? [];
    const twin = list.find((e) => e.version.version === version);
    if (twin) throw new RepoError('bad-input', `${path} and ${join(dir, twin.file)} are both appliance "${manifest.name}" version ${version}`, path);
    list.push({ manifest, file, parentId, version: { version, url: encodeURIComponent(file), size: hashed.size, virtualSize, sha256: hashed.sha256, chunkSize, chunks: hashed.chunks, uniqueId } });
    byName.set(manifest.name, list);
  }
  // A patch's parent by the unique id its header names: a version of the same appliance.
  for (const [name, list] of byName) {
    for (const e of list) {
      if (e.parentId === undefined) continue;
      const parent = list.find((p) => p.version.uniqueId === e.parentId);
      if (!parent) {
        const elsewhere = [...byName.values()].flat().find((p) => p.version.uniqueId === e.parentId);
        throw new RepoError('bad-input', `${join(dir, e.file)} is a patch over ${elsewhere ? `${join(dir, elsewhere.file)}, appliance "${elsewhere.manifest.name}", not "${name}"` : `unique id ${e.parentId}, which no VHD in ${dir} is`}`, e.file);
      }
      e.version.parent = parent.version.version;
    }
  }

  const appliances: RepositoryAppliance[] = [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      list.sort((a, b) => a.version.version.localeCompare(b.version.version, 'en', { numeric: true }));
      for (const [i, e] of list.entries()) {
        const at = list.findIndex((p) => p.version.version === e.version.parent);
        if (at > i) throw new RepoError('bad-input', `${join(dir, e.file)} (version ${e.version.version}) is a patch over version ${e.version.parent}, which sorts after it; a patch's version must be the newer`, e.file);
      }
      const newest = list.at(-1)!.manifest;
      return {
        name,
        title: newest.title ?? name,
        description: newest.description ?? '',
        memoryMiB: newest.memoryMiB ?? DEFAULT_MEMORY_MIB,
        ...(newest.dataDiskMiB !== undefined ? { dataDiskMiB: newest.dataDiskMiB } : {}),
        versions: list.map((e) => e.version),
      };
    });
  const indexPath = join(dir, INDEX_FILE);
  const name = opts.name ?? (await existingName(indexPath)) ?? basename(dir.replace(/\/+$/, ''));
  const index: RepositoryIndex = { schema: REPOSITORY_SCHEMA, name, appliances };
  const bytes = new TextEncoder().encode(JSON.stringify(index, null, 1) + '\n');
  // What is written must read back: the builder never publishes an index its own parser refuses.
  parseRepositoryIndex(bytes, indexPath);
  const temp = `${indexPath}.${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, indexPath);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return { path: indexPath, index };
}

async function readVhd(path: string): Promise<{ manifest: ApplianceManifest; virtualSize: number; uniqueId: string; parentId?: string }> {
  const backend = await FileBackend.open(path, { readOnly: true });
  let disk: VhdDisk;
  try {
    disk = await VhdDisk.open(backend, { readOnly: true, parentResolver: fileParentResolver() });
  } catch (e) {
    await backend.dispose();
    throw new RepoError('bad-input', `${path}: not a VHD romvisor opens: ${(e as Error).message}`, path);
  }
  try {
    const parentId = disk.parent?.uuid;
    return { manifest: await readApplianceManifest(disk), virtualSize: disk.virtualSize, uniqueId: disk.uuid, ...(parentId !== undefined ? { parentId } : {}) };
  } catch (e) {
    throw new RepoError('bad-input', `${path}: not an appliance: ${(e as Error).message}`, path);
  } finally {
    await disk.dispose();
  }
}

/** The sha256 of the whole file and of each `chunkSize` piece of it. */
async function hashChunks(path: string, chunkSize: number): Promise<{ size: number; sha256: string; chunks: string[] }> {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const f = await open(path, 'r');
  try {
    const buf = new Uint8Array(chunkSize);
    let size = 0;
    for (;;) {
      let got = 0;
      while (got < chunkSize) {
        const { bytesRead } = await f.read(buf, got, chunkSize - got, size + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got === 0) break;
      const piece = buf.subarray(0, got);
      whole.update(piece);
      chunks.push(createHash('sha256').update(piece).digest('hex'));
      size += got;
      if (got < chunkSize) break;
    }
    return { size, sha256: whole.digest('hex'), chunks };
  } finally {
    await f.close();
  }
}

async function existingName(indexPath: string): Promise<string | undefined> {
  try {
    return parseRepositoryIndex(new Uint8Array(await readFile(indexPath)), indexPath).name;
  } catch {
    // No index yet, or one that is refused: the new one replaces it.
    return undefined;
  }
}
