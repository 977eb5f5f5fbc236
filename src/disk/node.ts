// Node-only entry of the disk layer: file access. Kept apart from index.ts so the browser
// bundle never imports `fs`. Node code (CLI, tests, benchmarks) imports both.
export { FileBackend } from './FileBackend.ts';
export { fileParentResolver, parentCandidates } from './fileParentResolver.ts';
export { DiskLock, DiskLockError, DiskLockSet, type DiskLockErrorCode, type DiskLockMode } from './DiskLock.ts';
export { chainFiles, fileIdentity, findSameFile, resolveLinks } from './sameFile.ts';
