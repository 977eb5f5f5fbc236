// The disk layer's public API. Node-only pieces (FileBackend) are in ./node.ts.
export type { BlockBackend } from './BlockBackend.ts';
export { BackendError, type BackendErrorCode } from './BackendError.ts';
export type { ByteSource } from './ByteSource.ts';
export { ByteSlice, SliceError } from './ByteSlice.ts';
export { MemoryBackend } from './MemoryBackend.ts';
export { CopyOnWriteDisk, type ReadableDisk } from './CopyOnWriteDisk.ts';
export { VhdError, type VhdErrorCode } from './VhdError.ts';
export { chsGeometry, type ChsGeometry } from './chsGeometry.ts';
export { formatUniqueId, hasFooterCookie, MAX_VIRTUAL_SIZE, CREATOR_APPLICATION, vhdTimeToDate, quoteField, type VhdFooter, type VhdType } from './VhdFooter.ts';
export { DEFAULT_BLOCK_SIZE, type VhdDynamicHeader } from './VhdDynamicHeader.ts';
export {
  VhdDisk,
  MAX_CHAIN_DEPTH,
  type ParentReference,
  type ParentResolver,
  type VhdOpenOptions,
} from './VhdDisk.ts';
export { writeEmptyVhd, type EmptyVhdSpec, type VhdCreateOptions, type VhdDifferencingOptions, type VhdParentIdentity } from './writeEmptyVhd.ts';
export { checkVhd, type VhdCheckReport } from './checkVhd.ts';
export { vhdChecksum } from './vhdChecksum.ts';
export { PartitionError, type PartitionErrorCode } from './PartitionError.ts';
export { MbrPartitionTable, MBR_TYPE_LINUX, MBR_TYPE_FAT32_LBA, type MbrPartition, type NewMbrPartition } from './MbrPartitionTable.ts';
export { Ext2Error, type Ext2ErrorCode } from './Ext2Error.ts';
export type { Ext2Superblock } from './Ext2Superblock.ts';
export { Ext2Reader, DEFAULT_MAX_FILE_BYTES, type Ext2Stat, type Ext2DirEntry, type Ext2FileType } from './Ext2Reader.ts';
export { readPartitionFile, openPartitionFileSystem } from './readPartitionFile.ts';
export { writeVhdImage, type WriteVhdOptions } from './writeVhdImage.ts';
