/** Why the image store refused something; the UI prints `message` as it is. */
export type StoreErrorCode = 'not-found' | 'quota-exceeded' | 'in-use' | 'bad-image' | 'io' | 'unsupported';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
