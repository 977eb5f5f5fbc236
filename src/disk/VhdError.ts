import { CodedError } from '../errors/CodedError.ts';

/** Every way a VHD can be refused; the CLI and UI print `message` as it is. */
export type VhdErrorCode =
  | 'bad-cookie'
  | 'bad-checksum'
  | 'bad-version'
  | 'truncated'
  | 'bad-size'
  | 'bad-block-size'
  | 'bad-offset'
  | 'unsupported-type'
  | 'bat-out-of-range'
  | 'bat-overlap'
  | 'bitmap-out-of-range'
  | 'locator-out-of-range'
  | 'parent-missing'
  | 'parent-mismatch'
  | 'parent-loop'
  | 'out-of-range'
  | 'read-only';

export class VhdError extends CodedError<VhdErrorCode> {
  override readonly name = 'VhdError';
  constructor(
    code: VhdErrorCode,
    message: string,
    /** Byte offset in the image file (or in the virtual disk for 'out-of-range'). */
    readonly offset?: number,
  ) {
    super(code, message);
  }
}
