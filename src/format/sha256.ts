/**
 * SHA-256 through WebCrypto, the one digest the page and node share (node 20 has
 * `globalThis.crypto.subtle` too): state sections, repository chunks, scenario downloads.
 */
import { hexBytes } from './hexBytes.ts';

export async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** The digest as the 64 hex digits manifests and indexes carry. */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return hexBytes(await sha256(bytes));
}
