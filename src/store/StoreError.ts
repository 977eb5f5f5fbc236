import { CodedError } from '../errors/CodedError.ts';

/** Why the image store refused something; the UI prints `message` as it is. */
export type StoreErrorCode = 'not-found' | 'quota-exceeded' | 'in-use' | 'bad-image' | 'io' | 'unsupported';

export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name = 'StoreError';
  constructor(
    code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
