/**
 * `repository.json`: the index of an appliance repository, a folder of static files any web
 * server or CDN can host (the index and the VHDs it names). Its schema, and the one parser
 * the CLI and the page use for it. The index comes from whoever runs the server, so every
 * field is checked and every refusal names the field's path and its value:
 *
 *   {
 *     "schema": "romvisor-repository/1",
 *     "name": "Example appliances",
 *     "appliances": [{
 *       "name": "mini",                       // as in the VHD's appliance.json
 *       "title": "Mini", "description": "...",
 *       "memoryMiB": 128, "dataDiskMiB": 64,  // dataDiskMiB optional
 *       "versions": [{                         // oldest first; the last is the newest
 *         "version": "1",
 *         "url": "mini-1.vhd",                 // relative to the index (or absolute http(s))
 *         "size": 10486272,                    // bytes of the VHD file
 *         "virtualSize": 75497472,             // bytes of the disk the guest sees
 *         "sha256": "…",                       // of the whole file
 *         "chunkSize": 131072,                 // 64 KiB to 256 KiB, a power of two
 *         "chunks": ["…", …],                  // sha256 of each chunkSize piece of the file, in order
 *         "uniqueId": "…",                     // optional: the VHD's unique id (8-4-4-4-12 hex)
 *         "parent": "1"                        // optional: this VHD is a patch over that version's
 *       }]
 *     }]
 *   }
 *
 * A lazy remote disk reads the file by range and checks each chunk against `chunks` before
 * the guest sees a byte of it; `repo verify` checks every chunk and the whole file.
 * A version with `parent` is a patch: a differencing VHD whose parent is the VHD of the
 * version named (listed before it, with its `uniqueId`, which the patch's header names), so
 * its disk is that chain; its chunks are checked like any other. Each version's `uniqueId`
 * lets a VM's overlay say which version it stands on.
 * Unknown fields are ignored, so older romvisors read newer indexes.
 */
import { MANIFEST_LIMITS } from '../boot/ApplianceManifest.ts';
import { describeValue, fieldPath } from '../scenario/fieldPath.ts';
import { RepoError } from './RepoError.ts';

export const REPOSITORY_SCHEMA = 'romvisor-repository/1';
export const INDEX_FILE = 'repository.json';
/** Chunk sizes a repository may use: small enough to fetch little, big enough to fetch few. */
export const CHUNK_SIZE = { min: 64 * 1024, max: 256 * 1024, default: 128 * 1024 } as const;

export const INDEX_LIMITS = {
  /** The index file itself. */
  bytes: 16 * 2 ** 20,
  appliances: 1000,
  versions: 100,
  /** The largest VHD file an index may name. */
  fileBytes: 64 * 2 ** 30,
  text: MANIFEST_LIMITS.text,
  url: 2048,
} as const;

export interface RepositoryVersion {
  version: string;
  /** As written in the index: relative to it, or absolute. */
  url: string;
  size: number;
  virtualSize: number;
  sha256: string;
  chunkSize: number;
  chunks: string[];
  /** The VHD's unique id (8-4-4-4-12 lowercase hex); required of a version another names as parent. */
  uniqueId?: string;
  /** The version this one's VHD is a differencing disk over (a patch); listed before it. */
  parent?: string;
}

export interface RepositoryAppliance {
  name: string;
  title: string;
  description: string;
  memoryMiB: number;
  dataDiskMiB?: number;
  /** Oldest first; the last is the newest. */
  versions: RepositoryVersion[];
}

export interface RepositoryIndex {
  schema: typeof REPOSITORY_SCHEMA;
  name: string;
  appliances: RepositoryAppliance[];
}

const SHA256 = /^[0-9a-f]{64}$/;
const UNIQUE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An appliance's name in a repository, and a version's: what a scenario may name too. */
export const REPO_APPLIANCE_NAME = /^[A-Za-z0-9._-]+$/;
export const REPO_VERSION = /^[A-Za-z0-9._+~-]+$/;
const NAME = REPO_APPLIANCE_NAME;

