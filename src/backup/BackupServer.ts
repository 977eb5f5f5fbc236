/**
 * What a backup archive holds, as its manifest says it: the server's images, the records of
 * its VM database's object stores, and its shared folders. The page's IndexedDB (store
 * layout in src/store/imageDb.ts) and the CLI's server directory both map to this.
 */
import { FieldReader } from '../state/FieldReader.ts';
import { BackupError } from './BackupError.ts';
import { entryRefs, type EntryKind } from './archiveJson.ts';

/** One entry's place in the manifest; its bytes follow the manifest in the archive. */
export interface BackupEntry {
  name: string;
  kind: EntryKind;
  size: number;
  /** sha256 of its bytes, 64 lowercase hex digits. */
  sha256: string;
}

/** A base image the archive names instead of carrying: built in, or from a repository. */
export interface BaseReference {
  origin: 'builtin' | 'repository';
  /** The appliance's name (a built-in's file name: base, lua, sqlite). */
  name: string;
  /**
   * A built-in's: the sha256 of its .vhd.gz as appliances/manifest.json lists it (what the
   * page fetched); a repository's: its version's sha256 in the repository index.
   */
  sha256: string;
  /** A repository's base: the index's URL and the version (RepositoryVersion) as the image record keeps them. */
  url?: string;
  version?: unknown;
}

export interface BackupImage {
  /** Its id in the server; records name it by this. */
  id: string;
  /** The VHD's unique id (8-4-4-4-12 hex); a differencing disk names its parent by it. */
  vhdUuid: string;
  /** A differencing disk's parent's unique id. */
  parentUuid?: string;
  virtualSize: number;
  /** Its image record as the page stores it (archive JSON, see archiveJson.ts). */
  record: Record<string, unknown>;
  /** The entry holding its VHD bytes; absent for a `base` the archive only names. */
  entry?: string;
  base?: BaseReference;
}

/** One record of an object store: its value, and its key when the store keeps keys apart. */
export interface BackupRecord {
  key?: unknown;
  value: Record<string, unknown>;
}

/** A VM's shared folder: its objects (MemoryShareEntry as archive JSON), parents first. */
export interface BackupShare {
  vmId: string;
  files: Record<string, unknown>[];
}

export interface BackupServer {
  images: BackupImage[];
  /** By object store name: `vms`, `suspended`, and any store a later version adds. */
  stores: Record<string, BackupRecord[]>;
  shares: BackupShare[];
}

