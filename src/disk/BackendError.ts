/** Why a `BlockBackend` refused a request. */
export type BackendErrorCode = 'out-of-range' | 'read-only' | 'disposed' | 'too-large' | 'io';

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    /** Byte offset of the request that failed, when there is one. */
    readonly offset?: number,
  ) {
    super(message);
  }
}
