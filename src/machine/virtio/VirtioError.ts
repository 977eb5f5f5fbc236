import { CodedError } from '../../errors/CodedError.ts';

/**
 * Why a virtio device stopped trusting its driver. Raised while reading a virtqueue or a
 * request the guest wrote; the transport answers it by setting DEVICE_NEEDS_RESET
 * (virtio 1.x §2.1.2), never by letting it reach the host loop.
 */
export type VirtioErrorCode =
  /** A ring (descriptor table, available or used ring) is misplaced, misaligned or mis-sized. */
  | 'bad-ring'
  /** The available index moved by more than the queue size. */
  | 'bad-avail-index'
  /** A descriptor index, flag, buffer address or chain shape the spec forbids. */
  | 'bad-descriptor'
  /** A request without a device-writable status byte, so it cannot even be failed. */
  | 'no-status';

export class VirtioError extends CodedError<VirtioErrorCode> {
  override readonly name = 'VirtioError';
  constructor(
    code: VirtioErrorCode,
    message: string,
    /** Guest physical address of the field at fault, when there is one. */
    readonly address?: number,
  ) {
    super(code, message);
  }
}
