import { CodedError } from '../errors/CodedError.ts';

/** Why the hypervisor refused a request; the page and the console print `message` as it is. */
export type HypervisorErrorCode = 'not-found' | 'bad-state' | 'no-disk' | 'bad-input' | 'download-failed';

export class HypervisorError extends CodedError<HypervisorErrorCode> {
  override readonly name = 'HypervisorError';
  constructor(
    code: HypervisorErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
