import type { BlockBackend } from './BlockBackend.ts';
import type { ByteSource } from './ByteSource.ts';
import {
  bitmapSize,
  decodeLocatorPath,
  HEADER_FIELD,
  HEADER_SIZE,
  LOCATOR_ENTRY_SIZE,
  MAX_LOCATOR_LENGTH,
  parseDynamicHeader,
  platformName,
  serializeDynamicHeader,
  type ParentLocatorEntry,
  type VhdDynamicHeader,
} from './VhdDynamicHeader.ts';
import { FOOTER_SIZE, footerVirtualSize, formatUniqueId, MAX_VIRTUAL_SIZE, parseFooter, SECTOR_SIZE, type VhdFooter, type VhdType } from './VhdFooter.ts';
import { hex } from '../format/hex.ts';
import { VhdError } from './VhdError.ts';
import { writeVhdImage } from './writeVhdImage.ts';
import { isSectorPresent, setSectors } from './sectorBitmap.ts';
import { writeEmptyVhd, type VhdCreateOptions, type VhdDifferencingOptions } from './writeEmptyVhd.ts';

/** BAT value of a block that has no data in this file. */
const UNALLOCATED = 0xffffffff;
/**
 * Ceiling on the BAT we read into memory at open. 64 MiB of entries covers the largest
 * legal disk with 2 MiB blocks many times over; a header asking for more is corrupt.
 */
const MAX_BAT_BYTES = 64 * 1024 * 1024;
/** Longest parent chain we follow; deeper than this is treated like a loop. */
export const MAX_CHAIN_DEPTH = 32;
/** One read or write may move at most this much, so a caller bug cannot allocate gigabytes. */
const MAX_IO_BYTES = 256 * 1024 * 1024;
/** Bitmaps kept in memory; 4096 × 512 bytes for 2 MiB blocks = 2 MiB of cache. */
const BITMAP_CACHE_ENTRIES = 4096;

/** What a differencing disk says about its parent; handed to the `ParentResolver`. */
export interface ParentReference {
  /** The parent's unique id (8-4-4-4-12 hex), which the found parent must have. */
  uniqueId: string;
  /** The parent's file name as stored in the header (UTF-16), often just the base name. */
  unicodeName: string;
  /** Decoded parent locators in header order: W2ru (relative), W2ku (absolute), ... */
  locators: { platform: string; path: string }[];
  /** Parent time stamp from the header (seconds since 2000-01-01 UTC). */
  timeStamp: number;
}

/**
 * Finds the backend holding a differencing disk's parent, or undefined when there is
 * none. `child` is the backend of the disk asking (relative locators are relative to
 * it; for a grandparent it is the parent's backend). The VHD layer opens the result
 * read-only and checks its unique id; the disk then owns it and disposes it with the chain.
 */
export type ParentResolver = (ref: ParentReference, child: BlockBackend) => Promise<BlockBackend | undefined>;

export interface VhdOpenOptions {
  parentResolver?: ParentResolver;
  /** Refuse writes even if the backend allows them. Parents are always opened this way. */
  readOnly?: boolean;
}

interface OpenState {
  /** Unique ids of the disks below this one in the chain (child first), for loop checks. */
  descendants: string[];
  /** A parent already open (createDifferencing), used instead of the resolver. */
  parentDisk?: VhdDisk;
}

interface Extent {
  start: number;
  end: number;
  what: string;
}

/**
 * Splits the byte range [offset, offset + length) at block boundaries: for each piece, its
 * block, its offset within the block, and its place [from, to) in the caller's buffer.
 */
function* blockSpans(offset: number, length: number, blockSize: number): Generator<{ block: number; within: number; from: number; to: number }> {
  let done = 0;
  while (done < length) {
    const pos = offset + done;
    const block = Math.floor(pos / blockSize);
    const within = pos - block * blockSize;
    const n = Math.min(blockSize - within, length - done);
    yield { block, within, from: done, to: done + n };
    done += n;
  }
}

/**
 * A VHD (fixed, dynamic or differencing) over a `BlockBackend`: the virtual disk the
 * guest sees. Reads and writes are byte-addressed; unaligned writes are widened to
 * whole sectors by reading the neighbours first.
 */
