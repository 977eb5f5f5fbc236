import { CodedError } from '../errors/CodedError.ts';

/**
 * Why a backup archive was refused, or could not be written or restored:
 * - backup-truncated: the file ends before its header, manifest or an entry ends;
 * - backup-bad-magic: not a romvisor backup archive at all;
 * - backup-newer-version: written by a newer romvisor (the version is named);
 * - backup-altered: the manifest's or an entry's sha256 does not match its bytes, or bytes
 *   were appended;
 * - backup-malformed: a header or manifest field is impossible (named, with its value);
 * - backup-inconsistent: the parts do not fit together (a VM's disk that is not in the
 *   archive, a differencing disk whose parent is missing, an entry nothing names);
 * - backup-unavailable: a base the archive names by sha256 is not to be had here (another
 *   version of a built-in appliance, a repository that cannot be reached);
 * - backup-changed: a disk changed while it was being backed up (a VM was running);
 * - backup-unsupported: something in the server this version cannot put in an archive.
 */
export type BackupErrorCode =
  | 'backup-truncated'
  | 'backup-bad-magic'
  | 'backup-newer-version'
  | 'backup-altered'
  | 'backup-malformed'
  | 'backup-inconsistent'
  | 'backup-unavailable'
  | 'backup-changed'
  | 'backup-unsupported';

export class BackupError extends CodedError<BackupErrorCode> {
  override readonly name = 'BackupError';
  constructor(code: BackupErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
