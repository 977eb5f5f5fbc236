/** Why the hypervisor refused a request; the page and the console print `message` as it is. */
export type HypervisorErrorCode = 'not-found' | 'bad-state' | 'no-disk' | 'bad-input' | 'download-failed';

export class HypervisorError extends Error {
  override readonly name = 'HypervisorError';
  constructor(
    readonly code: HypervisorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
