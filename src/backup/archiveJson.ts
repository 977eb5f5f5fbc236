/**
 * Store records as JSON in a backup manifest. IndexedDB keeps structured clones (bytes,
 * bigints, dates); JSON does not, so each is written as a one-key object:
 *   bytes (Uint8Array, ArrayBuffer)  {"$entry": NAME}  the bytes are the archive entry NAME
 *   bigint                           {"$bigint": "123"}
 *   Date                             {"$date": "2026-12-04T00:00:00.000Z"}
 * Anything else a record could hold (Map, Set, Blob, typed arrays other than bytes) is
 * refused by name, never silently lost. Generic on purpose: records of object stores this
 * module has never heard of (snapshots, say) go into an archive and come back unchanged.
 */
import { STATE_MAGIC } from '../state/StateContainer.ts';
import { BackupError } from './BackupError.ts';

export type EntryKind = 'disk' | 'state' | 'data';

/** Where a record's bytes go: returns the entry's name. */
export type EntrySink = (bytes: Uint8Array, kind: EntryKind, where: string) => string;

const MAX_DEPTH = 32;

/** A record as manifest JSON; `where` names it in errors (`vms["vm-1"].disk`). */
export function toArchiveJson(value: unknown, addEntry: EntrySink, where: string, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new BackupError('backup-unsupported', `${where}: nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new BackupError('backup-unsupported', `${where}: ${value} has no JSON form`);
    return value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $entry: addEntry(value, kindOf(value), where) };
  if (value instanceof ArrayBuffer) return { $entry: addEntry(new Uint8Array(value), kindOf(new Uint8Array(value)), where) };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map((v, i) => toArchiveJson(v, addEntry, `${where}[${i}]`, depth + 1));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = toArchiveJson(v, addEntry, `${where}.${k}`, depth + 1);
    }
    return out;
  }
  const what = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  throw new BackupError('backup-unsupported', `${where}: a ${what} cannot be put in a backup archive`);
}

/**
 * Bytes that start with the machine state magic are a state file, checked as one when the
 * archive is read (whichever store and field they came from); anything else is plain data.
 */
function kindOf(bytes: Uint8Array): EntryKind {
  return bytes.length >= STATE_MAGIC.length && String.fromCharCode(...bytes.subarray(0, STATE_MAGIC.length)) === STATE_MAGIC ? 'state' : 'data';
}

/** The record again, bytes read by `entryBytes`. The JSON was checked by `entryRefs` before. */
export function fromArchiveJson(value: unknown, entryBytes: (name: string) => Uint8Array): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromArchiveJson(v, entryBytes));
  const tag = taggedValue(value as Record<string, unknown>);
  if (tag?.tag === '$entry') return entryBytes(tag.text);
  if (tag?.tag === '$bigint') return BigInt(tag.text);
  if (tag?.tag === '$date') return new Date(tag.text);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromArchiveJson(v, entryBytes);
  return out;
}

/**
 * Every entry a record's JSON names, in order; throws BackupError('backup-malformed') on a
 * tagged value that is not well formed (a `$bigint` that is not digits, say).
 */
export function entryRefs(value: unknown, where: string, out: { name: string; where: string }[] = [], depth = 0): { name: string; where: string }[] {
  if (depth > MAX_DEPTH) throw new BackupError('backup-malformed', `manifest ${where}: nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => entryRefs(v, `${where}[${i}]`, out, depth + 1));
    return out;
  }
  const tag = taggedValue(value as Record<string, unknown>);
  if (tag) {
    const ok = tag.tag === '$entry' ? tag.text.length > 0 : tag.tag === '$bigint' ? /^-?(0|[1-9][0-9]{0,39})$/.test(tag.text) : !Number.isNaN(Date.parse(tag.text));
    if (!ok) throw new BackupError('backup-malformed', `manifest ${where}: ${tag.tag} ${JSON.stringify(tag.text.slice(0, 60))} is not well formed`);
    if (tag.tag === '$entry') out.push({ name: tag.text, where });
    return out;
  }
  for (const [k, v] of Object.entries(value)) entryRefs(v, `${where}.${k}`, out, depth + 1);
  return out;
}

function taggedValue(o: Record<string, unknown>): { tag: '$entry' | '$bigint' | '$date'; text: string } | undefined {
  const keys = Object.keys(o);
  if (keys.length !== 1) return undefined;
  const tag = keys[0]!;
  if (tag !== '$entry' && tag !== '$bigint' && tag !== '$date') return undefined;
  const text = o[tag];
  if (typeof text !== 'string') throw new BackupError('backup-malformed', `manifest: ${tag} is ${JSON.stringify(text)}, expected a string`);
  return { tag, text };
}
