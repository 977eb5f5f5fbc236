/**
 * Node-only: the CLI's "server", a directory that a backup archive restores into and is
 * created from, laid out so that `romvisor boot` runs each VM from it:
 *
 *   DIR/server.json         what the directory holds: every image (its file, VHD ids, its
 *                           record) and every record of the page's stores (VM records,
 *                           suspended states, ...), bytes as files named by {"$file": PATH}
 *   DIR/vms/NAME/disk.vhd   VM NAME's disk: a differencing VHD over its base, with parent
 *                           locators (relative and absolute), what `boot --overlay` takes
 *   DIR/vms/NAME/disk.data.vhd  its data disk (/dev/vdb, /data), if its appliance has one:
 *                           what `boot --data-disk` takes (and finds by itself beside the
 *                           overlay); a dynamic VHD, or a differencing one over the data
 *                           disks its snapshots froze (in images/)
 *   DIR/vms/NAME/share/     its shared folder (`boot --share`)
 *   DIR/vms/NAME/*.romvstat its suspended state, and the other bytes of its records
 *   DIR/images/ID.vhd       bases the archive carries (imported disks) and disks between a
 *                           VM's and its base (frozen snapshot disks)
 * Built-in bases are not copied: they are the appliances/NAME.vhd.gz of this romvisor
 * (matched by sha256), unpacked into $XDG_DATA_HOME/romvisor/cache as `romvisor boot` does.
 *
 * Restoring writes into DIR.partial and renames it to DIR at the end: a refused or failed
 * restore leaves no DIR. A VM disk is rebuilt rather than copied (the page's disks name
 * their parent by unique id only, and qemu-img and `romvisor vhd check` need locators):
 * same unique id and time stamp, every block the original allocates, read through its
 * chain, so the guest sees the same bytes. Its sha256 is kept in server.json: `create`
 * counts a disk changed since as a write, so a suspended state that no longer matches its
 * disk is discarded by the page rather than resumed on the wrong disk.
 */
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { VhdDisk, formatUniqueId, type BlockBackend } from '../disk/index.ts';
import { FileBackend, fileParentResolver } from '../disk/node.ts';
import type { MemoryShareEntry } from '../share/index.ts';
import { BackupArchive, bytesSource, rangeSource, type ArchiveProgress, type EntrySource } from './BackupArchive.ts';
import { BackupError } from './BackupError.ts';
import type { BackupImage, BackupRecord, BackupServer, BackupShare } from './BackupServer.ts';
import { fromArchiveJson, toArchiveJson, type EntrySink } from './archiveJson.ts';
import { sha256File } from '../state/stateFiles.node.ts';

const SERVER_FILE = 'server.json';
const SERVER_FORMAT = 'romvisor-server';

/** How this romvisor finds a built-in appliance's .vhd.gz, and unpacks one (cached). */
export interface BuiltinImages {
  /** appliances/NAME.vhd.gz, or undefined when there is none by that name. */
  gz(name: string): Promise<string | undefined>;
  /** The unpacked VHD's path (cached by the .gz's sha256). */
  unpack(gz: string): Promise<string>;
}

interface DirImage {
  id: string;
  /** Relative to DIR; a built-in base's is the absolute cache path. */
  file: string;
  vhdUuid: string;
  parentUuid?: string;
  virtualSize: number;
  record: Record<string, unknown>;
  base?: BackupImage['base'];
  /** sha256 of the file as restore wrote it (absent for bases named by reference). */
  sha256?: string;
}

interface ServerJson {
  format: typeof SERVER_FORMAT;
  version: 1;
  images: DirImage[];
  records: { store: string; key?: unknown; value: Record<string, unknown> }[];
  shares: { vmId: string; dir: string }[];
}

/** The fields of a VM record a server directory reads. */
interface DirVm {
  id: string;
  name: string;
  diskImageId?: string;
  /** Its data disk (/dev/vdb, /data). */
  dataImageId?: string;
  memoryMiB?: number;
  harts?: number;
  extraArgs?: string;
}