export class VhdDisk implements ByteSource {
  /** Non-fatal findings from open (e.g. a damaged footer replaced by its copy at 0). */
  readonly warnings: string[];
  /**
   * Those of `warnings` that are damage to the file, which open worked around (a broken
   * tail footer, a broken footer copy at 0x0), as opposed to oddities that damage
   * nothing (a parent time stamp that moved, a footer copy that differs but is valid).
   */
  readonly damage: string[];
  /** The next disk in the chain, for differencing disks; owned by this one. */
  readonly parent: VhdDisk | undefined;
  readonly footer: VhdFooter;
  readonly header: VhdDynamicHeader | undefined;
  /** Decoded parent reference of a differencing disk. */
  readonly parentReference: ParentReference | undefined;

  private readonly bat: Uint32Array;
  private readonly bitmapBytes: number;
  private readonly bitmapCache = new Map<number, Uint8Array>();
  /** Where the tail footer sits; a new block goes here and the footer moves past it. */
  private footerOffset: number;
  private readonly forcedReadOnly: boolean;
  /** Writes run one at a time so two of them never allocate the same block. */
  private writeQueue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    readonly backend: BlockBackend,
    footer: VhdFooter,
    private readonly footerRaw: Uint8Array,
    header: VhdDynamicHeader | undefined,
    bat: Uint32Array,
    footerOffset: number,
    parent: VhdDisk | undefined,
    parentReference: ParentReference | undefined,
    warnings: string[],
    damage: string[],
    readOnly: boolean,
  ) {
    this.footer = footer;
    this.header = header;
    this.bat = bat;
    this.footerOffset = footerOffset;
    this.parent = parent;
    this.parentReference = parentReference;
    this.warnings = warnings;
    this.damage = damage;
    this.forcedReadOnly = readOnly;
    this.bitmapBytes = header ? bitmapSize(header.blockSize) : 0;
  }

  get type(): VhdType {
    return this.footer.type;
  }

  /** Size of the disk the guest sees, in bytes. */
  get virtualSize(): number {
    return footerVirtualSize(this.footer);
  }

  /** Same as `virtualSize`; lets a VhdDisk serve as a `ByteSource`. */
  get size(): number {
    return this.virtualSize;
  }

  get uuid(): string {
    return formatUniqueId(this.footer.uniqueId);
  }

  get readOnly(): boolean {
    return this.forcedReadOnly || this.backend.readOnly;
  }

  /** Block size of a dynamic or differencing disk; the whole disk for a fixed one. */
  get blockSize(): number {
    return this.header?.blockSize ?? this.virtualSize;
  }

  /** Blocks the virtual disk spans (1 for a fixed disk). */
  get blockCount(): number {
    return this.header ? Math.ceil(this.virtualSize / this.header.blockSize) : 1;
  }

  /** Blocks that have data in this file (not counting parents). */
  get allocatedBlocks(): number {
    if (!this.header) return 1;
    let n = 0;
    for (let i = 0; i < this.blockCount; i++) if (this.bat[i] !== UNALLOCATED) n++;
    return n;
  }

  /** Bytes of virtual disk backed by this file's blocks (fixed: the whole disk). */
  get allocatedBytes(): number {
    return this.header ? this.allocatedBlocks * this.header.blockSize : this.virtualSize;
  }

  /** Whether block `index` has data in this file. */
  isBlockAllocated(index: number): boolean {
    return !this.header || (index < this.blockCount && this.bat[index] !== UNALLOCATED);
  }

  /**
   * Bytes of sectors this file holds itself, from the sector bitmaps: for a
   * differencing disk, how much the guest changed relative to its parent.
   */
  async changedBytes(): Promise<number> {
    if (!this.header) return this.virtualSize;
    let sectors = 0;
    const perBlock = this.header.blockSize / SECTOR_SIZE;
    for (let i = 0; i < this.blockCount; i++) {
      if (this.bat[i] === UNALLOCATED) continue;
      const bitmap = await this.bitmap(i);
      const limit = Math.min(perBlock, (this.virtualSize - i * this.header.blockSize) / SECTOR_SIZE);
      for (let s = 0; s < limit; s++) if (bitmap[s >> 3]! & (0x80 >> (s & 7))) sectors++;
    }
    return sectors * SECTOR_SIZE;
  }

  /**
   * Deeper checks than open does (open already guarantees safe access): BAT entries
   * past the end of the disk, and bitmap bits for sectors past the end. For `vhd check`.
   * Neither changes what any sector reads, and qemu itself sets the bitmap bits of a
   * partial last block, so they are warnings, not damage.
   */
  async layoutWarnings(): Promise<string[]> {
    const found: string[] = [];
    if (!this.header) return found;
    const { blockSize, tableOffset, maxTableEntries } = this.header;
    for (let i = this.blockCount; i < maxTableEntries; i++) {
      if (this.bat[i] !== UNALLOCATED) {
        found.push(`VHD BAT entry ${i} at ${hex(tableOffset + i * 4)}: block is allocated, but the disk has only ${this.blockCount} blocks`);
      }
    }
    const last = this.blockCount - 1;
    const tailSectors = (this.virtualSize - last * blockSize) / SECTOR_SIZE;
    if (this.bat[last] !== UNALLOCATED && tailSectors < blockSize / SECTOR_SIZE) {
      const bitmap = await this.bitmap(last);
      for (let s = tailSectors; s < blockSize / SECTOR_SIZE; s++) {
        if (isSectorPresent(bitmap, s)) {
          found.push(`VHD sector bitmap of block ${last} at ${hex(this.bat[last]! * SECTOR_SIZE)}: sector ${s} is marked present but lies past the end of the disk`);
          break;
        }
      }
    }
    return found;
  }

  // ---------------------------------------------------------------- open

  /**
   * Opens an existing VHD, validating every structure that a later read or write would
   * index by: footer, header, BAT extents, locators, and the parent chain.
   */
  static open(backend: BlockBackend, opts: VhdOpenOptions = {}): Promise<VhdDisk> {
    return VhdDisk.openWith(backend, opts, { descendants: [] });
  }

  private static async openWith(backend: BlockBackend, opts: VhdOpenOptions, state: OpenState): Promise<VhdDisk> {
    const fileSize = backend.size;
    if (fileSize < FOOTER_SIZE) {
      throw new VhdError('truncated', `VHD file is ${fileSize} bytes, too short for the ${FOOTER_SIZE}-byte footer`, 0);
    }
    const warnings: string[] = [];
    const damage: string[] = [];
    const tailAt = fileSize - FOOTER_SIZE;
    const tail = await backend.read(tailAt, FOOTER_SIZE);
    let footer: VhdFooter;
    let footerRaw = tail;
    try {
      footer = parseFooter(tail, tailAt);
    } catch (tailError) {
      if (!(tailError instanceof VhdError) || tailAt < FOOTER_SIZE) throw tailError;
      // Dynamic disks keep a copy at 0 because the tail is what a crash mid-write hits.
      let copy: VhdFooter;
      try {
        footerRaw = await backend.read(0, FOOTER_SIZE);
        copy = parseFooter(footerRaw, 0);
      } catch {
        throw tailError;
      }
      if (copy.type === 'fixed') throw tailError;
      footer = copy;
      damage.push(`${tailError.message}; opened from the footer copy at 0x0`);
    }
    if (footer.type !== 'fixed' && damage.length === 0 && tailAt >= FOOTER_SIZE) {
      const copy = await backend.read(0, FOOTER_SIZE);
      if (!copy.every((b, i) => b === tail[i])) {
        try {
          parseFooter(copy, 0);
          warnings.push(`VHD footer copy at 0x0 differs from the footer at ${hex(tailAt)}`);
        } catch (copyError) {
          if (!(copyError instanceof VhdError)) throw copyError;
          damage.push(`${copyError.message}; the footer at ${hex(tailAt)} is intact and used`);
        }
      }
    }
    warnings.unshift(...damage);
    const virtualSize = footerVirtualSize(footer);

    if (footer.type === 'fixed') {
      if (virtualSize > tailAt) {
        throw new VhdError('truncated', `VHD fixed disk: footer at ${hex(tailAt)} says the disk is ${virtualSize} bytes, but only ${tailAt} bytes of data precede it`, tailAt);
      }
      return new VhdDisk(backend, footer, footerRaw, undefined, new Uint32Array(0), tailAt, undefined, undefined, warnings, damage, opts.readOnly ?? false);
    }

    const headerAt = footer.dataOffset!;
    if (headerAt + HEADER_SIZE > tailAt) {
      throw new VhdError('bad-offset', `VHD footer at ${hex(tailAt)}: data offset is ${hex(headerAt)}, but the ${HEADER_SIZE}-byte header would run past the footer`, tailAt + 16);
    }
    const header = parseDynamicHeader(await backend.read(headerAt, HEADER_SIZE), headerAt);
    const { blockSize, maxTableEntries, tableOffset } = header;
    const blocksNeeded = Math.ceil(virtualSize / blockSize);
    if (maxTableEntries < blocksNeeded) {
      throw new VhdError('bat-out-of-range', `VHD dynamic header at ${hex(headerAt)}: max table entries is ${maxTableEntries}, but a disk of ${virtualSize} bytes in ${blockSize}-byte blocks needs ${blocksNeeded}`, headerAt + HEADER_FIELD.maxTableEntries);
    }
    const batBytes = maxTableEntries * 4;
    if (batBytes > MAX_BAT_BYTES || maxTableEntries > Math.ceil(MAX_VIRTUAL_SIZE / blockSize) + 1) {
      throw new VhdError('bat-out-of-range', `VHD dynamic header at ${hex(headerAt)}: max table entries is ${maxTableEntries}, more than any disk up to ${MAX_VIRTUAL_SIZE} bytes needs`, headerAt + HEADER_FIELD.maxTableEntries);
    }
    if (tableOffset < FOOTER_SIZE || tableOffset + batBytes > tailAt) {
      throw new VhdError('bat-out-of-range', `VHD dynamic header at ${hex(headerAt)}: table offset is ${hex(tableOffset)}, but the ${batBytes}-byte BAT must lie between the footer copy and the footer at ${hex(tailAt)}`, headerAt + HEADER_FIELD.tableOffset);
    }
    const batRaw = await backend.read(tableOffset, batBytes);
    const batView = new DataView(batRaw.buffer, batRaw.byteOffset, batRaw.byteLength);
    const bat = new Uint32Array(maxTableEntries);
    for (let i = 0; i < maxTableEntries; i++) bat[i] = batView.getUint32(i * 4);

    // Layout check: nothing may reach past the tail footer, and no two things may overlap,
    // or a later block allocation or write could clobber metadata or another block.
    const meta: Extent[] = [
      { start: 0, end: FOOTER_SIZE, what: 'footer copy' },
      { start: headerAt, end: headerAt + HEADER_SIZE, what: 'dynamic header' },
      { start: tableOffset, end: tableOffset + Math.ceil(batBytes / SECTOR_SIZE) * SECTOR_SIZE, what: 'BAT' },
    ];
    let parentReference: ParentReference | undefined;
    if (footer.type === 'differencing') {
      const locators: ParentReference['locators'] = [];
      for (let i = 0; i < header.locators.length; i++) {
        const l = header.locators[i]!;
        if (l.platformCode === 0) continue;
        const entryAt = headerAt + HEADER_FIELD.locators + i * LOCATOR_ENTRY_SIZE;
        if (l.dataLength > MAX_LOCATOR_LENGTH || !Number.isFinite(l.dataOffset) || l.dataOffset + l.dataLength > tailAt || l.dataOffset < FOOTER_SIZE) {
          throw new VhdError('locator-out-of-range', `VHD dynamic header at ${hex(headerAt)}: parent locator ${i} (${JSON.stringify(platformName(l.platformCode))}) has ${l.dataLength} bytes at ${Number.isFinite(l.dataOffset) ? hex(l.dataOffset) : 'beyond 2^53'}, outside the file before the footer at ${hex(tailAt)}`, entryAt);
        }
        if (l.dataLength === 0) continue;
        meta.push({ start: l.dataOffset, end: l.dataOffset + l.dataLength, what: `parent locator ${i}` });
        const path = decodeLocatorPath(l.platformCode, await backend.read(l.dataOffset, l.dataLength));
        if (path !== undefined && path !== '') locators.push({ platform: platformName(l.platformCode), path });
      }
      parentReference = {
        uniqueId: formatUniqueId(header.parentUniqueId),
        unicodeName: header.parentUnicodeName,
        locators,
        timeStamp: header.parentTimeStamp,
      };
    }
    checkNoOverlap(meta, 'bad-offset');

    const blockSpan = bitmapSize(blockSize) + blockSize;
    const extents = [...meta];
    for (let i = 0; i < maxTableEntries; i++) {
      const entry = bat[i]!;
      if (entry === UNALLOCATED) continue;
      const start = entry * SECTOR_SIZE;
      const entryAt = tableOffset + i * 4;
      if (start >= tailAt) {
        throw new VhdError('bat-out-of-range', `VHD BAT entry ${i} at ${hex(entryAt)}: block at sector ${hex(entry)} (byte ${hex(start)}) is past the footer at ${hex(tailAt)}`, entryAt);
      }
      if (start + bitmapSize(blockSize) > tailAt) {
        throw new VhdError('bitmap-out-of-range', `VHD BAT entry ${i} at ${hex(entryAt)}: sector bitmap at ${hex(start)} runs past the footer at ${hex(tailAt)}`, entryAt);
      }
      if (start + blockSpan > tailAt) {
        throw new VhdError('truncated', `VHD BAT entry ${i} at ${hex(entryAt)}: block at ${hex(start)} needs ${blockSpan} bytes but the footer is at ${hex(tailAt)}`, entryAt);
      }
      extents.push({ start, end: start + blockSpan, what: `block ${i} (BAT entry at ${hex(entryAt)})` });
    }
    checkNoOverlap(extents, 'bat-overlap');

    let parent: VhdDisk | undefined;
    if (footer.type === 'differencing') {
      parent = await VhdDisk.openParent(backend, footer, headerAt, parentReference!, virtualSize, opts, state);
      if (parent.footer.timeStamp !== header.parentTimeStamp) {
        warnings.push(`VHD dynamic header at ${hex(headerAt)}: parent time stamp is ${header.parentTimeStamp}, but the parent's footer says ${parent.footer.timeStamp} (parent changed since the child was made?)`);
      }
    }
    return new VhdDisk(backend, footer, footerRaw, header, bat, tailAt, parent, parentReference, warnings, damage, opts.readOnly ?? false);
  }

  private static async openParent(
    child: BlockBackend,
    footer: VhdFooter,
    headerAt: number,
    ref: ParentReference,
    virtualSize: number,
    opts: VhdOpenOptions,
    state: OpenState,
  ): Promise<VhdDisk> {
    const self = formatUniqueId(footer.uniqueId);
    const descendants = [...state.descendants, self];
    if (descendants.includes(ref.uniqueId)) {
      throw new VhdError('parent-loop', `VHD dynamic header at ${hex(headerAt)}: parent unique id ${ref.uniqueId} is already in the chain (${descendants.join(' -> ')})`, headerAt + HEADER_FIELD.parentUniqueId);
    }
    if (descendants.length > MAX_CHAIN_DEPTH) {
      throw new VhdError('parent-loop', `VHD chain is deeper than ${MAX_CHAIN_DEPTH} disks at ${self}; treating it as a loop`, headerAt + HEADER_FIELD.parentUniqueId);
    }
    const where = ref.locators.map((l) => `${l.platform} ${JSON.stringify(l.path)}`).join(', ') || 'no locators';
    let parent: VhdDisk;
    if (state.parentDisk) {
      parent = state.parentDisk;
    } else {
      if (!opts.parentResolver) {
        throw new VhdError('parent-missing', `VHD differencing disk ${self} needs parent ${ref.uniqueId} (${JSON.stringify(ref.unicodeName)}; ${where}) but no parent resolver was given`, headerAt + HEADER_FIELD.parentUniqueId);
      }
      const backend = await opts.parentResolver(ref, child);
      if (!backend) {
        throw new VhdError('parent-missing', `VHD differencing disk ${self}: parent ${ref.uniqueId} not found (${JSON.stringify(ref.unicodeName)}; ${where})`, headerAt + HEADER_FIELD.parentUniqueId);
      }
      try {
        parent = await VhdDisk.openWith(backend, { ...opts, readOnly: true }, { descendants });
      } catch (e) {
        await backend.dispose();
        throw e;
      }
    }
    const fail = async (message: string): Promise<never> => {
      if (!state.parentDisk) await parent.dispose();
      throw new VhdError('parent-mismatch', message, headerAt + HEADER_FIELD.parentUniqueId);
    };
    if (parent.uuid !== ref.uniqueId) {
      await fail(`VHD dynamic header at ${hex(headerAt)}: parent unique id is ${ref.uniqueId}, but the parent found (${where}) has ${parent.uuid}`);
    }
    if (parent.virtualSize !== virtualSize) {
      await fail(`VHD differencing disk ${self} is ${virtualSize} bytes, but its parent ${parent.uuid} is ${parent.virtualSize} bytes`);
    }
    return parent;
  }

  // ---------------------------------------------------------------- create

  /** Writes a fixed VHD of `size` bytes (data, then the footer) and opens it. */
  static async createFixed(backend: BlockBackend, size: number, opts: VhdCreateOptions = {}): Promise<VhdDisk> {
    await writeEmptyVhd(backend, { type: 'fixed', size, opts });
    return VhdDisk.open(backend);
  }

  /** Writes an empty dynamic VHD (footer copy, header, BAT of unallocated blocks, footer) and opens it. */
  static async createDynamic(backend: BlockBackend, size: number, opts: VhdCreateOptions = {}): Promise<VhdDisk> {
    await writeEmptyVhd(backend, { type: 'dynamic', size, opts });
    return VhdDisk.open(backend);
  }

  /**
   * Writes an empty differencing VHD over `parent` and opens it with that parent
   * attached. The new disk takes ownership of `parent` (disposing the child disposes it).
   */
  static async createDifferencing(backend: BlockBackend, parent: VhdDisk, opts: VhdDifferencingOptions = {}): Promise<VhdDisk> {
    await writeEmptyVhd(backend, { type: 'differencing', parent, opts });
    return VhdDisk.openWith(backend, {}, { descendants: [], parentDisk: parent });
  }

  // ---------------------------------------------------------------- read

  /** `length` bytes of the virtual disk at `offset`, through the chain. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkRange(offset, length, 'read');
    const out = new Uint8Array(length);
    await this.readInto(out, offset);
    return out;
  }

  private async readInto(out: Uint8Array, offset: number): Promise<void> {
    if (out.length === 0) return;
    if (!this.header) {
      out.set(await this.backend.read(offset, out.length));
      return;
    }
    for (const { block, within, from, to } of blockSpans(offset, out.length, this.header.blockSize)) {
      const chunk = out.subarray(from, to);
      const entry = this.bat[block]!;
      if (entry === UNALLOCATED) {
        if (this.parent) await this.parent.readInto(chunk, offset + from);
      } else {
        await this.readAllocated(chunk, block, entry, within);
      }
    }
  }

  /** Reads from an allocated block, sector run by sector run as its bitmap says. */
  private async readAllocated(out: Uint8Array, block: number, entry: number, within: number): Promise<void> {
    const bitmap = await this.bitmap(block);
    const dataAt = entry * SECTOR_SIZE + this.bitmapBytes;
    const blockBase = block * this.header!.blockSize;
    const end = within + out.length;
    let a = within;
    while (a < end) {
      const present = isSectorPresent(bitmap, Math.floor(a / SECTOR_SIZE));
      let b = (Math.floor(a / SECTOR_SIZE) + 1) * SECTOR_SIZE;
      while (b < end && isSectorPresent(bitmap, b / SECTOR_SIZE) === present) b += SECTOR_SIZE;
      b = Math.min(b, end);
      const dst = out.subarray(a - within, b - within);
      if (present) dst.set(await this.backend.read(dataAt + a, b - a));
      else if (this.parent) await this.parent.readInto(dst, blockBase + a);
      // else: a dynamic disk's unwritten sector reads as zeros, which `out` already is.
      a = b;
    }
  }

  private async bitmap(block: number): Promise<Uint8Array> {
    let bitmap = this.bitmapCache.get(block);
    if (!bitmap) {
      bitmap = await this.backend.read(this.bat[block]! * SECTOR_SIZE, this.bitmapBytes);
      if (this.bitmapCache.size >= BITMAP_CACHE_ENTRIES) {
        this.bitmapCache.delete(this.bitmapCache.keys().next().value!);
      }
      this.bitmapCache.set(block, bitmap);
    }
    return bitmap;
  }

  // ---------------------------------------------------------------- write

  /**
   * Writes `data` at `offset` of the virtual disk. Differencing disks write only into
   * this file; the parent is never touched. Resolves once the write would outlive this
   * process (the backend's `settle`), so a disk that reports it complete to a guest
   * keeps it across a reload or a kill; durable against power loss after `flush`.
   *
   * Writes are laid out one at a time (the queue), but each waits for `settle` outside
   * the queue: requests in flight together share the backend's commit.
   */
  write(offset: number, data: Uint8Array): Promise<void> {
    const run = this.writeQueue.then(() => this.writeNow(offset, data));
    this.writeQueue = run.catch(() => undefined);
    return run.then(() => this.backend.settle());
  }

  private async writeNow(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) {
      throw new VhdError('read-only', `VHD ${this.uuid}: write of ${data.length} bytes at ${hex(offset)} refused, the disk is read-only`, offset);
    }
    this.checkRange(offset, data.length, 'write');
    if (data.length === 0) return;
    if (offset % SECTOR_SIZE !== 0 || data.length % SECTOR_SIZE !== 0) {
      const start = Math.floor(offset / SECTOR_SIZE) * SECTOR_SIZE;
      const end = Math.ceil((offset + data.length) / SECTOR_SIZE) * SECTOR_SIZE;
      const widened = await this.read(start, end - start);
      widened.set(data, offset - start);
      offset = start;
      data = widened;
    }
    if (!this.header) {
      await this.backend.write(offset, data);
      return;
    }
    for (const { block, within, from, to } of blockSpans(offset, data.length, this.header.blockSize)) {
      const chunk = data.subarray(from, to);
      if (this.bat[block] === UNALLOCATED) await this.allocateBlock(block, within, chunk);
      else await this.writeAllocated(block, within, chunk);
    }
  }

  private async writeAllocated(block: number, within: number, chunk: Uint8Array): Promise<void> {
    const bitmapAt = this.bat[block]! * SECTOR_SIZE;
    // Data first, bitmap second: a crash in between leaves the old view (parent or zeros).
    await this.backend.write(bitmapAt + this.bitmapBytes + within, chunk);
    const bitmap = await this.bitmap(block);
    if (setSectors(bitmap, within / SECTOR_SIZE, chunk.length / SECTOR_SIZE)) {
      await this.backend.write(bitmapAt, bitmap);
    }
  }

  /**
   * Gives block `block` space at the end of the file. Order matters for crash safety:
   * (1) the footer is written past the new block, so the file always ends in a valid
   * footer; (2) bitmap and data go where the old footer was; (3) flush; (4) only then
   * the BAT entry points at the block. A crash before (4) leaks space but never leaves
   * a BAT entry pointing at garbage.
   */
  private async allocateBlock(block: number, within: number, chunk: Uint8Array): Promise<void> {
    // A file with stray bytes after its last block has an unaligned tail; blocks are
    // addressed in sectors, so round up.
    const at = Math.ceil(this.footerOffset / SECTOR_SIZE) * SECTOR_SIZE;
    const sector = at / SECTOR_SIZE;
    if (sector >= UNALLOCATED) {
      throw new VhdError('bad-size', `VHD ${this.uuid}: block ${block} would start at ${hex(at)}, beyond what a 32-bit BAT entry can address`, at);
    }
    const buf = new Uint8Array(this.bitmapBytes + this.header!.blockSize);
    const bitmap = buf.subarray(0, this.bitmapBytes);
    setSectors(bitmap, within / SECTOR_SIZE, chunk.length / SECTOR_SIZE);
    buf.set(chunk, this.bitmapBytes + within);
    const newFooterAt = at + buf.length;
    // The footer moves verbatim: re-serialising could change creator fields we do not own.
    await this.backend.write(newFooterAt, this.footerRaw);
    await this.backend.write(at, buf);
    await this.backend.flush();
    const entry = new Uint8Array(4);
    new DataView(entry.buffer).setUint32(0, sector);
    await this.backend.write(this.header!.tableOffset + block * 4, entry);
    this.bat[block] = sector;
    this.footerOffset = newFooterAt;
    this.bitmapCache.set(block, bitmap.slice());
  }

  /** Makes completed writes durable. */
  async flush(): Promise<void> {
    await this.writeQueue;
    if (!this.readOnly) await this.backend.flush();
  }

  // ---------------------------------------------------------------- merge

  /**
   * Takes this disk's parent out of the chain (deleting a snapshot does it to every disk
   * over the snapshot's, as `qemu-img rebase` onto the grandparent would): each sector the
   * parent holds itself and this disk does not is copied here, then the header names the
   * grandparent (its unique id and time stamp, and the name and locators the parent had
   * for it). Sectors the parent does not hold read from the grandparent either way, so
   * what the chain reads never changes: a merge cut short by a crash leaves a sound disk
   * over the old parent, since the header is written last, after the data is flushed.
   * No other write may run meanwhile. This open disk still reads through its old parent
   * (the same bytes); dispose it when done. `relinked` runs once the new header is written
   * and before it is flushed, so the backend's own bookkeeping can land in the same commit.
   */
  async mergeParent(opts: { relinked?: () => void } = {}): Promise<void> {
    const parent = this.parent;
    const grandparent = parent?.parent;
    if (!this.header || !parent?.header || !grandparent) {
      throw new VhdError('unsupported-type', `VHD ${this.uuid}: only a differencing disk whose parent is a differencing disk too can take in its parent`);
    }
    if (this.readOnly) throw new VhdError('read-only', `VHD ${this.uuid}: cannot merge its parent into it, the disk is read-only`);
    if (parent.header.blockSize !== this.header.blockSize) {
      throw new VhdError('bad-block-size', `VHD ${this.uuid}: its blocks are ${this.header.blockSize} bytes, its parent's ${parent.header.blockSize}`);
    }
    const blockSize = this.header.blockSize;
    const perBlock = blockSize / SECTOR_SIZE;
    for (let block = 0; block < this.blockCount; block++) {
      if (parent.bat[block] === UNALLOCATED) continue;
      const theirs = await parent.bitmap(block);
      // A copy: the writes below set bits in the cached bitmap as they go.
      const ours = this.bat[block] === UNALLOCATED ? undefined : (await this.bitmap(block)).slice();
      const sectors = Math.min(perBlock, (this.virtualSize - block * blockSize) / SECTOR_SIZE);
      // A sector this disk holds is newer than the parent's: never overwritten.
      const wanted = (s: number) => isSectorPresent(theirs, s) && !(ours && isSectorPresent(ours, s));
      for (let s = 0; s < sectors; ) {
        if (!wanted(s)) {
          s++;
          continue;
        }
        let e = s + 1;
        while (e < sectors && wanted(e)) e++;
        const data = new Uint8Array((e - s) * SECTOR_SIZE);
        await parent.readAllocated(data, block, parent.bat[block]!, s * SECTOR_SIZE);
        await this.writeNow(block * blockSize + s * SECTOR_SIZE, data);
        s = e;
      }
    }
    await this.flush();
    await this.writeParentFields(parent.header, parent.backend, grandparent);
    opts.relinked?.();
    await this.flush();
  }

  /**
   * Points the header at a new parent: unique id and time stamp from its footer, the name
   * and locators copied from `from` (the header that named it before, read out of
   * `fromBackend`). Locator data goes at the end of the file, the footer moving past it
   * as for a new block (footer first, then the data, then the header).
   */
  private async writeParentFields(from: VhdDynamicHeader, fromBackend: BlockBackend, newParent: VhdDisk): Promise<void> {
    const header = this.header!;
    const locators: ParentLocatorEntry[] = [];
    const blobs: { at: number; data: Uint8Array }[] = [];
    let at = Math.ceil(this.footerOffset / SECTOR_SIZE) * SECTOR_SIZE;
    for (const l of from.locators) {
      if (l.platformCode === 0 || l.dataLength === 0) continue;
      const data = await fromBackend.read(l.dataOffset, l.dataLength);
      const space = Math.ceil(data.length / SECTOR_SIZE) * SECTOR_SIZE;
      const padded = new Uint8Array(space);
      padded.set(data);
      locators.push({ platformCode: l.platformCode, dataSpace: space / SECTOR_SIZE, dataLength: data.length, dataOffset: at });
      blobs.push({ at, data: padded });
      at += space;
    }
    if (blobs.length) {
      await this.backend.write(at, this.footerRaw);
      for (const b of blobs) await this.backend.write(b.at, b.data);
      this.footerOffset = at;
      await this.backend.flush();
    }
    const fresh = serializeDynamicHeader({
      tableOffset: header.tableOffset,
      maxTableEntries: header.maxTableEntries,
      blockSize: header.blockSize,
      parentUniqueId: newParent.footer.uniqueId,
      parentTimeStamp: newParent.footer.timeStamp,
      parentUnicodeName: from.parentUnicodeName,
      locators,
    });
    await this.backend.write(this.footer.dataOffset!, fresh);
  }

  // ---------------------------------------------------------------- export

  /**
   * Writes the whole chain as one standalone VHD into an empty `target`. A dynamic
   * export leaves all-zero blocks unallocated, so a sparse chain stays sparse.
   */
  exportTo(target: BlockBackend, type: 'dynamic' | 'fixed', opts: VhdCreateOptions = {}): Promise<void> {
    return writeVhdImage(this, target, type, opts);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Disposes this disk's backend and, for a differencing disk, the parent chain. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.writeQueue;
    await this.backend.dispose();
    await this.parent?.dispose();
  }

  private checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || length > MAX_IO_BYTES || offset + length > this.virtualSize) {
      throw new VhdError('out-of-range', `VHD ${this.uuid}: ${what} of ${length} bytes at ${Number.isFinite(offset) ? hex(offset) : offset} is outside the ${this.virtualSize}-byte disk (or over ${MAX_IO_BYTES} bytes at once)`, offset);
    }
  }
}

function checkNoOverlap(extents: Extent[], code: 'bad-offset' | 'bat-overlap'): void {
  const sorted = [...extents].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end) {
      throw new VhdError(code, `VHD ${cur.what} at ${hex(cur.start)} overlaps ${prev.what} at ${hex(prev.start)}..${hex(prev.end)}`, cur.start);
    }
  }
}
