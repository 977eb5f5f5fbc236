import { readU64, writeU64, quoteField, SECTOR_SIZE } from './VhdFooter.ts';
import { vhdChecksum } from './vhdChecksum.ts';
import { hex } from '../format/hex.ts';
import { VhdError } from './VhdError.ts';

/*
 * The 1024-byte dynamic disk header (dynamic and differencing disks), big-endian:
 *   0 cookie "cxsparse"        8 data offset (unused, all ones)
 *  16 table (BAT) offset (u64) 24 header version 0x00010000
 *  28 max table entries        32 block size (default 2 MiB)
 *  36 checksum                 40 parent unique id (16)
 *  56 parent time stamp        60 reserved
 *  64 parent unicode name (512 bytes, UTF-16 big-endian, NUL-padded)
 * 576 eight parent locator entries of 24 bytes:
 *      +0 platform code, +4 platform data space, +8 platform data length,
 *      +12 reserved, +16 platform data offset (u64)
 * 768 reserved (256 bytes)
 */
export const HEADER_SIZE = 1024;
/** Byte offsets of the header's fields, as in the table above; error offsets point at them. */
export const HEADER_FIELD = {
  cookie: 0,
  dataOffset: 8,
  tableOffset: 16,
  headerVersion: 24,
  maxTableEntries: 28,
  blockSize: 32,
  checksum: 36,
  parentUniqueId: 40,
  parentTimeStamp: 56,
  parentUnicodeName: 64,
  locators: 576,
} as const;
/** Bytes of one parent locator entry in the table at `HEADER_FIELD.locators`. */
export const LOCATOR_ENTRY_SIZE = 24;
const PARENT_UNIQUE_ID_SIZE = 16;
const PARENT_UNICODE_NAME_SIZE = 512;
const COOKIE = 'cxsparse';
const CHECKSUM_OFFSET = HEADER_FIELD.checksum;
const HEADER_VERSION = 0x00010000;
const LOCATOR_COUNT = 8;
export const DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
/**
 * Largest block size we accept. The spec allows any, but each allocated block costs a
 * bitmap of blockSize/4096 bytes and each write may zero-fill a whole block, so an
 * absurd size in a corrupt header must not turn into an absurd allocation.
 */
export const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** Locator paths are file names; anything longer than this is corruption. */
export const MAX_LOCATOR_LENGTH = 64 * 1024;

/** W2ku: absolute path, UTF-16LE. W2ru: path relative to the child, UTF-16LE. */
export const PLATFORM_W2KU = 0x57326b75;
export const PLATFORM_W2RU = 0x57327275;
/** Older codes, read but not written: Wi2k/Wi2r (deprecated), Mac, MacX (UTF-8 URL). */
const PLATFORM_WI2K = 0x5769326b;
const PLATFORM_WI2R = 0x57693272;
const PLATFORM_MACX = 0x4d616358;

export interface ParentLocatorEntry {
  platformCode: number;
  dataSpace: number;
  dataLength: number;
  dataOffset: number;
}

export interface VhdDynamicHeader {
  tableOffset: number;
  headerVersion: number;
  maxTableEntries: number;
  blockSize: number;
  checksum: number;
  parentUniqueId: Uint8Array;
  parentTimeStamp: number;
  parentUnicodeName: string;
  locators: ParentLocatorEntry[];
}

export function platformName(code: number): string {
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 8) s += String.fromCharCode((code >>> shift) & 0xff);
  return s;
}

/** Parses and validates the header's own fields; layout checks against the file are VhdDisk's. */
export function parseDynamicHeader(bytes: Uint8Array, at: number): VhdDynamicHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new VhdError('truncated', `VHD dynamic header at ${hex(at)}: only ${bytes.length} bytes, expected ${HEADER_SIZE}`, at);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  let cookie = '';
  for (let i = 0; i < COOKIE.length; i++) cookie += String.fromCharCode(bytes[HEADER_FIELD.cookie + i]!);
  if (cookie !== COOKIE) {
    throw new VhdError('bad-cookie', `VHD dynamic header at ${hex(at)}: cookie is ${quoteField(cookie)}, expected "${COOKIE}"`, at);
  }
  const checksum = view.getUint32(CHECKSUM_OFFSET);
  const expected = vhdChecksum(bytes.subarray(0, HEADER_SIZE), CHECKSUM_OFFSET);
  if (checksum !== expected) {
    throw new VhdError('bad-checksum', `VHD dynamic header at ${hex(at)}: checksum is ${hex(checksum)}, expected ${hex(expected)}`, at + CHECKSUM_OFFSET);
  }
  const headerVersion = view.getUint32(HEADER_FIELD.headerVersion);
  if (headerVersion >>> 16 !== 1) {
    throw new VhdError('bad-version', `VHD dynamic header at ${hex(at)}: header version is ${hex(headerVersion)}, expected 0x10000`, at + HEADER_FIELD.headerVersion);
  }
  const blockSize = view.getUint32(HEADER_FIELD.blockSize);
  if (blockSize < SECTOR_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new VhdError('bad-block-size', `VHD dynamic header at ${hex(at)}: block size is ${blockSize}, expected a power of two from 512 to ${MAX_BLOCK_SIZE}`, at + HEADER_FIELD.blockSize);
  }
  const tableOffset = readU64(view, HEADER_FIELD.tableOffset);
  if (!Number.isFinite(tableOffset) || tableOffset % SECTOR_SIZE !== 0) {
    throw new VhdError('bad-offset', `VHD dynamic header at ${hex(at)}: table offset is ${Number.isFinite(tableOffset) ? hex(tableOffset) : 'beyond 2^53'}, expected a 512-aligned offset`, at + HEADER_FIELD.tableOffset);
  }
  const nameBytes = bytes.subarray(HEADER_FIELD.parentUnicodeName, HEADER_FIELD.parentUnicodeName + PARENT_UNICODE_NAME_SIZE);
  let parentUnicodeName = '';
  for (let i = 0; i < nameBytes.length; i += 2) {
    const unit = (nameBytes[i]! << 8) | nameBytes[i + 1]!;
    if (unit === 0) break;
    parentUnicodeName += String.fromCharCode(unit);
  }
  const locators: ParentLocatorEntry[] = [];
  for (let i = 0; i < LOCATOR_COUNT; i++) {
    const e = HEADER_FIELD.locators + i * LOCATOR_ENTRY_SIZE;
    locators.push({
      platformCode: view.getUint32(e),
      dataSpace: view.getUint32(e + 4),
      dataLength: view.getUint32(e + 8),
      dataOffset: readU64(view, e + 16),
    });
  }
  return {
    tableOffset,
    headerVersion,
    maxTableEntries: view.getUint32(HEADER_FIELD.maxTableEntries),
    blockSize,
    checksum,
    parentUniqueId: bytes.slice(HEADER_FIELD.parentUniqueId, HEADER_FIELD.parentUniqueId + PARENT_UNIQUE_ID_SIZE),
    parentTimeStamp: view.getUint32(HEADER_FIELD.parentTimeStamp),
    parentUnicodeName,
    locators,
  };
}

