import { CodedError } from '../errors/CodedError.ts';

/**
 * Why the switch or one of its services refused something: a frame or message too short for
 * its headers, a field with a value the protocol forbids, a port that cannot be attached.
 * Frames come from guests, so these are ordinary events (counted, the frame dropped), never
 * a host crash.
 */
export type NetErrorCode =
  /** Shorter than the headers its type promises. */
  | 'truncated'
  /** A field with a value the protocol does not allow (a bad IHL, a DNS pointer loop). */
  | 'bad-field'
  /** A port of a name or kind the switch cannot take. */
  | 'bad-port';

export class NetError extends CodedError<NetErrorCode> {
  override readonly name = 'NetError';
  constructor(
    code: NetErrorCode,
    message: string,
    /** Byte offset in the frame or message of the field at fault, when there is one. */
    readonly offset?: number,
  ) {
    super(code, message);
  }
}
