import { CodedError } from '../../errors/CodedError.ts';

/** Why a valid scenario could not be run here; the panel shows `message` as it is. */
type ScenarioRunErrorCode =
  /** No appliance by that built-in name or local id in this browser. */
  | 'no-appliance'
  /** A state guest's file is not one this page can resume (not self-contained, damaged, over another base). */
  | 'bad-state';

export class ScenarioRunError extends CodedError<ScenarioRunErrorCode> {
  override readonly name = 'ScenarioRunError';
  constructor(
    code: ScenarioRunErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
