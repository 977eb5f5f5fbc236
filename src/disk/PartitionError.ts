import { CodedError } from '../errors/CodedError.ts';

export type PartitionErrorCode = 'no-signature' | 'bad-status' | 'out-of-range' | 'overlap' | 'gpt-unsupported' | 'too-many' | 'not-found' | 'bad-entry';

export class PartitionError extends CodedError<PartitionErrorCode> {
  override readonly name = 'PartitionError';
  constructor(
    code: PartitionErrorCode,
    message: string,
    /** Byte offset on the disk of the field at fault. */
    readonly offset?: number,
  ) {
    super(code, message);
  }
}
