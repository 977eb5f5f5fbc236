import { CodedError } from '../errors/CodedError.ts';

/** Errors in what a boot was given: images that are not what they claim, RAM too small. */
export type BootErrorCode = 'not-kernel-image' | 'ram-too-small' | 'bad-memory-size' | 'missing-image';

export class BootError extends CodedError<BootErrorCode> {
  constructor(
    code: BootErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'BootError';
  }
}