export interface VmSummary {
  name: string;
  disk?: string;
  /** Its data disk's file (`boot --data-disk`). */
  dataDisk?: string;
  suspended: boolean;
  /** The command line that boots it. */
  boot: string;
}

/**
 * Writes the archive's server into `dir` (which must not exist, or be empty). Everything is
 * checked first: every sha256, every VHD, every built-in base found here with its sha256.
 */
export async function restoreServerDirectory(archive: BackupArchive, dir: string, builtins: BuiltinImages, onProgress?: (p: ArchiveProgress) => void): Promise<VmSummary[]> {
  dir = resolve(dir);
  if ((await readdir(dir).catch(() => [])).length > 0) throw new BackupError('backup-inconsistent', `${dir} exists and is not empty: a restore never writes over a server (give a new directory)`);
  await archive.verify(onProgress);
  const { server } = archive;
  const vms = server.stores.vms!.map((r) => r.value as unknown as DirVm);
  for (const vm of vms) if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(vm.name)) throw new BackupError('backup-malformed', `manifest: VM name ${JSON.stringify(vm.name.slice(0, 70))} cannot name a folder`);

  // Bases first: found here, or the restore is refused before a byte is written.
  const baseFiles = new Map<string, string>();
  for (const img of server.images) {
    if (!img.base) continue;
    if (img.base.origin !== 'builtin') throw new BackupError('backup-unavailable', `image ${img.id} is "${img.base.name}" of the repository at ${img.base.url}; the CLI restores VMs on built-in or carried bases only (boot such a VM with --repo)`);
    const gz = await builtins.gz(img.base.name);
    const sum = gz ? await sha256File(gz) : undefined;
    if (!gz || sum !== img.base.sha256) {
      throw new BackupError('backup-unavailable', `the archive's VMs stand on built-in appliance "${img.base.name}" with sha256 ${img.base.sha256.slice(0, 16)}…; ${gz ? `this romvisor's ${gz} has ${sum!.slice(0, 16)}…` : 'this romvisor has none'}: nothing was restored`);
    }
    const path = await builtins.unpack(gz);
    const disk = await VhdDisk.open(await FileBackend.open(path, { readOnly: true }), { readOnly: true });
    const uuid = disk.uuid;
    await disk.dispose();
    if (uuid !== img.vhdUuid) throw new BackupError('backup-unavailable', `built-in appliance "${img.base.name}" here has VHD unique id ${uuid}, the archive's ${img.vhdUuid}`);
    baseFiles.set(img.id, path);
  }

  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    // Each VM's current disks in its folder, under the names `boot` takes and finds.
    const vmFiles = new Map<string, string>();
    for (const v of vms) {
      if (v.diskImageId) vmFiles.set(v.diskImageId, `vms/${v.name}/disk.vhd`);
      if (v.dataImageId) vmFiles.set(v.dataImageId, `vms/${v.name}/disk.data.vhd`);
    }
    const fileOf = new Map<string, string>();
    for (const [id, path] of baseFiles) fileOf.set(id, path);
    for (const img of server.images) if (!img.base) fileOf.set(img.id, vmFiles.get(img.id) ?? `images/${safeName(img.id)}.vhd`);
    const byUuid = new Map(server.images.map((i) => [i.vhdUuid, i]));
    const images: DirImage[] = [];
    const done = new Set<string>();
    // Parents before children.
    const write = async (img: BackupImage): Promise<void> => {
      if (done.has(img.id)) return;
      if (img.parentUuid) await write(byUuid.get(img.parentUuid)!);
      done.add(img.id);
      const file = fileOf.get(img.id)!;
      const entry: DirImage = { id: img.id, file, vhdUuid: img.vhdUuid, virtualSize: img.virtualSize, record: img.record, ...(img.parentUuid ? { parentUuid: img.parentUuid } : {}), ...(img.base ? { base: img.base } : {}) };
      if (!img.base) {
        const target = join(partial, file);
        await mkdir(dirname(target), { recursive: true });
        if (img.parentUuid) {
          const parent = byUuid.get(img.parentUuid)!;
          const parentFile = fileOf.get(parent.id)!;
          await rebuildDifferencing(archive, img.entry!, target, parent.base ? parentFile : join(partial, parentFile), parent.base ? parentFile : join(dir, parentFile));
        } else {
          await copyEntry(archive, img.entry!, target);
        }
        entry.sha256 = await sha256File(target);
      }
      images.push(entry);
    };
    for (const img of server.images) await write(img);

    // Records, their bytes as files beside the VM they belong to.
    const records: ServerJson['records'] = [];
    let n = 0;
    for (const [store, rs] of Object.entries(server.stores)) {
      for (const r of rs) {
        const owner = vms.find((v) => stringsIn(r.value).includes(v.id));
        const folder = owner ? `vms/${owner.name}` : 'records';
        const toFile = async (v: unknown): Promise<unknown> => {
          const bytesOf = new Map<string, Uint8Array>();
          for (const name of entryNames(v)) bytesOf.set(name, await archive.bytes(name));
          const plain = fromArchiveJson(v, (name) => bytesOf.get(name)!);
          return toArchiveJson(plain, (bytes, kind) => {
            const file = `${folder}/${store}-${n++}.${kind === 'state' ? 'romvstat' : 'bin'}`;
            pendingFiles.push([file, bytes]);
            return file;
          }, store);
        };
        const pendingFiles: [string, Uint8Array][] = [];
        const value = renameEntries(await toFile(r.value)) as Record<string, unknown>;
        const key = r.key === undefined ? undefined : renameEntries(await toFile(r.key));
        for (const [file, bytes] of pendingFiles) {
          await mkdir(dirname(join(partial, file)), { recursive: true });
          await writeFile(join(partial, file), bytes);
        }
        records.push({ store, value, ...(key !== undefined ? { key } : {}) });
      }
    }
    // Shared folders, as files.
    const shares: ServerJson['shares'] = [];
    for (const vm of vms) {
      const folder = server.shares.find((s) => s.vmId === vm.id);
      const shareDir = `vms/${vm.name}/share`;
      await mkdir(join(partial, shareDir), { recursive: true });
      shares.push({ vmId: vm.id, dir: shareDir });
      for (const f of folder?.files ?? []) {
        const bytesOf = new Map<string, Uint8Array>();
        for (const name of entryNames(f)) bytesOf.set(name, await archive.bytes(name));
        await writeShareEntry(join(partial, shareDir), fromArchiveJson(f, (name) => bytesOf.get(name)!) as MemoryShareEntry);
      }
    }
    const json: ServerJson = { format: SERVER_FORMAT, version: 1, images, records, shares };
    await writeFile(join(partial, SERVER_FILE), JSON.stringify(json, null, 1) + '\n');
    await rename(partial, dir);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
  return summarize(dir, await readServerJson(dir));
}

