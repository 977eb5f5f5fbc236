// The whole-server backup archive: its format (BackupArchive.ts), its content, the JSON form of store records.
export { BackupArchive, writeBackupArchive, bytesSource, rangeSource, BACKUP_MAGIC, BACKUP_FORMAT_VERSION, BACKUP_HEADER_BYTES, BACKUP_IO_BYTES, type ArchiveProgress, type BackupManifest, type EntrySource, type LocatedEntry } from './BackupArchive.ts';
export { BackupError, type BackupErrorCode } from './BackupError.ts';
export { readBackupServer, IMAGE_STORES, type BackupEntry, type BackupImage, type BackupRecord, type BackupServer, type BackupShare, type BaseReference } from './BackupServer.ts';
export { toArchiveJson, fromArchiveJson, entryRefs, type EntryKind, type EntrySink } from './archiveJson.ts';
export { collectStoreServer, baseReference } from './collectStoreServer.ts';
export { StoreRestore, type RestoreVm, type RestoreChoice, type RestoreResult } from './StoreRestore.ts';
