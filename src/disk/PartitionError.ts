export type PartitionErrorCode = 'no-signature' | 'bad-status' | 'out-of-range' | 'overlap' | 'gpt-unsupported' | 'too-many' | 'not-found' | 'bad-entry';

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
  constructor(
    readonly code: PartitionErrorCode,
    message: string,
    /** Byte offset on the disk of the field at fault. */
    readonly offset?: number,
  ) {
    super(message);
  }
}
