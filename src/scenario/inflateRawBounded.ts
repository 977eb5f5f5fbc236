/**
 * Raw DEFLATE inflation with a hard output cap enforced while inflating. DEFLATE turns
 * one input byte into at most 1032 output bytes (a 258-byte match in two bits), so a 6 KiB
 * link could expand to 6 MB; feeding fflate's stream a few bytes at a time bounds what it
 * produces per step, and the stream is abandoned as soon as the total passes the cap.
 */
import { Inflate } from 'fflate';
import { CodedError } from '../errors/CodedError.ts';

/**
 * Input bytes per push: at most 64 × 1032 ≈ 66 KB of output per step, so a bomb is dropped
 * before 64 KiB + 66 KB. Each push costs fflate a fresh 160 KB output buffer, so halving
 * this doubles the cost of every legitimate link (a 60 KB scenario takes ~1.4 ms at 64).
 */
const INFLATE_INPUT_CHUNK = 64;
/** The most output fflate can produce in one step, which bounds the overshoot past the cap. */
export const INFLATE_MAX_STEP_OUTPUT = INFLATE_INPUT_CHUNK * 1032;

type InflateFailure =
  | { kind: 'too-large'; producedBytes: number }
  | { kind: 'corrupt'; message: string };

export class InflateError extends CodedError<InflateFailure['kind']> {
  override readonly name = 'InflateError';
  constructor(readonly failure: InflateFailure) {
    super(failure.kind, failure.kind === 'too-large' ? `inflates past the cap (${failure.producedBytes} bytes and counting)` : failure.message);
  }
}

/**
 * Inflates `input` (raw DEFLATE, no zlib or gzip header) into at most `maxBytes` bytes.
 * `onProgress` sees the running total after every step (tests use it to prove the cap holds).
 */
export function inflateRawBounded(input: Uint8Array, maxBytes: number, onProgress?: (producedBytes: number) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  let produced = 0;
  let ended = false;
  const stream = new Inflate((data, final) => {
    produced += data.length;
    onProgress?.(produced);
    // Past the cap the chunk is dropped, never kept: the caller gets an error, not the bytes.
    if (produced <= maxBytes) chunks.push(data);
    if (final) ended = true;
  });
  try {
    for (let at = 0; at < input.length || at === 0; at += INFLATE_INPUT_CHUNK) {
      const last = at + INFLATE_INPUT_CHUNK >= input.length;
      stream.push(input.subarray(at, at + INFLATE_INPUT_CHUNK), last);
      if (produced > maxBytes) throw new InflateError({ kind: 'too-large', producedBytes: produced });
      if (last) break;
    }
  } catch (e) {
    if (e instanceof InflateError) throw e;
    // fflate reports corrupt streams as plain Errors with a numeric `code`.
    throw new InflateError({ kind: 'corrupt', message: (e as Error).message });
  }
  if (!ended) throw new InflateError({ kind: 'corrupt', message: 'the stream ends before its last block' });
  const out = new Uint8Array(produced);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