/** The server in `dir` (as restore wrote it, with whatever its VMs did since) as an archive's content. */
export async function collectServerDirectory(dir: string): Promise<{ server: BackupServer; sources: EntrySource[] }> {
  dir = resolve(dir);
  const json = await readServerJson(dir);
  const sources: EntrySource[] = [];
  const images: BackupImage[] = [];
  const writesBumped = new Map<string, { size: number; changed: boolean }>();
  for (const img of json.images) {
    const out: BackupImage = { id: img.id, vhdUuid: img.vhdUuid, virtualSize: img.virtualSize, record: { ...img.record }, ...(img.parentUuid ? { parentUuid: img.parentUuid } : {}) };
    if (img.base) {
      out.base = img.base;
      images.push(out);
      continue;
    }
    const path = join(dir, img.file);
    const backend = await FileBackend.open(path, { readOnly: true });
    const disk = await VhdDisk.open(backend, { readOnly: true, parentResolver: async () => undefined }).catch(() => undefined);
    const uuid = disk ? disk.uuid : await footerUuid(backend);
    await disk?.dispose();
    await backend.dispose();
    if (uuid !== img.vhdUuid) throw new BackupError('backup-inconsistent', `${path}: VHD unique id ${uuid}, ${SERVER_FILE} says ${img.vhdUuid} (a disk replaced by another?)`);
    const size = (await stat(path)).size;
    // A disk written since the restore has a new write counted: a suspended state taken
    // before stops matching it, and the page discards that state instead of resuming it.
    const changed = img.sha256 !== undefined && (await sha256File(path)) !== img.sha256;
    const writes = typeof out.record.writes === 'number' ? out.record.writes : 0;
    out.record = { ...out.record, size, ...(changed ? { writes: writes + 1 } : {}) };
    writesBumped.set(img.id, { size, changed });
    out.entry = `images/${safeName(img.id)}.vhd`;
    sources.push(fileSource(out.entry, path));
    images.push(out);
  }
  const add: EntrySink = (bytes, kind) => {
    const name = `records/${sources.length}.${kind === 'state' ? 'romvstat' : 'bin'}`;
    sources.push(bytesSource(name, kind, bytes));
    return name;
  };
  const stores: Record<string, BackupRecord[]> = {};
  for (const r of json.records) {
    const readFiles = async (v: unknown) => {
      const files = new Map<string, Uint8Array>();
      for (const f of fileNames(v)) files.set(f, new Uint8Array(await readFile(inside(dir, f))));
      return fromArchiveJson(unrenameEntries(v), (name) => files.get(name)!);
    };
    let value = (await readFiles(r.value)) as Record<string, unknown>;
    // A machine state's disk identities (a suspended VM's, a snapshot's; the system disk and
    // the data disk) follow the disks' sizes here (see above): a rebuilt disk the guest did
    // not write keeps its state resumable.
    if (r.store === 'suspended' || r.store === 'snapshotStates') {
      for (const field of ['disk', 'dataDisk']) {
        const disk = value[field] as { imageId?: string; size?: number } | undefined;
        const now = disk?.imageId ? writesBumped.get(disk.imageId) : undefined;
        if (now && !now.changed) value = { ...value, [field]: { ...disk, size: now.size } };
      }
    }
    const rec: BackupRecord = { value: toArchiveJson(value, add, r.store) as Record<string, unknown> };
    if (r.key !== undefined) rec.key = toArchiveJson(await readFiles(r.key), add, r.store);
    (stores[r.store] ??= []).push(rec);
  }
  const shares: BackupShare[] = [];
  for (const s of json.shares) {
    const entries = await readShareDir(inside(dir, s.dir));
    if (entries.length) shares.push({ vmId: s.vmId, files: entries.map((e) => toArchiveJson(e, add, 'share') as Record<string, unknown>) });
  }
  stores.vms ??= [];
  return { server: { images, stores, shares }, sources };
}

