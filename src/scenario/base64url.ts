/**
 * base64url (RFC 4648 §5) without padding: the alphabet that survives in a URL fragment,
 * chat apps and mail clients unescaped. Written out rather than via atob/Buffer so that it
 * is the same strict decoder in the page and in node.
 */
import { CodedError } from '../errors/CodedError.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Char code → 6-bit value, or 0xff for a character outside the alphabet. */
const VALUE = new Uint8Array(128).fill(0xff);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

export class Base64urlError extends CodedError<'bad-base64'> {
  override readonly name = 'Base64urlError';
  constructor(
    message: string,
    /** Character offset of the problem in the text. */
    readonly offset: number,
  ) {
    super('bad-base64', message);
  }
}

export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict: no padding, no whitespace, no standard-base64 `+` `/`, and unused trailing bits
 * must be zero, so every byte string has exactly one text (a link cannot be varied to
 * slip past a cache or a blocklist).
 */
export function decodeBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) {
    throw new Base64urlError(`${text.length} characters cannot be base64url (a length of 4n+1 is impossible; the text was probably cut short)`, text.length - 1);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUE[c]! : 0xff;
    if (v === 0xff) {
      const shown = JSON.stringify(text[i]);
      const hint = c === 0x3d ? ' (padding is not used)' : c === 0x2b || c === 0x2f ? ' (standard base64, not base64url)' : '';
      throw new Base64urlError(`character ${i} is ${shown}, which is not base64url${hint}`, i);
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new Base64urlError(`the last character ${JSON.stringify(text[text.length - 1])} has non-zero unused bits; the text was altered`, text.length - 1);
  }
  return out;
}