/** Stores whose contents are not records: image records and bytes travel as `images`. */
export const IMAGE_STORES = ['images', 'chunks'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_ID = 200;
const MAX_ITEMS = 100_000;

const malformed = (message: string) => new BackupError('backup-malformed', `manifest ${message}`);
const inconsistent = (message: string) => new BackupError('backup-inconsistent', `backup archive: ${message}`);

/**
 * Checks the manifest's `server` against its entries, field by field and as a whole:
 * every image's bytes or base, every differencing disk's parent, every VM's disk, every
 * suspended state's VM, and every entry named exactly once. Throws BackupError naming
 * the first thing wrong.
 */
export function readBackupServer(json: unknown, entries: readonly BackupEntry[]): BackupServer {
  const r = new FieldReader('server', json, malformed);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const named = new Map<string, string>();
  const name = (entry: string, where: string, kind?: EntryKind) => {
    const e = byName.get(entry);
    if (!e) throw inconsistent(`${where} names entry ${JSON.stringify(entry)}, which is not in the archive`);
    if (kind && e.kind !== kind) throw inconsistent(`${where} names entry ${JSON.stringify(entry)} of kind ${e.kind}, expected ${kind}`);
    const other = named.get(entry);
    if (other) throw inconsistent(`entry ${JSON.stringify(entry)} is named twice: by ${other} and by ${where}`);
    named.set(entry, where);
  };

  const images = r.arr('images', MAX_ITEMS, (i): BackupImage => {
    const id = i.str('id', MAX_ID);
    const vhdUuid = i.str('vhdUuid', 36);
    if (!UUID.test(vhdUuid)) i.fail('vhdUuid', vhdUuid, 'a unique id 8-4-4-4-12 in lowercase hex');
    const parentUuid = i.has('parentUuid') ? i.str('parentUuid', 36) : undefined;
    if (parentUuid !== undefined && !UUID.test(parentUuid)) i.fail('parentUuid', parentUuid, 'a unique id 8-4-4-4-12 in lowercase hex');
    const record = i.obj('record', (x) => x.raw(undefined) as Record<string, unknown>);
    if (record.id !== id) i.fail('record.id', record.id, JSON.stringify(id));
    const out: BackupImage = { id, vhdUuid, virtualSize: i.int('virtualSize', 0, Number.MAX_SAFE_INTEGER), record, ...(parentUuid ? { parentUuid } : {}) };
    if (i.has('entry') === i.has('base')) i.fail(undefined, `image ${id} with ${i.has('entry') ? 'both' : 'neither'}`, 'exactly one of "entry" (its bytes) and "base" (a reference)');
    if (i.has('entry')) out.entry = i.str('entry', MAX_ID);
    else {
      out.base = i.obj('base', (b): BaseReference => {
        const origin = b.oneOf('origin', ['builtin', 'repository'] as const);
        const ref: BaseReference = { origin, name: b.str('name', MAX_ID), sha256: b.hex('sha256', 64) };
        if (origin === 'repository') {
          ref.url = b.str('url', 4096);
          ref.version = b.obj('version', (v) => v.raw(undefined));
        }
        return ref;
      });
      if (parentUuid) i.fail('parentUuid', parentUuid, 'absent: a base named by reference is a whole disk');
    }
    return out;
  });

  const stores: Record<string, BackupRecord[]> = r.obj('stores', (s) => {
    const obj = s.raw(undefined) as Record<string, unknown>;
    const out: Record<string, BackupRecord[]> = {};
    for (const store of Object.keys(obj)) {
      if (!/^[a-z][a-z0-9-]{0,63}$/i.test(store) || (IMAGE_STORES as readonly string[]).includes(store)) s.fail(store, `a store named ${JSON.stringify(store.slice(0, 70))}`, 'a record store (images travel as "images")');
      out[store] = s.arr(store, MAX_ITEMS, (rec) => {
        const value = rec.obj('value', (v) => v.raw(undefined) as Record<string, unknown>);
        return rec.has('key') ? { key: rec.raw('key'), value } : { value };
      });
    }
    return out;
  });
  if (!stores.vms) throw malformed('server.stores.vms is missing, expected the VM records');

  const shares = r.arr('shares', MAX_ITEMS, (sh): BackupShare => ({
    vmId: sh.str('vmId', MAX_ID),
    files: sh.arr('files', MAX_ITEMS, (f) => {
      const path = f.str('path', 4096);
      if (path.split('/').some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) f.fail('path', path, 'a relative path of names (no empty, ".", ".." or NUL part)');
      const kind = f.oneOf('kind', ['file', 'dir', 'symlink'] as const);
      f.int('mode', 0, 0o177777);
      f.obj('mtimeNs', (t) => (/^(0|[1-9][0-9]{0,19})$/.test(t.str('$bigint', 20)) ? undefined : t.fail('$bigint', t.raw('$bigint'), 'nanoseconds as decimal digits')));
      if (kind === 'file') f.obj('data', (d) => d.str('$entry', 300));
      if (kind === 'symlink') f.str('target', 4096);
      return f.raw(undefined) as Record<string, unknown>;
    }),
  }));

  // The parts must fit together before anything is written anywhere.
  const imageIds = new Set<string>();
  const uuids = new Set<string>();
  for (const img of images) {
    if (imageIds.has(img.id)) throw inconsistent(`image ${img.id} is listed twice`);
    if (uuids.has(img.vhdUuid)) throw inconsistent(`two images have the VHD unique id ${img.vhdUuid}`);
    imageIds.add(img.id);
    uuids.add(img.vhdUuid);
    if (img.entry !== undefined) name(img.entry, `image ${img.id}`, 'disk');
  }
  for (const img of images) {
    if (img.parentUuid && !uuids.has(img.parentUuid)) throw inconsistent(`image ${img.id} is a differencing disk over ${img.parentUuid}, which is not in the archive`);
  }
  const vmIds = new Set<string>();
  for (const [store, records] of Object.entries(stores)) {
    records.forEach((rec, i) => {
      const where = `${store}[${i}]`;
      for (const ref of entryRefs(rec.value, `server.stores.${where}.value`)) name(ref.name, ref.where);
      if (rec.key !== undefined) for (const ref of entryRefs(rec.key, `server.stores.${where}.key`)) name(ref.name, ref.where);
    });
  }
  const vmNames = new Set<string>();
  stores.vms.forEach((rec, i) => {
    const v = new FieldReader(`server.stores.vms[${i}].value`, rec.value, malformed);
    const id = v.str('id', MAX_ID);
    const vmName = v.str('name', MAX_ID);
    // The fields every VM's page and command line read: of the right type, or refused here.
    v.str('applianceId', 4096);
    v.int('memoryMiB', 1, 1 << 20);
    if (v.has('harts')) v.int('harts', 1, 64);
    if (v.has('extraArgs')) v.str('extraArgs', 4096);
    v.int('createdAt', 0, Number.MAX_SAFE_INTEGER);
    if (vmIds.has(id)) throw inconsistent(`VM ${id} is listed twice`);
    if (vmNames.has(vmName.toLowerCase())) throw inconsistent(`two VMs are named ${JSON.stringify(vmName)}`);
    vmIds.add(id);
    vmNames.add(vmName.toLowerCase());
    if (v.has('diskImageId') && !imageIds.has(v.str('diskImageId', MAX_ID))) throw inconsistent(`VM ${vmName}'s disk ${rec.value.diskImageId} is not in the archive`);
    if (v.has('dataImageId') && !imageIds.has(v.str('dataImageId', MAX_ID))) throw inconsistent(`VM ${vmName}'s data disk ${rec.value.dataImageId} is not in the archive`);
  });
  (stores.suspended ?? []).forEach((rec, i) => {
    const v = new FieldReader(`server.stores.suspended[${i}].value`, rec.value, malformed);
    const vmId = v.str('vmId', MAX_ID);
    v.obj('state', (x) => x.str('$entry', 300));
    v.obj('console', (x) => x.str('$entry', 300));
    if (!vmIds.has(vmId)) throw inconsistent(`a suspended state belongs to VM ${vmId}, which is not in the archive`);
  });
  shares.forEach((sh, i) => {
    if (!vmIds.has(sh.vmId)) throw inconsistent(`a shared folder belongs to VM ${sh.vmId}, which is not in the archive`);
    sh.files.forEach((f, k) => {
      for (const ref of entryRefs(f, `server.shares[${i}].files[${k}]`)) name(ref.name, ref.where, 'data');
    });
  });
  for (const e of entries) if (!named.has(e.name)) throw inconsistent(`entry ${JSON.stringify(e.name)} is named by nothing in the manifest`);
  return { images, stores, shares };
}
