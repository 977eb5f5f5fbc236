import { Ext2Error } from './Ext2Error.ts';

/*
 * The fields of the ext2/3/4 superblock (1024 bytes at byte 1024, little-endian) that a
 * reader needs. Offsets: 0 inodes_count, 4 blocks_count_lo, 20 first_data_block,
 * 24 log_block_size, 32 blocks_per_group, 40 inodes_per_group, 56 magic (u16),
 * 76 rev_level, 88 inode_size (u16), 92/96/100 feature compat/incompat/ro_compat,
 * 104 uuid (16), 120 volume_name (16), 254 desc_size (u16), 0x150 blocks_count_hi.
 */
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
const MAGIC = 0xef53;

export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_64BIT = 0x80;
/**
 * Incompat features a read-only reader can ignore or handles: filetype, recover (journal
 * not replayed: we warn), extents, 64bit, mmp, flex_bg, ea_inode, csum_seed, largedir,
 * inline_data (small inline files only), casefold (names are stored as given).
 * Not handled: compression 0x1, journal_dev 0x8, meta_bg 0x10, dirdata 0x1000,
 * encrypt 0x10000.
 */
const INCOMPAT_SUPPORTED = 0x2 | 0x4 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x4000 | 0x8000 | 0x20000;

export interface Ext2Superblock {
  inodesCount: number;
  blocksCount: number;
  firstDataBlock: number;
  blockSize: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  revLevel: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: Uint8Array;
  volumeName: string;
  descSize: number;
  groupCount: number;
}

/** Parses and validates a superblock against the size of the source it came from. */
export function parseSuperblock(bytes: Uint8Array, sourceSize: number): Ext2Superblock {
  const v = new DataView(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE);
  const at = (field: number): number => SUPERBLOCK_OFFSET + field;
  const magic = v.getUint16(56, true);
  if (magic !== MAGIC) {
    throw new Ext2Error('bad-magic', `ext2 superblock at 0x400: magic is 0x${magic.toString(16)}, expected 0xef53`, at(56));
  }
  const logBlockSize = v.getUint32(24, true);
  if (logBlockSize > 6) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: log block size is ${logBlockSize}, expected 0..6 (1 KiB..64 KiB blocks)`, at(24));
  }
  const blockSize = 1024 << logBlockSize;
  const revLevel = v.getUint32(76, true);
  const inodeSize = revLevel === 0 ? 128 : v.getUint16(88, true);
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: inode size is ${inodeSize}, expected a power of two from 128 to the block size ${blockSize}`, at(88));
  }
  const featureIncompat = v.getUint32(96, true);
  const unsupported = featureIncompat & ~INCOMPAT_SUPPORTED;
  if (unsupported) {
    throw new Ext2Error('unsupported-feature', `ext2 superblock at 0x400: incompatible features 0x${unsupported.toString(16)} are not supported by this reader`, at(96));
  }
  const is64 = (featureIncompat & INCOMPAT_64BIT) !== 0;
  const blocksCount = v.getUint32(4, true) + (is64 ? v.getUint32(0x150, true) * 0x100000000 : 0);
  const firstDataBlock = v.getUint32(20, true);
  if (firstDataBlock > 1 || blocksCount <= firstDataBlock + 1) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: first data block ${firstDataBlock} with ${blocksCount} blocks is not a usable layout`, at(20));
  }
  if (blocksCount * blockSize > sourceSize) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: ${blocksCount} blocks of ${blockSize} bytes do not fit in the ${sourceSize}-byte partition`, at(4));
  }
  const blocksPerGroup = v.getUint32(32, true);
  if (blocksPerGroup < 8 || blocksPerGroup > blockSize * 8) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: blocks per group is ${blocksPerGroup}, expected 8..${blockSize * 8}`, at(32));
  }
  const inodesPerGroup = v.getUint32(40, true);
  if (inodesPerGroup < 1 || inodesPerGroup > blockSize * 8) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: inodes per group is ${inodesPerGroup}, expected 1..${blockSize * 8}`, at(40));
  }
  let descSize = 32;
  if (is64) {
    descSize = v.getUint16(254, true);
    if (descSize < 64 || descSize > 1024 || (descSize & (descSize - 1)) !== 0) {
      throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: group descriptor size is ${descSize}, expected a power of two from 64 to 1024 with the 64bit feature`, at(254));
    }
  }
  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const inodesCount = v.getUint32(0, true);
  if (inodesCount === 0 || inodesCount > groupCount * inodesPerGroup) {
    throw new Ext2Error('bad-superblock', `ext2 superblock at 0x400: inodes count is ${inodesCount}, expected 1..${groupCount * inodesPerGroup} for ${groupCount} groups`, at(0));
  }
  let volumeName = '';
  for (let i = 120; i < 136 && bytes[i] !== 0; i++) volumeName += String.fromCharCode(bytes[i]!);
  return {
    inodesCount,
    blocksCount,
    firstDataBlock,
    blockSize,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    revLevel,
    featureCompat: v.getUint32(92, true),
    featureIncompat,
    featureRoCompat: v.getUint32(100, true),
    uuid: bytes.slice(104, 120),
    volumeName,
    descSize,
    groupCount,
  };
}
