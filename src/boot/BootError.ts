/** Errors in what a boot was given: images that are not what they claim, RAM too small. */
export type BootErrorCode = 'not-kernel-image' | 'ram-too-small' | 'bad-memory-size' | 'missing-image';

export class BootError extends Error {
  constructor(
    readonly code: BootErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BootError';
  }
}
