/**
 * The whole-server backup archive, one file that the page and the CLI both write and read.
 *
 * Format, version 1 (all integers little-endian):
 *
 *   offset 0   header, 64 bytes
 *     0x00  magic "ROMVBKUP" (8 bytes)
 *     0x08  format version, u32 (1); a reader refuses a newer one
 *     0x0c  flags, u32 (0; no flag is defined)
 *     0x10  manifest length in bytes, u32 (at most 16 MiB)
 *     0x14  reserved, u32 (0)
 *     0x18  archive length in bytes, u64 (the whole file: a cut or a tail is seen at once)
 *     0x20  sha256 of the manifest's bytes (32 bytes)
 *   offset 64  manifest: UTF-8 JSON
 *     { "createdAt": ISO time, "createdBy": "romvisor page 0.1" | "romvisor cli 0.1",
 *       "entries": [ { "name", "kind": "disk" | "state" | "data", "size", "sha256" } ... ],
 *       "server": { "images", "stores", "shares" } }          (see BackupServer.ts)
 *   then the entries' bytes, back to back in the order of "entries", no padding; the
 *   header's archive length is 64 + manifest length + the sum of the entry sizes.
 *
 * The server: "images" lists every disk the VMs stand on, each with its VHD unique id, its
 * parent's, and either "entry" (its VHD bytes: imported bases, every VM's differencing
 * disk, frozen snapshot disks) or "base" (a built-in appliance or a repository's version,
 * named by sha256 and carried by neither side: the restoring side fetches or finds it).
 * "stores" holds the records of the VM database's object stores by store name ("vms",
 * "suspended", and whatever a later schema adds), bytes in a record (a machine state
 * file, a console screen) moved to entries (archiveJson.ts). "shares" holds each VM's
 * shared folder, file bytes as entries.
 *
 * Entry kinds: "disk" entries must open as a VHD whose unique id is the image's, "state"
 * entries as a machine state container (src/state, magic ROMVSTAT), "data" is plain bytes.
 *
 * Reading refuses, with a BackupError naming what and where: a bad magic, a newer version,
 * a header, manifest or entry that ends early, a manifest or entry whose sha256 differs, a
 * malformed field, and parts that do not fit together. `verify()` reads every byte once
 * (bounded reads, so a disk of gigabytes needs no more memory than one read); a restore runs
 * it to the end before it writes anything.
 *
 * Writing needs each entry's size and sha256 before the first entry's bytes: the writer reads
 * every source twice, hashing, then streaming while hashing again, and refuses with
 * `backup-changed` a source whose bytes changed in between (a VM that was running).
 */
import type { ByteSource } from '../disk/index.ts';
import { formatUniqueId, VhdDisk } from '../disk/index.ts';
import { hexBytes } from '../format/hexBytes.ts';
import { Sha256 } from '../format/sha256.ts';
import { decodeContainer } from '../state/StateContainer.ts';
import { StateError } from '../state/StateError.ts';
import { FieldReader } from '../state/FieldReader.ts';
import { BackupError } from './BackupError.ts';
import { readBackupServer, type BackupEntry, type BackupServer } from './BackupServer.ts';
import type { EntryKind } from './archiveJson.ts';

export const BACKUP_MAGIC = 'ROMVBKUP';
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_HEADER_BYTES = 64;
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Reads and writes move at most this much at a time. */
export const BACKUP_IO_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES = 100_000;

export interface BackupManifest {
  createdAt: string;
  createdBy: string;
  entries: BackupEntry[];
  server: BackupServer;
}

/** An entry to write: its bytes come from `chunks()`, which the writer calls twice. */
export interface EntrySource {
  name: string;
  kind: EntryKind;
  chunks(): AsyncIterable<Uint8Array>;
}

export interface ArchiveProgress {
  /** What is being done: hashing the sources, writing, or verifying. */
  phase: 'hashing' | 'writing' | 'verifying';
  bytes: number;
  total: number;
}

/** Bytes held in memory, as an entry source. */
export function bytesSource(name: string, kind: EntryKind, bytes: Uint8Array): EntrySource {
  return {
    name,
    kind,
    async *chunks() {
      for (let at = 0; at < bytes.length; at += BACKUP_IO_BYTES) yield bytes.subarray(at, at + BACKUP_IO_BYTES);
    },
  };
}

/** A byte range of a random-access source (a file, a Blob, an image), read in bounded pieces. */
export function rangeSource(name: string, kind: EntryKind, src: ByteSource, offset = 0, length = src.size - offset): EntrySource {
  return {
    name,
    kind,
    async *chunks() {
      for (let at = 0; at < length; at += BACKUP_IO_BYTES) yield src.read(offset + at, Math.min(BACKUP_IO_BYTES, length - at));
    },
  };
}

