import { CodedError } from '../errors/CodedError.ts';

/** Why a `BlockBackend` refused a request. */
export type BackendErrorCode = 'out-of-range' | 'read-only' | 'disposed' | 'too-large' | 'io';

export class BackendError extends CodedError<BackendErrorCode> {
  override readonly name = 'BackendError';
  constructor(
    code: BackendErrorCode,
    message: string,
    /** Byte offset of the request that failed, when there is one. */
    readonly offset?: number,
  ) {
    super(code, message);
  }
}
