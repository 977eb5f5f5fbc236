/**
 * The base of every error romvisor raises on purpose: something it was given (an image,
 * a file system, a scenario, a command line, a request) was refused. `code` is stable and
 * machine-readable, `message` is one sentence a user can act on and is printed as it is.
 * The CLI maps any CodedError to exit 2 (bad input) with one `instanceof`; anything else
 * that escapes is a bug. Subclasses narrow `Code` to their own union and set `name`.
 * Lowest layer: imports nothing.
 */
export class CodedError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CodedError';
  }
}
