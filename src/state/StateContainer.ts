/**
 * The container of a romvisor machine state file: a header, a section table with each
 * section's sha256, then the sections. It knows nothing of what the sections mean
 * (MachineStateFile.ts does); it guarantees that what it hands back is exactly what was
 * written, or it throws a StateError naming the field, its offset and its value.
 *
 * All integers little-endian.
 *
 *   offset  size  field
 *   0       8     magic "ROMVSTAT"
 *   8       4     format version (STATE_FORMAT_VERSION; a larger one is refused as newer)
 *   12      4     section count n (1..MAX_SECTIONS)
 *   16      8     file length in bytes (a shorter file is truncated)
 *   24      32    sha256 of the section table (the n entries below)
 *   56      8     reserved, zero
 *   64      64×n  section table, one entry per section:
 *                 +0  id, 4 ASCII bytes ("META", "CORE", "DEVS", "RAM ")
 *                 +4  flags: bit 0 = the stored bytes are DEFLATE (raw), others zero
 *                 +8  offset of the stored bytes in the file (u64)
 *                 +16 stored length (u64)
 *                 +24 length once inflated (u64; equal to the stored length when not deflated)
 *                 +32 sha256 of the stored bytes
 *   then the sections' stored bytes, in table order, each where its entry says.
 */
import { deflateSync, inflateSync } from 'fflate';
import { hex } from '../format/hex.ts';
import { StateError } from './StateError.ts';
import { hexBytes } from '../format/hexBytes.ts';
import { sha256 } from '../format/sha256.ts';

export const STATE_MAGIC = 'ROMVSTAT';
export const STATE_FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
export const ENTRY_BYTES = 64;
export const MAX_SECTIONS = 16;
const FLAG_DEFLATE = 1;

/**
 * Raw DEFLATE both ways. The format is the same whoever compresses; the default is fflate
 * (the page, the worker); node passes its native zlib, several times faster on a cold
 * start (src/state/stateFiles.node.ts). `inflate` must produce exactly `raw` bytes or throw.
 */
export interface DeflateCodec {
  deflate(bytes: Uint8Array): Uint8Array;
  inflate(bytes: Uint8Array, raw: number): Uint8Array;
}

export const FFLATE_CODEC: DeflateCodec = {
  deflate: (bytes) => deflateSync(bytes, { level: 1 }),
  inflate: (bytes, raw) => inflateSync(bytes, { out: new Uint8Array(raw) }),
};

export interface Section {
  id: string;
  bytes: Uint8Array;
  /** Store it DEFLATE-compressed (fast: saving quickly matters more than the last percent). */
  deflate?: boolean;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes the container: header, table, sections. */
export async function encodeContainer(sections: Section[], codec: DeflateCodec = FFLATE_CODEC): Promise<Uint8Array> {
  if (sections.length < 1 || sections.length > MAX_SECTIONS) throw new RangeError(`${sections.length} sections: a state file has 1 to ${MAX_SECTIONS}`);
  const stored = sections.map((s) => (s.deflate ? codec.deflate(s.bytes) : s.bytes));
  const tableBytes = ENTRY_BYTES * sections.length;
  let at = HEADER_BYTES + tableBytes;
  const total = stored.reduce((n, b) => n + b.length, at);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    if (!/^[\x20-\x7e]{4}$/.test(s.id)) throw new RangeError(`section id ${JSON.stringify(s.id)} is not 4 printable ASCII characters`);
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    for (let k = 0; k < 4; k++) out[e + k] = s.id.charCodeAt(k);
    v.setUint32(e + 4, s.deflate ? FLAG_DEFLATE : 0, true);
    v.setBigUint64(e + 8, BigInt(at), true);
    v.setBigUint64(e + 16, BigInt(stored[i]!.length), true);
    v.setBigUint64(e + 24, BigInt(s.bytes.length), true);
    out.set(await sha256(stored[i]!), e + 32);
    out.set(stored[i]!, at);
    at += stored[i]!.length;
  }
  for (let k = 0; k < 8; k++) out[k] = STATE_MAGIC.charCodeAt(k);
  v.setUint32(8, STATE_FORMAT_VERSION, true);
  v.setUint32(12, sections.length, true);
  v.setBigUint64(16, BigInt(total), true);
  out.set(await sha256(out.subarray(HEADER_BYTES, HEADER_BYTES + tableBytes)), 24);
  return out;
}

/**
 * Reads and verifies the container; returns each section's bytes (inflated) by id.
 * `maxRaw` says how many bytes section `id` may inflate to, given the sections read before
 * it (undefined: an id the caller does not know, refused). The caller knows how big each
 * part can be, so a file cannot make it allocate more.
 */
