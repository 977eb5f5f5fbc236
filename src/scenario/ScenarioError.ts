import { CodedError } from '../errors/CodedError.ts';

/**
 * Every way a scenario (a URL, a JSON file, or an object) can be refused. The page and the
 * CLI print `message` as it is; `problems` lists each schema problem as "path: what is wrong".
 */
export type ScenarioErrorCode =
  /** The scenario breaks the schema; `problems` has one line per mistake. */
  | 'invalid'
  /** `version` names a schema this reader does not know. */
  | 'unsupported-version'
  /** The URL, the JSON text, or its inflated form is over a size cap. */
  | 'too-large'
  /** The URL carries no `#s=` scenario. */
  | 'bad-url'
  /** The `#s=` payload is not base64url. */
  | 'bad-base64'
  /** The decoded payload is not a raw DEFLATE stream. */
  | 'bad-deflate'
  /** The text is not UTF-8 JSON. */
  | 'bad-json';

export class ScenarioError extends CodedError<ScenarioErrorCode> {
  override readonly name = 'ScenarioError';
  constructor(
    code: ScenarioErrorCode,
    message: string,
    /** For 'invalid': every problem found, each "path: message". Otherwise one line, the message. */
    readonly problems: readonly string[] = [message],
  ) {
    super(code, message);
  }
}
