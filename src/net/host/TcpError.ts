import { CodedError } from '../../errors/CodedError.ts';

/**
 * Why a connection of the host endpoint ended other than by an orderly close, or could not
 * be made. These are ordinary network events (a guest with nothing listening, a guest that
 * powered off mid-transfer), reported to whoever holds the connection, never a host crash.
 */
export type TcpErrorCode =
  /** The guest answered the SYN with a reset: nothing listens on that port. */
  | 'refused'
  /** The guest reset an open connection. */
  | 'reset'
  /** Retransmissions ran out (the guest stopped answering). */
  | 'timeout'
  /** The endpoint's connection table is full. */
  | 'too-many'
  /** Written to after end(), or to a connection that is closed. */
  | 'closed'
  /** The address is not one the endpoint can reach (outside the guests' network). */
  | 'unreachable';

export class TcpError extends CodedError<TcpErrorCode> {
  override readonly name = 'TcpError';
}
