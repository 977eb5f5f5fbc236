import { CodedError } from '../errors/CodedError.ts';

/**
 * Why a machine state was refused, or could not be taken:
 * - state-truncated: the file ends before a field or section it declares;
 * - state-bad-magic: not a romvisor machine state at all;
 * - state-newer-version: written by a newer romvisor (the version is named);
 * - state-altered: a section's sha256 (or the section table's) does not match its bytes;
 * - state-malformed: a field's value is impossible (named, with its offset or path);
 * - state-other-machine: the state is for another machine shape (core build, RAM size,
 *   harts, devices) than the one it is being restored into;
 * - state-disk-mismatch: the disk chain is not the one the state was taken with;
 * - state-unsupported: this machine has a part whose state cannot be saved yet.
 */
export type StateErrorCode =
  | 'state-truncated'
  | 'state-bad-magic'
  | 'state-newer-version'
  | 'state-altered'
  | 'state-malformed'
  | 'state-other-machine'
  | 'state-disk-mismatch'
  | 'state-unsupported';

export class StateError extends CodedError<StateErrorCode> {
  constructor(code: StateErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'StateError';
  }
}
