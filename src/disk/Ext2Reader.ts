import type { ByteSource } from './ByteSource.ts';
import { Ext2Error } from './Ext2Error.ts';
import {
  INCOMPAT_FILETYPE,
  INCOMPAT_RECOVER,
  parseSuperblock,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  type Ext2Superblock,
} from './Ext2Superblock.ts';

/*
 * Inode fields used (little-endian): 0 mode (u16), 4 size_lo, 26 links (u16),
 * 32 flags, 40 i_block (60 bytes: 15 block pointers, an extent tree root, or inline
 * data / a fast symlink target), 108 size_high.
 * Group descriptor: 8 inode_table_lo, 0x28 inode_table_hi (64-byte descriptors only).
 */
const ROOT_INODE = 2;
const I_BLOCK = 40;
const I_BLOCK_SIZE = 60;
const FLAG_EXTENTS = 0x80000;
const FLAG_INLINE_DATA = 0x10000000;
const S_IFMT = 0xf000;
const S_IFREG = 0x8000;
const S_IFDIR = 0x4000;
const S_IFLNK = 0xa000;
const EXTENT_MAGIC = 0xf30a;
/** The kernel caps extent trees at depth 5; deeper is corruption. */
const MAX_EXTENT_DEPTH = 5;
/** Extent leaves longer than this mark uninitialized (preallocated, reads-as-zero) extents. */
const EXTENT_INIT_MAX_LEN = 32768;
const MAX_SYMLINK_HOPS = 8;
/** Default `readFile` ceiling; the boot files (kernel, initrd) are far below it. */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Directories larger than this are corrupt for our purposes (and would be slow). */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
/** One backend read moves at most this much when gathering a file's contiguous blocks. */
const MAX_RUN_BYTES = 16 * 1024 * 1024;

export type Ext2FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface Ext2Stat {
  inode: number;
  mode: number;
  type: Ext2FileType;
  size: number;
  links: number;
}

export interface Ext2DirEntry {
  name: string;
  inode: number;
}

interface Inode extends Ext2Stat {
  flags: number;
  block: Uint8Array;
  /** Byte offset of the inode in the file system, for messages. */
  at: number;
}

/** A run of contiguous blocks: file blocks [logical, logical+count) live at [physical, ...). */
interface Run {
  logical: number;
  physical: number;
  count: number;
}

/**
 * Read-only ext2/ext3/ext4 over a `ByteSource` (typically partition 1 of a VhdDisk):
 * path lookup, directories (read linearly, which also works for htree directories),
 * and regular files through block pointers or extent trees. Every block number is
 * checked against the file system before it is read.
 */
export class Ext2Reader {
  /** Non-fatal findings, e.g. a journal that needs recovery (we do not replay it). */
  readonly warnings: string[] = [];
  private readonly descriptors: Uint8Array;

  private constructor(
    private readonly source: ByteSource,
    readonly superblock: Ext2Superblock,
    descriptors: Uint8Array,
  ) {
    this.descriptors = descriptors;
    if (superblock.featureIncompat & INCOMPAT_RECOVER) {
      this.warnings.push('ext2: the journal needs recovery; reading without replaying it may show stale data');
    }
  }