/** The VMs of a server directory and how to boot each. */
export async function summarize(dir: string, json?: ServerJson): Promise<VmSummary[]> {
  json ??= await readServerJson(dir);
  const suspended = new Set(json.records.filter((r) => r.store === 'suspended').map((r) => r.value.vmId));
  const byId = new Map(json.images.map((i) => [i.id, i]));
  const byUuid = new Map(json.images.map((i) => [i.vhdUuid, i]));
  return json.records
    .filter((r) => r.store === 'vms')
    .map((r) => {
      const vm = r.value as unknown as DirVm;
      let base = vm.diskImageId ? byId.get(vm.diskImageId) : undefined;
      while (base?.parentUuid) base = byUuid.get(base.parentUuid);
      const image = base?.base ? base.base.name : base ? join(dir, base.file) : undefined;
      const disk = vm.diskImageId ? join(dir, byId.get(vm.diskImageId)!.file) : undefined;
      const data = vm.dataImageId && byId.get(vm.dataImageId) ? join(dir, byId.get(vm.dataImageId)!.file) : undefined;
      const args = ['romvisor boot', image ?? '', disk ? `--overlay ${disk}` : '', data ? `--data-disk ${data}` : '', vm.memoryMiB ? `--mem ${vm.memoryMiB}M` : '', vm.harts && vm.harts > 1 ? `--smp ${vm.harts}` : '', `--share ${join(dir, 'vms', vm.name, 'share')}`, `--name ${vm.name}`, vm.extraArgs ? `--append ${JSON.stringify(vm.extraArgs)}` : ''];
      return { name: vm.name, ...(disk ? { disk } : {}), ...(data ? { dataDisk: data } : {}), suspended: suspended.has(vm.id), boot: args.filter(Boolean).join(' ') };
    });
}