/** Parses and checks the bytes of a repository.json; `where` names it in messages (its URL or path). */
export function parseRepositoryIndex(bytes: Uint8Array, where = INDEX_FILE): RepositoryIndex {
  if (bytes.length > INDEX_LIMITS.bytes) throw new RepoError('bad-index', `${where}: ${bytes.length} bytes, over the ${INDEX_LIMITS.bytes / 2 ** 20} MiB an index may have`, where);
  let json: unknown;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RepoError('bad-index', `${where}: not UTF-8 JSON: a byte sequence is not UTF-8`, where);
  }
  // A web server that answers every path with its own page (a single-page app's fallback, a
  // login or error page) sends HTML with status 200: say so rather than quote JSON.parse.
  if (/^\s*</.test(decoded)) throw new RepoError('bad-index', `${where}: the server answered with an HTML page, not a repository index (is this the folder that holds repository.json?)`, where);
  try {
    json = JSON.parse(decoded);
  } catch (e) {
    throw new RepoError('bad-index', `${where}: not UTF-8 JSON: ${(e as Error).message}`, where);
  }
  const bad = (path: string, why: string, value: unknown): never => {
    throw new RepoError('bad-index', `${where}: ${path} ${why}, got ${describeValue(value)}`, `${where}: ${path}`);
  };
  const object = (v: unknown, path: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'must be an object', v);
    return v as Record<string, unknown>;
  };
  const array = (v: unknown, path: string, max: number, min = 0): unknown[] => {
    if (!Array.isArray(v)) return bad(path, 'must be an array', v);
    if (v.length < min || v.length > max) bad(path, `must have ${min} to ${max} entries`, v);
    return v;
  };
  const text = (o: Record<string, unknown>, key: string, path: string, opts: { max?: number; pattern?: RegExp; patternText?: string; fallback?: string } = {}): string => {
    const p = fieldPath(path, key);
    const v = o[key];
    if (v === undefined && opts.fallback !== undefined) return opts.fallback;
    if (typeof v !== 'string') return bad(p, opts.fallback === undefined ? 'is required and must be a string' : 'must be a string', v);
    if (v.length > (opts.max ?? INDEX_LIMITS.text)) bad(p, `must be at most ${opts.max ?? INDEX_LIMITS.text} characters`, v);
    if (opts.pattern && !opts.pattern.test(v)) bad(p, opts.patternText ?? 'is malformed', v);
    return v;
  };
  const whole = (o: Record<string, unknown>, key: string, path: string, min: number, max: number, optional = false): number | undefined => {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(fieldPath(path, key), `must be a whole number from ${min} to ${max}`, v);
    return v as number;
  };

  const root = object(json, 'the index');
  if (root.schema !== REPOSITORY_SCHEMA) bad('schema', `must be "${REPOSITORY_SCHEMA}"`, root.schema);
  const name = text(root, 'name', '', { max: 200 });
  const seen = new Set<string>();
  const appliances = array(root.appliances, 'appliances', INDEX_LIMITS.appliances).map((a, i): RepositoryAppliance => {
    const path = `appliances[${i}]`;
    const o = object(a, path);
    const applianceName = text(o, 'name', path, { max: MANIFEST_LIMITS.name, pattern: NAME, patternText: "may only contain letters, digits, '.', '_' and '-'" });
    if (seen.has(applianceName)) bad(`${path}.name`, 'names an appliance listed before', applianceName);
    seen.add(applianceName);
    const versionsSeen = new Set<string>();
    const earlier: RepositoryVersion[] = [];
    const versions = array(o.versions, `${path}.versions`, INDEX_LIMITS.versions, 1).map((v, j): RepositoryVersion => {
      const vp = `${path}.versions[${j}]`;
      const vo = object(v, vp);
      const version = text(vo, 'version', vp, { max: 64, pattern: REPO_VERSION, patternText: "may only contain letters, digits, '.', '_', '+', '~' and '-'" });
      if (versionsSeen.has(version)) bad(`${vp}.version`, 'is listed before', version);
      versionsSeen.add(version);
      const url = text(vo, 'url', vp, { max: INDEX_LIMITS.url });
      checkUrl(url, `${vp}.url`, bad);
      const size = whole(vo, 'size', vp, 512, INDEX_LIMITS.fileBytes)!;
      const virtualSize = whole(vo, 'virtualSize', vp, 512, INDEX_LIMITS.fileBytes * 64)!;
      const sha256 = text(vo, 'sha256', vp, { pattern: SHA256, patternText: 'must be 64 lowercase hex digits' });
      const chunkSize = whole(vo, 'chunkSize', vp, CHUNK_SIZE.min, CHUNK_SIZE.max)!;
      if ((chunkSize & (chunkSize - 1)) !== 0) bad(`${vp}.chunkSize`, 'must be a power of two', chunkSize);
      const count = Math.ceil(size / chunkSize);
      const chunks = array(vo.chunks, `${vp}.chunks`, count, count).map((c, k) => {
        if (typeof c !== 'string' || !SHA256.test(c)) bad(`${vp}.chunks[${k}]`, 'must be 64 lowercase hex digits', c);
        return c as string;
      });
      const uniqueId = vo.uniqueId === undefined ? undefined : text(vo, 'uniqueId', vp, { pattern: UNIQUE_ID, patternText: 'must be a VHD unique id, 8-4-4-4-12 lowercase hex digits' });
      let parent: string | undefined;
      if (vo.parent !== undefined) {
        parent = text(vo, 'parent', vp, { max: 64 });
        const base = earlier.find((e) => e.version === parent);
        if (!base) bad(`${vp}.parent`, 'must name a version listed before this one', parent);
        if (base!.uniqueId === undefined) bad(`${vp}.parent`, `names version "${parent}", which gives no uniqueId to check the patch's parent against`, parent);
        if (base!.virtualSize !== virtualSize) bad(`${vp}.virtualSize`, `must be the ${base!.virtualSize} bytes of its parent version "${parent}"`, virtualSize);
      }
      const entry: RepositoryVersion = { version, url, size, virtualSize, sha256, chunkSize, chunks, ...(uniqueId !== undefined ? { uniqueId } : {}), ...(parent !== undefined ? { parent } : {}) };
      earlier.push(entry);
      return entry;
    });
    return {
      name: applianceName,
      title: text(o, 'title', path, { fallback: applianceName }),
      description: text(o, 'description', path, { fallback: '' }),
      memoryMiB: whole(o, 'memoryMiB', path, MANIFEST_LIMITS.memoryMiB.min, MANIFEST_LIMITS.memoryMiB.max)!,
      ...(o.dataDiskMiB !== undefined ? { dataDiskMiB: whole(o, 'dataDiskMiB', path, MANIFEST_LIMITS.dataDiskMiB.min, MANIFEST_LIMITS.dataDiskMiB.max) } : {}),
      versions,
    };
  });
  return { schema: REPOSITORY_SCHEMA, name, appliances };
}