  static async open(source: ByteSource): Promise<Ext2Reader> {
    if (source.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
      throw new Ext2Error('bad-superblock', `ext2: source is ${source.size} bytes, too small to hold a superblock at 0x400`, 0);
    }
    const sb = parseSuperblock(await source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE), source.size);
    const gdtBlock = sb.firstDataBlock + 1;
    const gdtBytes = sb.groupCount * sb.descSize;
    if ((gdtBlock * sb.blockSize + gdtBytes) > sb.blocksCount * sb.blockSize) {
      throw new Ext2Error('bad-superblock', `ext2: ${sb.groupCount} group descriptors at block ${gdtBlock} run past the file system`, gdtBlock * sb.blockSize);
    }
    return new Ext2Reader(source, sb, await source.read(gdtBlock * sb.blockSize, gdtBytes));
  }

  get blockSize(): number {
    return this.superblock.blockSize;
  }

  async stat(path: string): Promise<Ext2Stat> {
    const { inode, mode, type, size, links } = await this.resolve(path, true);
    return { inode, mode, type, size, links };
  }

  async readDir(path: string): Promise<Ext2DirEntry[]> {
    const dir = await this.resolve(path, true);
    return this.directoryEntries(dir);
  }

  /** The contents of the regular file at `path` (symlinks followed). */
  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
    const inode = await this.resolve(path, true);
    if (inode.type !== 'file') {
      throw new Ext2Error('not-a-file', `ext2: ${JSON.stringify(path)} is a ${inode.type}, not a regular file`, inode.at);
    }
    return this.inodeData(inode, opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES, path);
  }

  async readLink(path: string): Promise<string> {
    const inode = await this.resolve(path, false);
    if (inode.type !== 'symlink') {
      throw new Ext2Error('not-a-file', `ext2: ${JSON.stringify(path)} is a ${inode.type}, not a symlink`, inode.at);
    }
    return this.symlinkTarget(inode);
  }

  // ---------------------------------------------------------------- paths

  private async resolve(path: string, followLast: boolean): Promise<Inode> {
    let hops = 0;
    let pending = path.split('/').filter((c) => c !== '' && c !== '.');
    let current = await this.inode(ROOT_INODE);
    const stack: Inode[] = [];
    let walked = '';
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (current.type !== 'directory') {
        throw new Ext2Error('not-a-directory', `ext2: ${JSON.stringify(walked || '/')} is a ${current.type}, not a directory (resolving ${JSON.stringify(path)})`, current.at);
      }
      if (name === '..') {
        current = stack.pop() ?? current;
        walked = walked.slice(0, walked.lastIndexOf('/'));
        continue;
      }
      const entry = (await this.directoryEntries(current)).find((e) => e.name === name);
      if (!entry) throw new Ext2Error('not-found', `ext2: ${JSON.stringify(`${walked}/${name}`)} not found (resolving ${JSON.stringify(path)})`);
      const next = await this.inode(entry.inode);
      if (next.type === 'symlink' && (pending.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new Ext2Error('symlink-loop', `ext2: more than ${MAX_SYMLINK_HOPS} symlinks while resolving ${JSON.stringify(path)}`, next.at);
        }
        const target = await this.symlinkTarget(next);
        const parts = target.split('/').filter((c) => c !== '' && c !== '.');
        if (target.startsWith('/')) {
          current = await this.inode(ROOT_INODE);
          stack.length = 0;
          walked = '';
        }
        pending = [...parts, ...pending];
        continue;
      }
      stack.push(current);
      current = next;
      walked += `/${name}`;
    }
    return current;
  }

  // ---------------------------------------------------------------- inodes

  private async inode(ino: number): Promise<Inode> {
    const sb = this.superblock;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.inodesCount) {
      throw new Ext2Error('bad-inode', `ext2: inode number ${ino} is outside 1..${sb.inodesCount}`);
    }
    const group = Math.floor((ino - 1) / sb.inodesPerGroup);
    const index = (ino - 1) % sb.inodesPerGroup;
    const d = new DataView(this.descriptors.buffer, this.descriptors.byteOffset + group * sb.descSize, sb.descSize);
    const table = d.getUint32(8, true) + (sb.descSize >= 64 ? d.getUint32(0x28, true) * 0x100000000 : 0);
    const at = table * sb.blockSize + index * sb.inodeSize;
    const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
    if (table < 1 || table + tableBlocks > sb.blocksCount) {
      throw new Ext2Error('block-out-of-range', `ext2: group ${group} descriptor says its inode table is at block ${table}, outside the ${sb.blocksCount}-block file system`, (sb.firstDataBlock + 1) * sb.blockSize + group * sb.descSize + 8);
    }
    const raw = await this.source.read(at, 128);
    const v = new DataView(raw.buffer, raw.byteOffset, 128);
    const mode = v.getUint16(0, true);
    const fmt = mode & S_IFMT;
    const type: Ext2FileType = fmt === S_IFREG ? 'file' : fmt === S_IFDIR ? 'directory' : fmt === S_IFLNK ? 'symlink' : 'other';
    return {
      inode: ino,
      mode,
      type,
      size: v.getUint32(4, true) + v.getUint32(108, true) * 0x100000000,
      links: v.getUint16(26, true),
      flags: v.getUint32(32, true),
      block: raw.slice(I_BLOCK, I_BLOCK + I_BLOCK_SIZE),
      at,
    };
  }

  private async symlinkTarget(inode: Inode): Promise<string> {
    // Fast symlinks keep a target shorter than i_block inside it and have no extent tree.
    const fast = inode.size < I_BLOCK_SIZE && !(inode.flags & FLAG_EXTENTS);
    const bytes = fast ? inode.block.subarray(0, inode.size) : await this.inodeData(inode, 4096, `inode ${inode.inode}`);
    return new TextDecoder().decode(bytes);
  }

  private async directoryEntries(dir: Inode): Promise<Ext2DirEntry[]> {
    if (dir.type !== 'directory') {
      throw new Ext2Error('not-a-directory', `ext2: inode ${dir.inode} is a ${dir.type}, not a directory`, dir.at);
    }
    const data = await this.inodeData(dir, MAX_DIRECTORY_BYTES, `directory inode ${dir.inode}`);
    const bs = (dir.flags & FLAG_INLINE_DATA) ? data.length : this.blockSize;
    const hasFileType = (this.superblock.featureIncompat & INCOMPAT_FILETYPE) !== 0;
    const decoder = new TextDecoder();
    const out: Ext2DirEntry[] = [];
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    // Inline directories start with the parent's inode number (4 bytes), then entries.
    let pos = dir.flags & FLAG_INLINE_DATA ? 4 : 0;
    if (dir.flags & FLAG_INLINE_DATA && data.length >= 4) out.push({ name: '..', inode: v.getUint32(0, true) });
    while (pos + 8 <= data.length) {
      const blockEnd = Math.min(data.length, (Math.floor(pos / bs) + 1) * bs);
      const ino = v.getUint32(pos, true);
      let recLen = v.getUint16(pos + 4, true);
      if (bs === 65536 && (recLen === 0 || recLen === 65535)) recLen = 65536;
      const nameLen = hasFileType ? data[pos + 6]! : v.getUint16(pos + 6, true);
      if (recLen < 8 || recLen % 4 !== 0 || pos + recLen > blockEnd || nameLen > recLen - 8) {
        throw new Ext2Error('bad-directory', `ext2: directory inode ${dir.inode} entry at byte ${pos}: record length ${recLen} with name length ${nameLen} does not fit its block`, dir.at);
      }
      if (ino !== 0 && nameLen > 0) out.push({ name: decoder.decode(data.subarray(pos + 8, pos + 8 + nameLen)), inode: ino });
      pos += recLen;
    }
    return out;
  }

  // ---------------------------------------------------------------- data

  /** The first `size` bytes of an inode's data; holes and unwritten extents read as zeros. */
  private async inodeData(inode: Inode, maxBytes: number, what: string): Promise<Uint8Array> {
    if (inode.size > maxBytes) {
      throw new Ext2Error('too-large', `ext2: ${what} is ${inode.size} bytes, over the ${maxBytes}-byte limit`, inode.at + 4);
    }
    if (inode.flags & FLAG_INLINE_DATA) {
      if (inode.size > I_BLOCK_SIZE) {
        throw new Ext2Error('unsupported-feature', `ext2: ${what} keeps ${inode.size} bytes inline; only inline data up to ${I_BLOCK_SIZE} bytes (no xattr part) is supported`, inode.at);
      }
      return inode.block.slice(0, inode.size);
    }
    const out = new Uint8Array(inode.size);
    const bs = this.blockSize;
    const blocks = Math.ceil(inode.size / bs);
    const runs = inode.flags & FLAG_EXTENTS ? await this.extentRuns(inode, blocks) : await this.indirectRuns(inode, blocks);
    for (const run of runs) {
      // Read a long run in slices so one corrupt extent cannot force a giant buffer.
      for (let k = 0; k < run.count; ) {
        const n = Math.min(run.count - k, Math.max(1, Math.floor(MAX_RUN_BYTES / bs)));
        const dst = (run.logical + k) * bs;
        const len = Math.min(n * bs, inode.size - dst);
        if (len <= 0) break;
        out.set(await this.source.read((run.physical + k) * bs, len), dst);
        k += n;
      }
    }
    return out;
  }

  private checkBlocks(physical: number, count: number, inode: Inode, what: string): void {
    if (!Number.isSafeInteger(physical) || physical < 1 || physical + count > this.superblock.blocksCount) {
      throw new Ext2Error('block-out-of-range', `ext2: inode ${inode.inode} ${what}: blocks ${physical}..${physical + count - 1} are outside the ${this.superblock.blocksCount}-block file system`, inode.at);
    }
  }

  /** Walks an extent tree (root in i_block) into runs covering logical blocks below `limit`. */
  private async extentRuns(inode: Inode, limit: number): Promise<Run[]> {
    const runs: Run[] = [];
    // Bounded work: a tree whose index entries all point at the same node could
    // otherwise fan out exponentially.
    let budget = 4096 + limit;
    const walk = async (node: Uint8Array, expectDepth: number | undefined, where: string): Promise<void> => {
      if (--budget < 0) throw new Ext2Error('bad-extent', `ext2: inode ${inode.inode}: extent tree visits more nodes than the file has blocks`, inode.at);
      const v = new DataView(node.buffer, node.byteOffset, node.byteLength);
      const magic = v.getUint16(0, true);
      const entries = v.getUint16(2, true);
      const depth = v.getUint16(6, true);
      if (magic !== EXTENT_MAGIC) {
        throw new Ext2Error('bad-extent', `ext2: inode ${inode.inode} extent node ${where}: magic is 0x${magic.toString(16)}, expected 0xf30a`, inode.at);
      }
      if (12 + entries * 12 > node.length || depth > MAX_EXTENT_DEPTH || (expectDepth !== undefined && depth !== expectDepth)) {
        throw new Ext2Error('bad-extent', `ext2: inode ${inode.inode} extent node ${where}: ${entries} entries at depth ${depth} do not fit (node of ${node.length} bytes${expectDepth === undefined ? '' : `, expected depth ${expectDepth}`})`, inode.at);
      }
      for (let i = 0; i < entries; i++) {
        const e = 12 + i * 12;
        const first = v.getUint32(e, true);
        if (first >= limit) continue;
        if (depth > 0) {
          const child = v.getUint32(e + 4, true) + v.getUint16(e + 8, true) * 0x100000000;
          this.checkBlocks(child, 1, inode, `extent index ${where}.${i}`);
          await walk(await this.source.read(child * this.blockSize, this.blockSize), depth - 1, `${where}.${i}`);
        } else {
          let len = v.getUint16(e + 4, true);
          if (len > EXTENT_INIT_MAX_LEN) continue; // preallocated, reads as zeros
          const start = v.getUint16(e + 6, true) * 0x100000000 + v.getUint32(e + 8, true);
          len = Math.min(len, limit - first);
          if (len === 0) continue;
          this.checkBlocks(start, len, inode, `extent ${where}.${i}`);
          runs.push({ logical: first, physical: start, count: len });
        }
      }
    };
    await walk(inode.block, undefined, 'root');
    return runs;
  }

  /** Maps logical blocks below `limit` through 12 direct and single/double/triple indirect pointers. */
  private async indirectRuns(inode: Inode, limit: number): Promise<Run[]> {
    const runs: Run[] = [];
    const perBlock = this.blockSize / 4;
    const add = (logical: number, physical: number): void => {
      const last = runs[runs.length - 1];
      if (last && last.logical + last.count === logical && last.physical + last.count === physical) last.count++;
      else runs.push({ logical, physical, count: 1 });
    };
    const iv = new DataView(inode.block.buffer, inode.block.byteOffset, I_BLOCK_SIZE);
    const map = async (ptr: number, level: number, logical: number): Promise<void> => {
      if (ptr === 0 || logical >= limit) return; // a hole
      this.checkBlocks(ptr, 1, inode, level === 0 ? `block ${logical}` : `level-${level} indirect block for ${logical}`);
      if (level === 0) {
        add(logical, ptr);
        return;
      }
      const raw = await this.source.read(ptr * this.blockSize, this.blockSize);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const span = perBlock ** (level - 1);
      for (let i = 0; i < perBlock && logical + i * span < limit; i++) {
        await map(v.getUint32(i * 4, true), level - 1, logical + i * span);
      }
    };
    for (let i = 0; i < 12; i++) await map(iv.getUint32(i * 4, true), 0, i);
    let base = 12;
    for (let level = 1; level <= 3; level++) {
      await map(iv.getUint32((11 + level) * 4, true), level, base);
      base += perBlock ** level;
    }
    return runs;
  }
}
