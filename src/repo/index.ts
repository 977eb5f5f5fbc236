// Appliance repositories: the public API the page and the CLI share (the index's schema
// and parser, where an index is, fetching it). Node-only pieces (the appliance builder,
// `repo build`, `repo verify`) are in ./node.ts, so the browser bundle never imports `fs`.
export { RepoError, type RepoErrorCode } from './RepoError.ts';
export {
  CHUNK_SIZE,
  INDEX_FILE,
  INDEX_LIMITS,
  REPOSITORY_SCHEMA,
  chunkName,
  chunkRange,
  findVersion,
  parseRepositoryIndex,
  versionChain,
  type RepositoryAppliance,
  type RepositoryIndex,
  type RepositoryVersion,
} from './RepositoryIndex.ts';
export { fileUrl, indexUrl } from './repositoryLocation.ts';
export { fetchFailure, fetchRepositoryIndex, type FetchLike } from './fetchRepositoryIndex.ts';
export { RemoteChunkBackend, addRemoteDiskStats, noRemoteDiskStats, type ChunkStore, type RemoteChunkOptions, type RemoteDiskStats } from './RemoteChunkBackend.ts';
export { RemoteDiskMeter, describeRemoteDisk, type RemoteDiskReadout } from './RemoteDiskMeter.ts';
