// Node-only entry of the repository layer: building appliances and repositories on the
// host's file system, and verifying a repository. Node code imports both this and index.ts.
export { createAppliance, type ApplianceSpec, type CreatedAppliance } from './createAppliance.node.ts';
export { buildRepository, type BuildRepositoryOptions } from './buildRepository.node.ts';
export { loadRepositoryIndex, locateRepository, verifyRepository, type VerifyReport } from './verifyRepository.node.ts';
export { FileChunkStore } from './FileChunkStore.node.ts';
export { fetchRemoteAppliance, openRemoteAppliance, parseApplianceSpec, type RemoteAppliance, type RemoteApplianceOptions } from './openRemoteAppliance.node.ts';
export { diffAppliance, PATCH_BLOCK_SIZE, type DiffResult } from './diffAppliance.node.ts';