async function readServerJson(dir: string): Promise<ServerJson> {
  let text: string;
  try {
    text = await readFile(join(dir, SERVER_FILE), 'utf8');
  } catch {
    throw new BackupError('backup-inconsistent', `${dir} is not a romvisor server directory: it has no ${SERVER_FILE} (make one with romvisor backup restore)`);
  }
  let json: ServerJson;
  try {
    json = JSON.parse(text) as ServerJson;
  } catch (e) {
    throw new BackupError('backup-malformed', `${join(dir, SERVER_FILE)}: not JSON (${(e as Error).message})`);
  }
  if (json?.format !== SERVER_FORMAT || json.version !== 1 || !Array.isArray(json.images) || !Array.isArray(json.records) || !Array.isArray(json.shares)) {
    throw new BackupError('backup-malformed', `${join(dir, SERVER_FILE)}: not a version 1 ${SERVER_FORMAT} file`);
  }
  return json;
}

/**
 * Writes the differencing disk of entry `entry` as a new file over the (already written)
 * parent at `parentPath`, its locators naming `parentFinal` (where the parent will be once
 * DIR.partial is renamed): same unique id, time stamp and block size, each allocated block.
 */
async function rebuildDifferencing(archive: BackupArchive, entry: string, target: string, parentPath: string, parentFinal: string): Promise<void> {
  const parentFor = async (): Promise<BlockBackend> => FileBackend.open(parentPath, { readOnly: true });
  // The entry's parent is the file just written; disks further down are found from it by
  // its locators (relative ones: DIR.partial has DIR's layout).
  const byLocators = fileParentResolver();
  const parentUuid = await diffParentUuid(archive, entry);
  const src = await VhdDisk.open(archive.source(entry), { readOnly: true, parentResolver: (ref, child) => (ref.uniqueId === parentUuid ? parentFor() : byLocators(ref, child)) });
  try {
    const parent = await VhdDisk.open(await parentFor(), { readOnly: true, parentResolver: byLocators });
    const finalTarget = target.replace(/\.partial(\/|$)/, '$1');
    const child = await VhdDisk.createDifferencing(await FileBackend.create(target), parent, {
      uniqueId: src.footer.uniqueId,
      timeStamp: src.footer.timeStamp,
      blockSize: src.blockSize,
      parentAbsolutePath: parentFinal,
      parentRelativePath: relative(dirname(finalTarget), parentFinal) || parentFinal,
    });
    try {
      const bs = src.blockSize;
      for (let i = 0; i < src.blockCount; i++) {
        if (!src.isBlockAllocated(i)) continue;
        const start = i * bs;
        const length = Math.min(bs, src.virtualSize - start);
        await child.write(start, await src.read(start, length));
      }
      await child.flush();
    } finally {
      await child.dispose();
    }
  } finally {
    await src.dispose();
  }
}