export async function decodeContainer(
  file: Uint8Array,
  maxRaw: (id: string, earlier: ReadonlyMap<string, Uint8Array>) => number | undefined,
  codec: DeflateCodec = FFLATE_CODEC,
): Promise<Map<string, Uint8Array>> {
  if (file.length < HEADER_BYTES) {
    if (file.length >= 8 && !sameBytes(file.subarray(0, 8), magicBytes())) badMagic(file);
    throw new StateError('state-truncated', `state file: ${file.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  }
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (!sameBytes(file.subarray(0, 8), magicBytes())) badMagic(file);
  const version = v.getUint32(8, true);
  if (version > STATE_FORMAT_VERSION) {
    throw new StateError('state-newer-version', `state file at 0x8: format version ${version} is newer than this romvisor reads (${STATE_FORMAT_VERSION}); use a newer romvisor`);
  }
  if (version < 1) throw new StateError('state-malformed', `state file at 0x8: format version ${version} does not exist`);
  const count = v.getUint32(12, true);
  if (count < 1 || count > MAX_SECTIONS) throw new StateError('state-malformed', `state file at 0xc: section count ${count} is not 1..${MAX_SECTIONS}`);
  const length = v.getBigUint64(16, true);
  if (length > BigInt(file.length)) throw new StateError('state-truncated', `state file at 0x10: the file should be ${length} bytes, it has ${file.length}`);
  if (length < BigInt(file.length)) throw new StateError('state-altered', `state file at 0x10: the file should be ${length} bytes, it has ${file.length} (bytes appended)`);
  if (v.getBigUint64(56, true) !== 0n) throw new StateError('state-malformed', `state file at 0x38: reserved field is ${hex(v.getBigUint64(56, true))}, not 0`);
  const tableEnd = HEADER_BYTES + count * ENTRY_BYTES;
  if (tableEnd > file.length) throw new StateError('state-truncated', `state file: the section table of ${count} entries ends at ${hex(tableEnd)}, past the file's end ${hex(file.length)}`);
  const tableSum = await sha256(file.subarray(HEADER_BYTES, tableEnd));
  if (!sameBytes(tableSum, file.subarray(24, 56))) {
    throw new StateError('state-altered', `state file at 0x18: the section table's sha256 is ${hexBytes(tableSum)}, the header says ${hexBytes(file.subarray(24, 56))}`);
  }
  const out = new Map<string, Uint8Array>();
  let expectAt = tableEnd;
  for (let i = 0; i < count; i++) {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    const id = String.fromCharCode(...file.subarray(e, e + 4));
    const flags = v.getUint32(e + 4, true);
    const offset = v.getBigUint64(e + 8, true);
    const stored = v.getBigUint64(e + 16, true);
    const raw = v.getBigUint64(e + 24, true);
    const where = `state file section ${i} (${JSON.stringify(id)}, entry at ${hex(e)})`;
    if (out.has(id)) throw new StateError('state-malformed', `${where}: a second section with this id`);
    const cap = maxRaw(id, out);
    if (cap === undefined) throw new StateError('state-malformed', `${where}: unknown section id, or out of order`);
    if (flags & ~FLAG_DEFLATE) throw new StateError('state-malformed', `${where}: flags ${hex(flags)} has unknown bits`);
    if (offset !== BigInt(expectAt)) throw new StateError('state-malformed', `${where}: offset ${hex(offset)}, expected ${hex(expectAt)} (sections follow the table in order)`);
    if (offset + stored > BigInt(file.length)) throw new StateError('state-truncated', `${where}: ${stored} bytes at ${hex(offset)} run past the file's end ${hex(file.length)}`);
    if (raw > BigInt(cap)) throw new StateError('state-malformed', `${where}: ${raw} bytes once inflated, more than the ${cap} such a section can hold`);
    if (!(flags & FLAG_DEFLATE) && raw !== stored) throw new StateError('state-malformed', `${where}: stored ${stored} bytes uncompressed but says ${raw} once inflated`);
    const bytes = file.subarray(Number(offset), Number(offset + stored));
    const sum = await sha256(bytes);
    if (!sameBytes(sum, file.subarray(e + 32, e + 64))) {
      throw new StateError('state-altered', `${where}: sha256 of its ${stored} bytes is ${hexBytes(sum)}, the table says ${hexBytes(file.subarray(e + 32, e + 64))}`);
    }
    out.set(id, flags & FLAG_DEFLATE ? inflateExact(codec, bytes, Number(raw), where) : bytes);
    expectAt += Number(stored);
  }
  if (expectAt !== file.length) throw new StateError('state-malformed', `state file: the sections end at ${hex(expectAt)}, the file at ${hex(file.length)}`);
  return out;
}

const magicBytes = () => Uint8Array.from(STATE_MAGIC, (c) => c.charCodeAt(0));

function badMagic(file: Uint8Array): never {
  throw new StateError('state-bad-magic', `state file at 0x0: magic is ${JSON.stringify(String.fromCharCode(...file.subarray(0, 8)))}, expected "${STATE_MAGIC}": not a romvisor machine state`);
}

/** Inflates into a buffer of exactly `raw` bytes; the stream must fill it. */
function inflateExact(codec: DeflateCodec, bytes: Uint8Array, raw: number, where: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = codec.inflate(bytes, raw);
  } catch (e) {
    throw new StateError('state-malformed', `${where}: its DEFLATE data is corrupt (${(e as Error).message})`, { cause: e });
  }
  if (out.length !== raw) throw new StateError('state-malformed', `${where}: inflates to ${out.length} bytes, the table says ${raw}`);
  return out;
}
