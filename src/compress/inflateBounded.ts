/**
 * DEFLATE inflation (raw, as in scenario links, or gzip-wrapped, as in kernels) with a hard
 * output cap enforced while inflating. DEFLATE turns one input byte into at most 1032 output
 * bytes (a 258-byte match in two bits), so a small input can expand a thousandfold; feeding
 * fflate's stream `pieceBytes` at a time bounds what one step can produce, and the stream is
 * abandoned as soon as the total passes the cap. fflate rather than DecompressionStream:
 * the same code and errors in the page, the worker and node.
 */
import { Gunzip, Inflate } from 'fflate';
import { CodedError } from '../errors/CodedError.ts';

/** Output bytes one input byte can become, at most (DEFLATE's best case). */
const MAX_EXPANSION = 1032;

type InflateFailure =
  | { kind: 'too-large'; producedBytes: number }
  | { kind: 'corrupt'; message: string }
  | { kind: 'truncated'; message: string };

export class InflateError extends CodedError<InflateFailure['kind']> {
  override readonly name = 'InflateError';
  constructor(readonly failure: InflateFailure) {
    super(failure.kind, failure.kind === 'too-large' ? `inflates past the cap (${failure.producedBytes} bytes and counting)` : failure.message);
  }
}

export interface InflateBoundedOptions {
  /** 'raw' DEFLATE (no header) or 'gzip'. */
  format: 'raw' | 'gzip';
  maxBytes: number;
  /**
   * Input bytes per step. The output can pass the cap by at most pieceBytes × 1032
   * (`inflateOvershoot`); each step costs fflate a fresh output buffer, so small pieces
   * cost time on large inputs.
   */
  pieceBytes: number;
  /** Sees the running total after every step (tests use it to prove the cap holds). */
  onProgress?: (producedBytes: number) => void;
}

/** How far past `maxBytes` inflation can get before it is stopped, for a piece size. */
export const inflateOvershoot = (pieceBytes: number) => pieceBytes * MAX_EXPANSION;

export function inflateBounded(input: Uint8Array, { format, maxBytes, pieceBytes, onProgress }: InflateBoundedOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  let produced = 0;
  let ended = false;
  const onData = (data: Uint8Array, final: boolean) => {
    produced += data.length;
    onProgress?.(produced);
    // Past the cap the chunk is dropped, never kept: the caller gets an error, not the bytes.
    if (produced <= maxBytes) chunks.push(data);
    if (final) ended = true;
  };
  const stream = format === 'gzip' ? new Gunzip(onData) : new Inflate(onData);
  try {
    for (let at = 0; at < input.length || at === 0; at += pieceBytes) {
      const last = at + pieceBytes >= input.length;
      stream.push(input.subarray(at, at + pieceBytes), last);
      if (produced > maxBytes) throw new InflateError({ kind: 'too-large', producedBytes: produced });
      if (last) break;
    }
  } catch (e) {
    if (e instanceof InflateError) throw e;
    // fflate reports corrupt streams as plain Errors with a numeric `code`.
    throw new InflateError({ kind: 'corrupt', message: (e as Error).message });
  }
  if (!ended) throw new InflateError({ kind: 'truncated', message: 'the stream ends before its last block' });
  const out = new Uint8Array(produced);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
