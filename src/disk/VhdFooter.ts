import { chsGeometry, chsSectors, MAX_CHS_SECTORS, type ChsGeometry } from './chsGeometry.ts';
import { vhdChecksum } from './vhdChecksum.ts';
import { escapeControl } from '../format/escapeControl.ts';
import { hex } from '../format/hex.ts';
import { VhdError } from './VhdError.ts';
import { hexBytes } from '../format/hexBytes.ts';

/*
 * The 512-byte hard disk footer, all fields big-endian:
 *   0 cookie "conectix"        8 features (bit 1 "reserved" always set)
 *  12 file format version     16 data offset (u64; all ones for fixed disks)
 *  24 time stamp (s since 2000-01-01 UTC)   28 creator application (4 chars)
 *  32 creator version         36 creator host OS ("Wi2k" / "Mac ")
 *  40 original size (u64)     48 current size (u64)
 *  56 cylinders (u16), 58 heads (u8), 59 sectors per track (u8)
 *  60 disk type (2 fixed, 3 dynamic, 4 differencing)   64 checksum
 *  68 unique id (16 bytes)    84 saved state (u8)      85..511 reserved, zero
 */
export const FOOTER_SIZE = 512;
export const SECTOR_SIZE = 512;
const COOKIE = 'conectix';
const CHECKSUM_OFFSET = 64;
const FEATURES_RESERVED = 0x2;
const FORMAT_VERSION = 0x00010000;
/** Seconds between the Unix epoch and the VHD epoch, 2000-01-01T00:00:00Z. */
const VHD_EPOCH_UNIX_SECONDS = 946684800;

/**
 * Creator application written into every footer romvisor makes: "win ".
 *
 * Why not a "romv" of our own: readers disagree on where a VHD's size lives. Virtual PC
 * (creator "vpc ") and old qemu ("qemu") use cylinders × heads × sectors, which the
 * spec's CHS algorithm rounds *down* (a 100 MiB disk becomes 204,624 sectors, not
 * 204,800), so a disk whose size is not CHS-aligned would shrink. qemu's vpc driver up
 * to 9.x uses current_size only for a fixed list of creators ("win ", "qem2", "d2v ",
 * "tap\0", "CTXS") or when the geometry is the maximum; Hyper-V and Windows always use
 * current_size. "win " is on every such list and has the meaning romvisor wants
 * ("current_size is the size; the geometry is informational"), so `qemu-img info -f vpc`
 * reports exactly the size we wrote. The geometry is still the spec's CHS for that size.
 */
export const CREATOR_APPLICATION = 'win ';
/** Creator version 0.1 (major in the high 16 bits, as the spec lays it out). */
const CREATOR_VERSION = 0x00000001;
const CREATOR_HOST_OS_WINDOWS = 0x5769326b; // "Wi2k"

/** qemu refuses VHDs above 2040 GiB (0xff000000 sectors); so do we. */
export const MAX_VIRTUAL_SIZE = 0xff000000 * SECTOR_SIZE;

export type VhdType = 'fixed' | 'dynamic' | 'differencing';
const TYPE_CODES: Record<VhdType, number> = { fixed: 2, dynamic: 3, differencing: 4 };

export interface VhdFooter {
  features: number;
  formatVersion: number;
  /** Offset of the dynamic header; undefined for fixed disks (all ones on disk). */
  dataOffset: number | undefined;
  timeStamp: number;
  creatorApplication: string;
  creatorVersion: number;
  creatorHostOs: number;
  originalSize: number;
  currentSize: number;
  geometry: ChsGeometry;
  type: VhdType;
  checksum: number;
  uniqueId: Uint8Array;
  savedState: number;
}

function ascii(bytes: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Printable form of a 4- or 8-char field for messages: quoted, every control byte (C1
 * too: JSON.stringify passes 0x80–0x9f, and a 0x9d starts an OSC in a terminal) as \xNN.
 */
/** Whether `bytes` (a footer, or the copy at the start of a dynamic VHD) begin with the VHD cookie. */
export function hasFooterCookie(bytes: Uint8Array): boolean {
  if (bytes.length < COOKIE.length) return false;
  for (let i = 0; i < COOKIE.length; i++) if (bytes[i] !== COOKIE.charCodeAt(i)) return false;
  return true;
}

export function quoteField(s: string): string {
  return `"${escapeControl(s).replace(/"/g, '\\"')}"`;
}

/** Reads a big-endian u64 that must fit a JS number exactly, or reports the field. */
export function readU64(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if (hi > 0x1fffff) return Number.POSITIVE_INFINITY;
  return hi * 0x100000000 + lo;
}

export function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / 0x100000000));
  view.setUint32(at + 4, value >>> 0);
}

/**
 * Parses and validates one footer copy. `at` is where it sits in the file (for messages).
 * Checks everything whose later use could index or allocate: sizes, type, data offset.
 */