/** The parent unique id a differencing disk's header names. */
async function diffParentUuid(archive: BackupArchive, entry: string): Promise<string> {
  const size = archive.entry(entry).size;
  const footer = await archive.read(entry, size - 512, 512);
  const headerAt = Number(new DataView(footer.buffer, footer.byteOffset).getBigUint64(16));
  return formatUniqueId(await archive.read(entry, headerAt + 40, 16));
}

async function copyEntry(archive: BackupArchive, entry: string, target: string): Promise<void> {
  const out = await FileBackend.create(target);
  try {
    let at = 0;
    for await (const piece of rangeSource(entry, 'disk', archive.source(entry)).chunks()) {
      await out.write(at, piece);
      at += piece.length;
    }
    await out.flush();
  } finally {
    await out.dispose();
  }
}

function fileSource(name: string, path: string): EntrySource {
  return {
    name,
    kind: 'disk',
    async *chunks() {
      const backend = await FileBackend.open(path, { readOnly: true });
      try {
        yield* rangeSource(name, 'disk', backend).chunks();
      } finally {
        await backend.dispose();
      }
    },
  };
}

async function footerUuid(backend: FileBackend): Promise<string> {
  const footer = await backend.read(backend.size - 512, 512);
  return formatUniqueId(footer.subarray(68, 84));
}


/** A path of server.json must stay inside the directory. */
function inside(dir: string, rel: string): string {
  const p = resolve(dir, rel);
  if (p !== dir && !p.startsWith(dir + '/')) throw new BackupError('backup-malformed', `${join(dir, SERVER_FILE)}: path ${JSON.stringify(rel)} leads outside the directory`);
  return p;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}

/** In server.json bytes are {"$file": PATH}; in an archive, {"$entry": NAME}. */
function renameEntries(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(renameEntries);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length === 1 && typeof o.$entry === 'string') return { $file: o.$entry };
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, renameEntries(x)]));
}

function unrenameEntries(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unrenameEntries);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length === 1 && typeof o.$file === 'string') return { $entry: o.$file };
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unrenameEntries(x)]));
}

function fileNames(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => fileNames(x, out));
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.$file === 'string') out.push(o.$file);
    else Object.values(o).forEach((x) => fileNames(x, out));
  }
  return out;
}

function entryNames(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => entryNames(x, out));
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.$entry === 'string') out.push(o.$entry);
    else Object.values(o).forEach((x) => entryNames(x, out));
  }
  return out;
}

function stringsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => stringsIn(x, out));
  else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => stringsIn(x, out));
  return out;
}

async function writeShareEntry(root: string, e: MemoryShareEntry): Promise<void> {
  const path = inside(root, e.path);
  await mkdir(dirname(path), { recursive: true });
  if (e.kind === 'dir') await mkdir(path, { recursive: true, mode: e.mode & 0o7777 });
  else if (e.kind === 'symlink') await symlink(e.target ?? '', path);
  else await writeFile(path, e.data ?? new Uint8Array(0), { mode: e.mode & 0o7777 });
  if (e.kind !== 'symlink') {
    const t = Number(e.mtimeNs / 1000n) / 1e6;
    await utimes(path, t, t);
  }
}

/** A host directory as a shared folder's entries, parents first (what the page keeps). */
async function readShareDir(root: string): Promise<MemoryShareEntry[]> {
  const out: MemoryShareEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      const mtimeNs = BigInt(Math.round(st.mtimeMs * 1e6));
      if (st.isSymbolicLink()) out.push({ path, kind: 'symlink', mode: 0o120777, mtimeNs, target: await readlink(join(root, path)) });
      else if (st.isDirectory()) {
        out.push({ path, kind: 'dir', mode: st.mode, mtimeNs });
        await walk(path);
      } else if (st.isFile()) out.push({ path, kind: 'file', mode: st.mode, mtimeNs, data: new Uint8Array(await readFile(join(root, path))) });
    }
  };
  await walk('');
  return out;
}