/**
 * The archive's bytes, in order: header and manifest, then each entry. `server` must name
 * each source exactly once (checked: the archive would not read back otherwise).
 */
export async function* writeBackupArchive(
  server: BackupServer,
  sources: readonly EntrySource[],
  opts: { createdBy: string; createdAt?: Date; onProgress?: (p: ArchiveProgress) => void },
): AsyncGenerator<Uint8Array> {
  const entries: BackupEntry[] = [];
  let total = 0;
  for (const s of sources) {
    const h = new Sha256();
    let size = 0;
    for await (const c of s.chunks()) {
      h.update(c);
      size += c.length;
      opts.onProgress?.({ phase: 'hashing', bytes: total + size, total: 0 });
    }
    entries.push({ name: s.name, kind: s.kind, size, sha256: h.hex() });
    total += size;
  }
  readBackupServer(JSON.parse(JSON.stringify(server)), entries);
  const manifest: BackupManifest = { createdAt: (opts.createdAt ?? new Date()).toISOString(), createdBy: opts.createdBy, entries, server };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  if (json.length > MAX_MANIFEST_BYTES) throw new BackupError('backup-unsupported', `the manifest is ${json.length} bytes, more than the ${MAX_MANIFEST_BYTES} an archive may hold (too many records or shared files)`);
  const header = new Uint8Array(BACKUP_HEADER_BYTES);
  header.set(magicBytes(), 0);
  const v = new DataView(header.buffer);
  v.setUint32(0x08, BACKUP_FORMAT_VERSION, true);
  v.setUint32(0x10, json.length, true);
  v.setBigUint64(0x18, BigInt(BACKUP_HEADER_BYTES + json.length + total), true);
  header.set(new Sha256().update(json).digest(), 0x20);
  yield header;
  yield json;
  let written = 0;
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    const want = entries[i]!;
    const h = new Sha256();
    let size = 0;
    for await (const c of s.chunks()) {
      size += c.length;
      if (size > want.size) break;
      h.update(c);
      yield c;
      written += c.length;
      opts.onProgress?.({ phase: 'writing', bytes: written, total });
    }
    if (size !== want.size || h.hex() !== want.sha256) {
      throw new BackupError('backup-changed', `${s.name} changed while it was being backed up (${want.size} bytes with sha256 ${want.sha256.slice(0, 12)}…, then ${size} bytes${size === want.size ? ' with other contents' : ''}): stop or suspend its VM and back up again`);
    }
  }
}

export interface LocatedEntry extends BackupEntry {
  /** Where its bytes start in the archive. */
  offset: number;
}

/** An opened archive: header and manifest checked; entries checked by `verify()`. */
export class BackupArchive {
  private readonly byName: Map<string, LocatedEntry>;

