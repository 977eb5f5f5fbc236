import { CodedError } from '../errors/CodedError.ts';

/** Why a disk image was refused as an appliance; the CLI and UI print `message` as it is. */
export type ApplianceErrorCode =
  /** appliance.json is not JSON, or a field has the wrong type or an out-of-range value. */
  | 'bad-manifest'
  /** A boot file (Image, appliance.json) is not on the boot partition. */
  | 'missing-file'
  /** A .vhd.gz that does not gunzip (truncated, not gzip). */
  | 'bad-image'
  /** A gzipped kernel that does not gunzip (truncated, corrupt). */
  | 'bad-kernel'
  /** A boot file bigger than romvisor loads (or a gzipped kernel that unpacks to more). */
  | 'too-large'
  /** An overlay whose chain does not lead to the appliance it was given for. */
  | 'overlay-mismatch'
  /** An overlay that is the image itself, or a disk of its chain, under another name. */
  | 'overlay-is-image';

export class ApplianceError extends CodedError<ApplianceErrorCode> {
  override readonly name = 'ApplianceError';
  constructor(
    code: ApplianceErrorCode,
    message: string,
    /** The file or field at fault, e.g. "appliance.json: memoryMiB". */
    readonly field?: string,
  ) {
    super(code, message);
  }
}
