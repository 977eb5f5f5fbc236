import { CodedError } from '../../errors/CodedError.ts';

/** Why a valid scenario could not be run here; the panel shows `message` as it is. */
type ScenarioRunErrorCode =
  /** No appliance by that built-in name or local id in this browser. */
  | 'no-appliance'
  /** The appliance URL could not be fetched. */
  | 'download-failed'
  /** The downloaded bytes do not hash to the scenario's sha256. */
  | 'hash-mismatch'
  /** The download is larger than the page will hold. */
  | 'too-large';

export class ScenarioRunError extends CodedError<ScenarioRunErrorCode> {
  override readonly name = 'ScenarioRunError';
  constructor(
    code: ScenarioRunErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