  private constructor(
    private readonly src: ByteSource,
    readonly manifest: BackupManifest,
    readonly entries: readonly LocatedEntry[],
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  get server(): BackupServer {
    return this.manifest.server;
  }

  /** Checks the header and the manifest (its sha256, every field, how the parts fit). */
  static async open(src: ByteSource): Promise<BackupArchive> {
    const size = src.size;
    if (size < BACKUP_HEADER_BYTES) {
      const head = await src.read(0, Math.min(size, 8));
      if (head.length === 8 && !sameBytes(head, magicBytes())) badMagic(head);
      throw new BackupError('backup-truncated', `backup archive: ${size} bytes, shorter than its ${BACKUP_HEADER_BYTES}-byte header`);
    }
    const header = await src.read(0, BACKUP_HEADER_BYTES);
    if (!sameBytes(header.subarray(0, 8), magicBytes())) badMagic(header);
    const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const version = v.getUint32(0x08, true);
    if (version > BACKUP_FORMAT_VERSION) throw new BackupError('backup-newer-version', `backup archive at 0x8: format version ${version} is newer than this romvisor reads (${BACKUP_FORMAT_VERSION}); use a newer romvisor`);
    if (version < 1) throw new BackupError('backup-malformed', `backup archive at 0x8: format version ${version} does not exist`);
    const flags = v.getUint32(0x0c, true);
    if (flags !== 0) throw new BackupError('backup-malformed', `backup archive at 0xc: flags 0x${flags.toString(16)}, expected 0 (no flag is defined)`);
    const manifestLength = v.getUint32(0x10, true);
    if (manifestLength < 2 || manifestLength > MAX_MANIFEST_BYTES) throw new BackupError('backup-malformed', `backup archive at 0x10: manifest length ${manifestLength}, expected 2..${MAX_MANIFEST_BYTES}`);
    const reserved = v.getUint32(0x14, true);
    if (reserved !== 0) throw new BackupError('backup-malformed', `backup archive at 0x14: reserved field is 0x${reserved.toString(16)}, not 0`);
    const length = v.getBigUint64(0x18, true);
    if (length > BigInt(size)) throw new BackupError('backup-truncated', `backup archive at 0x18: the archive should be ${length} bytes, the file has ${size} (cut short)`);
    if (length < BigInt(size)) throw new BackupError('backup-altered', `backup archive at 0x18: the archive should be ${length} bytes, the file has ${size} (bytes appended)`);
    const manifestEnd = BACKUP_HEADER_BYTES + manifestLength;
    if (manifestEnd > size) throw new BackupError('backup-truncated', `backup archive: its ${manifestLength}-byte manifest runs past the file's end at ${size}`);
    const json = await src.read(BACKUP_HEADER_BYTES, manifestLength);
    const sum = new Sha256().update(json).hex();
    const want = hexBytes(header.subarray(0x20, 0x40));
    if (sum !== want) throw new BackupError('backup-altered', `backup archive at 0x20: the manifest's sha256 is ${sum}, the header says ${want}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
    } catch (e) {
      throw new BackupError('backup-malformed', `backup archive at 0x40: the manifest is not UTF-8 JSON (${(e as Error).message})`);
    }
    const r = new FieldReader('manifest', parsed, (m) => new BackupError('backup-malformed', m));
    const createdAt = r.str('createdAt', 40);
    const createdBy = r.str('createdBy', 200);
    const names = new Set<string>();
    let at = manifestEnd;
    const entries = r.arr('entries', MAX_ENTRIES, (e): LocatedEntry => {
      const name = e.str('name', 300);
      if (name.length === 0 || names.has(name)) e.fail('name', name, 'a name no other entry has');
      names.add(name);
      const entry: LocatedEntry = { name, kind: e.oneOf('kind', ['disk', 'state', 'data'] as const), size: e.int('size', 0, Number.MAX_SAFE_INTEGER), sha256: e.hex('sha256', 64), offset: at };
      at += entry.size;
      if (at > size) throw new BackupError('backup-truncated', `backup archive: entry ${JSON.stringify(name)} (${entry.size} bytes at 0x${entry.offset.toString(16)}) runs past the file's end at 0x${size.toString(16)}`);
      return entry;
    });
    if (at !== size) throw new BackupError('backup-malformed', `backup archive: the entries end at 0x${at.toString(16)}, the file at 0x${size.toString(16)}`);
    const server = readBackupServer(r.raw('server'), entries);
    return new BackupArchive(src, { createdAt, createdBy, entries, server }, entries);
  }

  entry(name: string): LocatedEntry {
    const e = this.byName.get(name);
    if (!e) throw new BackupError('backup-inconsistent', `backup archive: no entry ${JSON.stringify(name)}`);
    return e;
  }