/** A version's URL is relative to the index, or absolute http(s); nothing else is fetched. */
function checkUrl(url: string, path: string, bad: (path: string, why: string, value: unknown) => never): void {
  if (url === '' || /[\0-\x1f\\]/.test(url)) bad(path, 'must be a URL without control characters or backslashes', url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') bad(path, 'must be relative to the index or an http(s) URL', url);
  if (url.startsWith('//')) bad(path, 'must not be a scheme-relative URL', url);
}

/**
 * The appliance `name` at `version` (default: the newest) in `index`, or a RepoError
 * ('not-found') listing what there is.
 */
export function findVersion(index: RepositoryIndex, name: string, version?: string): { appliance: RepositoryAppliance; version: RepositoryVersion } {
  const appliance = index.appliances.find((a) => a.name === name);
  if (!appliance) {
    const names = index.appliances.map((a) => a.name);
    throw new RepoError('not-found', `repository "${index.name}" has no appliance "${name}" (it has ${names.length ? names.join(', ') : 'none'})`, name);
  }
  const found = version === undefined ? appliance.versions.at(-1)! : appliance.versions.find((v) => v.version === version);
  if (!found) throw new RepoError('not-found', `appliance "${name}" has no version "${version}" (it has ${appliance.versions.map((v) => v.version).join(', ')})`, `${name}@${version}`);
  return { appliance, version: found };
}

/**
 * The versions whose VHDs make up `version`'s disk, top first: the version itself, then its
 * parent, its parent's parent... (the parser has checked that each parent exists and comes
 * before, so the walk ends).
 */
export function versionChain(appliance: RepositoryAppliance, version: RepositoryVersion): RepositoryVersion[] {
  const chain = [version];
  for (let v = version; v.parent !== undefined; ) {
    v = appliance.versions.find((e) => e.version === v.parent)!;
    chain.push(v);
  }
  return chain;
}

/** The byte range of chunk `i` of a version's file: [start, end). */
export function chunkRange(v: Pick<RepositoryVersion, 'size' | 'chunkSize'>, i: number): { start: number; end: number } {
  const start = i * v.chunkSize;
  return { start, end: Math.min(v.size, start + v.chunkSize) };
}

/** How messages name a chunk: "chunk 5 (bytes 655360-786431) of mini-1.vhd". */
export function chunkName(v: Pick<RepositoryVersion, 'size' | 'chunkSize' | 'url'>, i: number): string {
  const { start, end } = chunkRange(v, i);
  return `chunk ${i} (bytes ${start}-${end - 1}) of ${v.url}`;
}
