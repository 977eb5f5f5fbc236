import { CodedError } from '../errors/CodedError.ts';

/**
 * Why an appliance could not be built, a repository index was refused, or a remote disk
 * stopped. Messages name the file, field or chunk and the value at fault; the CLI prints
 * them as they are (exit 2).
 */
export type RepoErrorCode =
  /** An argument or input file of `appliance create` / `repo build` that cannot be used. */
  | 'bad-input'
  /** A host tool the builder runs (mke2fs) is not installed. */
  | 'missing-tool'
  /** A host tool ran and failed (its stderr is in the message). */
  | 'tool-failed'
  /** repository.json is not JSON or breaks the schema (field path and value in the message). */
  | 'bad-index'
  /** An appliance or version the index does not have. */
  | 'not-found'
  /** A file or chunk whose bytes do not hash to what the index says. */
  | 'sha256-mismatch'
  /** A file whose size differs from what the index says. */
  | 'size-mismatch'
  /** The server answered with an error status, or not as asked. */
  | 'fetch-failed'
  /**
   * No answer came: the connection failed or timed out. In a browser also a server whose
   * answer the page may not read (no CORS header): the page sees the same error for both.
   */
  | 'no-answer'
  /** A URL that is not http(s): or file-relative where it must not be. */
  | 'bad-url';

export class RepoError extends CodedError<RepoErrorCode> {
  override readonly name = 'RepoError';
  constructor(
    code: RepoErrorCode,
    message: string,
    /** The file, field path or chunk at fault, e.g. "repository.json: appliances[0].versions[1].chunks[3]". */
    readonly where?: string,
  ) {
    super(code, message);
  }
}