  /** `length` bytes at `offset` inside entry `name`. */
  read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const e = this.entry(name);
    if (offset < 0 || length < 0 || offset + length > e.size) throw new BackupError('backup-inconsistent', `backup archive: ${length} bytes at ${offset} are outside entry ${JSON.stringify(name)} (${e.size} bytes)`);
    return this.src.read(e.offset + offset, length);
  }

  /** Entry `name` whole, for small ones (records' bytes, state files). */
  bytes(name: string): Promise<Uint8Array> {
    return this.read(name, 0, this.entry(name).size);
  }

  /** Entry `name` as a read-only ByteSource (a disk entry opened as a VHD). */
  source(name: string): ByteSource & { readonly readOnly: true; write(): Promise<void>; settle(): Promise<void>; flush(): Promise<void>; dispose(): Promise<void> } {
    const size = this.entry(name).size;
    return {
      readOnly: true,
      size,
      read: (offset, length) => this.read(name, offset, length),
      write: () => Promise.reject(new BackupError('backup-unsupported', `entry ${name} of a backup archive is read-only`)),
      settle: async () => {},
      flush: async () => {},
      dispose: async () => {},
    };
  }

  /**
   * Reads every entry once and checks its sha256, then what its kind promises: a disk entry
   * opens as a VHD with the image's unique id (and its parent's), a state entry as a machine
   * state container. Throws the first BackupError; resolves with the bytes checked.
   */
  async verify(onProgress?: (p: ArchiveProgress) => void): Promise<number> {
    const total = this.entries.reduce((n, e) => n + e.size, 0);
    let done = 0;
    for (const e of this.entries) {
      const h = new Sha256();
      for (let at = 0; at < e.size; at += BACKUP_IO_BYTES) {
        const piece = await this.src.read(e.offset + at, Math.min(BACKUP_IO_BYTES, e.size - at));
        h.update(piece);
        done += piece.length;
        onProgress?.({ phase: 'verifying', bytes: done, total });
      }
      const sum = h.hex();
      if (sum !== e.sha256) throw new BackupError('backup-altered', `backup archive: entry ${JSON.stringify(e.name)} (${e.size} bytes at 0x${e.offset.toString(16)}) has sha256 ${sum}, the manifest says ${e.sha256}`);
    }
    for (const img of this.server.images) if (img.entry !== undefined) await this.checkDisk(img.id, img.entry, img.vhdUuid, img.parentUuid);
    for (const e of this.entries) if (e.kind === 'state') await this.checkState(e);
    return done;
  }

  private async checkDisk(id: string, entry: string, uuid: string, parentUuid: string | undefined): Promise<void> {
    let disk: VhdDisk;
    try {
      // Its parent is another entry or a base found on restore: only this file is opened
      // here (the resolver declines), so a differencing disk's own structure is checked.
      disk = await VhdDisk.open(this.source(entry), { readOnly: true, parentResolver: async () => undefined });
    } catch (e) {
      const msg = (e as Error).message;
      if (!(e instanceof Error) || !/parent/i.test(msg) || parentUuid === undefined) {
        throw new BackupError('backup-inconsistent', `backup archive: image ${id} (entry ${JSON.stringify(entry)}) is not a sound VHD: ${msg}`, { cause: e });
      }
      return this.checkDifferencingHeader(id, entry, uuid, parentUuid);
    }
    try {
      if (disk.uuid !== uuid) throw new BackupError('backup-inconsistent', `backup archive: image ${id}'s VHD has unique id ${disk.uuid}, the manifest says ${uuid}`);
      if (parentUuid !== undefined) throw new BackupError('backup-inconsistent', `backup archive: image ${id} is listed as a differencing disk over ${parentUuid}, its VHD is ${disk.type}`);
    } finally {
      await disk.dispose();
    }
  }

  /** A differencing disk whose parent is elsewhere: its footer's and header's ids, read from the file. */
  private async checkDifferencingHeader(id: string, entry: string, uuid: string, parentUuid: string): Promise<void> {
    const e = this.entry(entry);
    if (e.size < 1024) throw new BackupError('backup-inconsistent', `backup archive: image ${id} (entry ${JSON.stringify(entry)}) is ${e.size} bytes, too short for a differencing VHD`);
    const footer = await this.read(entry, e.size - 512, 512);
    const fv = new DataView(footer.buffer, footer.byteOffset, 512);
    const type = fv.getUint32(60);
    const footerUuid = formatUniqueId(footer.subarray(68, 84));
    if (type !== 4 || footerUuid !== uuid) throw new BackupError('backup-inconsistent', `backup archive: image ${id} should be a differencing VHD with unique id ${uuid}; its footer says type ${type}, unique id ${footerUuid}`);
    const headerAt = Number(fv.getBigUint64(16));
    if (headerAt + 1024 > e.size) throw new BackupError('backup-inconsistent', `backup archive: image ${id}'s VHD header offset 0x${headerAt.toString(16)} is outside its ${e.size} bytes`);
    const header = await this.read(entry, headerAt, 1024);
    const got = formatUniqueId(header.subarray(40, 56));
    if (got !== parentUuid) throw new BackupError('backup-inconsistent', `backup archive: image ${id}'s VHD names parent ${got}, the manifest says ${parentUuid}`);
  }

  private async checkState(e: LocatedEntry): Promise<void> {
    try {
      // Section contents are the machine's to judge when it resumes; here the container
      // (magic, version, every section's sha256) must hold. Sizes are bounded by the entry.
      await decodeContainer(await this.bytes(e.name), () => e.size * 1024);
    } catch (err) {
      if (err instanceof StateError) throw new BackupError('backup-inconsistent', `backup archive: entry ${JSON.stringify(e.name)} is not a sound machine state: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

const magicBytes = () => Uint8Array.from(BACKUP_MAGIC, (c) => c.charCodeAt(0));

function badMagic(head: Uint8Array): never {
  throw new BackupError('backup-bad-magic', `backup archive at 0x0: magic is ${JSON.stringify(String.fromCharCode(...head.subarray(0, 8)))}, expected "${BACKUP_MAGIC}": not a romvisor backup`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
