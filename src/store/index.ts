// The image store's public API: IndexedDB images, VM records, the appliance catalog.
export { ImageStore, sameDisk, sameDisks, ownedByVm, type Disks, type ImportProgress, type StorageUse, type DiskState, type SnapshotNode, type SnapshotTree, type RevertOutcome, type RestoredRecord, recordsOwnedBy, stringsIn } from './ImageStore.ts';
export { IdbChunkBackend, DEFAULT_CHUNK_SIZE } from './IdbChunkBackend.ts';
export { BlobBackend } from './BlobBackend.ts';
export { StoreError, type StoreErrorCode } from './StoreError.ts';
export { openImageDb, snapshotParts, type ImageRecord, type VmRecord, type DiskIdentity, type SuspendedRecord, type SnapshotRecord, type SnapshotStateRecord, type ImageKind, type ImageOrigin } from './imageDb.ts';
export { loadBuiltinCatalog, buildCatalog, parseCatalogManifest, RAM_APPLIANCE_ID, type Appliance, type ApplianceBootKind, type BootManifest, type CatalogSource } from './Catalog.ts';
export { ShareStore } from './ShareStore.ts';