interface NewDynamicHeader {
  tableOffset: number;
  maxTableEntries: number;
  blockSize: number;
  parentUniqueId?: Uint8Array;
  parentTimeStamp?: number;
  parentUnicodeName?: string;
  locators?: ParentLocatorEntry[];
}

export function serializeDynamicHeader(h: NewDynamicHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < COOKIE.length; i++) bytes[HEADER_FIELD.cookie + i] = COOKIE.charCodeAt(i);
  // The spec shows 0xFFFFFFFF for this unused field, but Microsoft's tools expect all 64 bits set.
  view.setUint32(HEADER_FIELD.dataOffset, 0xffffffff);
  view.setUint32(HEADER_FIELD.dataOffset + 4, 0xffffffff);
  writeU64(view, HEADER_FIELD.tableOffset, h.tableOffset);
  view.setUint32(HEADER_FIELD.headerVersion, HEADER_VERSION);
  view.setUint32(HEADER_FIELD.maxTableEntries, h.maxTableEntries);
  view.setUint32(HEADER_FIELD.blockSize, h.blockSize);
  if (h.parentUniqueId) bytes.set(h.parentUniqueId.subarray(0, PARENT_UNIQUE_ID_SIZE), HEADER_FIELD.parentUniqueId);
  view.setUint32(HEADER_FIELD.parentTimeStamp, (h.parentTimeStamp ?? 0) >>> 0);
  const name = h.parentUnicodeName ?? '';
  for (let i = 0; i < Math.min(name.length, PARENT_UNICODE_NAME_SIZE / 2); i++) view.setUint16(HEADER_FIELD.parentUnicodeName + i * 2, name.charCodeAt(i));
  (h.locators ?? []).slice(0, LOCATOR_COUNT).forEach((l, i) => {
    const e = HEADER_FIELD.locators + i * LOCATOR_ENTRY_SIZE;
    view.setUint32(e, l.platformCode);
    view.setUint32(e + 4, l.dataSpace);
    view.setUint32(e + 8, l.dataLength);
    writeU64(view, e + 16, l.dataOffset);
  });
  view.setUint32(CHECKSUM_OFFSET, vhdChecksum(bytes, CHECKSUM_OFFSET));
  return bytes;
}

/** Bytes of the sector bitmap in front of each block: one bit per sector, padded to a sector. */
export function bitmapSize(blockSize: number): number {
  return Math.ceil(blockSize / SECTOR_SIZE / 8 / SECTOR_SIZE) * SECTOR_SIZE;
}

/** Decodes a locator's platform data into a path, by its platform code. */
export function decodeLocatorPath(code: number, data: Uint8Array): string | undefined {
  if (code === PLATFORM_W2KU || code === PLATFORM_W2RU) {
    let s = '';
    for (let i = 0; i + 1 < data.length; i += 2) {
      const unit = data[i]! | (data[i + 1]! << 8);
      if (unit === 0) break;
      s += String.fromCharCode(unit);
    }
    return s;
  }
  if (code === PLATFORM_MACX || code === PLATFORM_WI2K || code === PLATFORM_WI2R) {
    let s = new TextDecoder('utf-8', { fatal: false }).decode(data);
    const nul = s.indexOf('\0');
    if (nul >= 0) s = s.slice(0, nul);
    return code === PLATFORM_MACX ? s.replace(/^file:\/\//, '') : s;
  }
  return undefined;
}

/** UTF-16LE bytes of a path, as W2ku/W2ru locators store it. */
export function encodeLocatorPath(path: string): Uint8Array {
  const out = new Uint8Array(path.length * 2);
  for (let i = 0; i < path.length; i++) {
    out[i * 2] = path.charCodeAt(i) & 0xff;
    out[i * 2 + 1] = path.charCodeAt(i) >>> 8;
  }
  return out;
}
