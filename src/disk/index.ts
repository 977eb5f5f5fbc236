// The disk layer's public API. Node-only pieces (FileBackend) are in ./node.ts.
export type { BlockBackend } from './BlockBackend.ts';
export { BackendError, type BackendErrorCode } from './BackendError.ts';
export type { ByteSource } from './ByteSource.ts';
export { ByteSlice, SliceError } from './ByteSlice.ts';
export { MemoryBackend } from './MemoryBackend.ts';
export { VhdError, type VhdErrorCode } from './VhdError.ts';
export { chsGeometry, type ChsGeometry } from './chsGeometry.ts';
export { formatUniqueId, MAX_VIRTUAL_SIZE, CREATOR_APPLICATION, vhdTimeToDate, type VhdFooter, type VhdType } from './VhdFooter.ts';
export { DEFAULT_BLOCK_SIZE, type VhdDynamicHeader } from './VhdDynamicHeader.ts';
export {
  VhdDisk,
  MAX_CHAIN_DEPTH,
  type ParentReference,
  type ParentResolver,
  type VhdOpenOptions,
  type VhdCreateOptions,
  type VhdDifferencingOptions,
} from './VhdDisk.ts';