export function parseFooter(bytes: Uint8Array, at: number): VhdFooter {
  if (bytes.length < FOOTER_SIZE) {
    throw new VhdError('truncated', `VHD footer at ${hex(at)}: only ${bytes.length} bytes, expected ${FOOTER_SIZE}`, at);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FOOTER_SIZE);
  const cookie = ascii(bytes, 0, 8);
  if (cookie !== COOKIE) {
    throw new VhdError('bad-cookie', `VHD footer at ${hex(at)}: cookie is ${quoteField(cookie)}, expected "${COOKIE}"`, at);
  }
  const checksum = view.getUint32(CHECKSUM_OFFSET);
  const expected = vhdChecksum(bytes.subarray(0, FOOTER_SIZE), CHECKSUM_OFFSET);
  if (checksum !== expected) {
    throw new VhdError('bad-checksum', `VHD footer at ${hex(at)}: checksum is ${hex(checksum)}, expected ${hex(expected)}`, at + CHECKSUM_OFFSET);
  }
  const formatVersion = view.getUint32(12);
  if (formatVersion >>> 16 !== 1) {
    throw new VhdError('bad-version', `VHD footer at ${hex(at)}: file format version is ${hex(formatVersion)}, expected 0x10000`, at + 12);
  }
  const typeCode = view.getUint32(60);
  const type = (Object.keys(TYPE_CODES) as VhdType[]).find((t) => TYPE_CODES[t] === typeCode);
  if (!type) {
    throw new VhdError('unsupported-type', `VHD footer at ${hex(at)}: disk type is ${typeCode}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)`, at + 60);
  }
  const currentSize = readU64(view, 48);
  if (currentSize === 0 || currentSize > MAX_VIRTUAL_SIZE || currentSize % SECTOR_SIZE !== 0) {
    const raw = `0x${view.getUint32(48).toString(16)}${view.getUint32(52).toString(16).padStart(8, '0')}`;
    throw new VhdError('bad-size', `VHD footer at ${hex(at)}: current size is ${raw}, expected a non-zero multiple of 512 up to ${MAX_VIRTUAL_SIZE}`, at + 48);
  }
  let dataOffset: number | undefined;
  if (type !== 'fixed') {
    dataOffset = readU64(view, 16);
    if (!Number.isFinite(dataOffset) || dataOffset < FOOTER_SIZE || dataOffset % SECTOR_SIZE !== 0) {
      throw new VhdError('bad-offset', `VHD footer at ${hex(at)}: data offset is ${Number.isFinite(dataOffset) ? hex(dataOffset) : 'beyond 2^53'}, expected a 512-aligned offset past the footer copy`, at + 16);
    }
  }
  return {
    features: view.getUint32(8),
    formatVersion,
    dataOffset,
    timeStamp: view.getUint32(24),
    creatorApplication: ascii(bytes, 28, 4),
    creatorVersion: view.getUint32(32),
    creatorHostOs: view.getUint32(36),
    originalSize: readU64(view, 40),
    currentSize,
    geometry: { cylinders: view.getUint16(56), heads: bytes[58]!, sectorsPerTrack: bytes[59]! },
    type,
    checksum,
    uniqueId: bytes.slice(68, 84),
    savedState: bytes[84]!,
  };
}

/**
 * The virtual size a footer describes. Disks made by Virtual PC ("vpc ") and old qemu
 * ("qemu") expose cylinders × heads × sectors, everything else current_size; the same
 * rule as current qemu, so `qemu-img convert -f vpc -O raw` and romvisor agree on
 * third-party images. A maximal geometry means "too big for CHS", so current_size wins.
 */
export function footerVirtualSize(f: VhdFooter): number {
  const chs = chsSectors(f.geometry);
  const usesChs = (f.creatorApplication === 'vpc ' || f.creatorApplication === 'qemu') && chs !== MAX_CHS_SECTORS;
  if (!usesChs) return f.currentSize;
  // A CHS larger than current_size would read past the data; clamp to what exists.
  return Math.min(chs * SECTOR_SIZE, f.currentSize);
}

interface NewFooter {
  type: VhdType;
  size: number;
  dataOffset?: number;
  timeStamp: number;
  uniqueId: Uint8Array;
}

export function serializeFooter(f: NewFooter): Uint8Array {
  const bytes = new Uint8Array(FOOTER_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = COOKIE.charCodeAt(i);
  view.setUint32(8, FEATURES_RESERVED);
  view.setUint32(12, FORMAT_VERSION);
  if (f.dataOffset === undefined) {
    view.setUint32(16, 0xffffffff);
    view.setUint32(20, 0xffffffff);
  } else {
    writeU64(view, 16, f.dataOffset);
  }
  view.setUint32(24, f.timeStamp >>> 0);
  for (let i = 0; i < 4; i++) bytes[28 + i] = CREATOR_APPLICATION.charCodeAt(i);
  view.setUint32(32, CREATOR_VERSION);
  view.setUint32(36, CREATOR_HOST_OS_WINDOWS);
  writeU64(view, 40, f.size);
  writeU64(view, 48, f.size);
  const g = chsGeometry(f.size / SECTOR_SIZE);
  view.setUint16(56, g.cylinders);
  bytes[58] = g.heads;
  bytes[59] = g.sectorsPerTrack;
  view.setUint32(60, TYPE_CODES[f.type]);
  bytes.set(f.uniqueId.subarray(0, 16), 68);
  view.setUint32(CHECKSUM_OFFSET, vhdChecksum(bytes, CHECKSUM_OFFSET));
  return bytes;
}

/** Now, in VHD time stamp seconds. */
export function vhdTimeNow(): number {
  return Math.max(0, Math.floor(Date.now() / 1000) - VHD_EPOCH_UNIX_SECONDS) >>> 0;
}

export function vhdTimeToDate(t: number): Date {
  return new Date((t + VHD_EPOCH_UNIX_SECONDS) * 1000);
}

/** A random RFC 4122 version-4 id, stored in the footer as 16 raw bytes. */
export function randomUniqueId(): Uint8Array {
  const id = new Uint8Array(16);
  globalThis.crypto.getRandomValues(id);
  id[6] = (id[6]! & 0x0f) | 0x40;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

/** The 16 id bytes in the usual 8-4-4-4-12 hex form, in stored byte order. */
export function formatUniqueId(id: Uint8Array): string {
  const h = hexBytes(id);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
