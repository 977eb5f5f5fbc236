/*
 * The sector bitmap in front of each VHD block: one bit per 512-byte sector, sector 0
 * in the most significant bit of byte 0. A set bit means "this file holds the sector";
 * a clear bit means zeros (dynamic) or "ask the parent" (differencing).
 */

export function isSectorPresent(bitmap: Uint8Array, sector: number): boolean {
  return (bitmap[sector >> 3]! & (0x80 >> (sector & 7))) !== 0;
}

/** Sets `count` bits from `first`; true if any changed (so the bitmap needs writing). */
export function setSectors(bitmap: Uint8Array, first: number, count: number): boolean {
  let changed = false;
  for (let s = first; s < first + count; s++) {
    const mask = 0x80 >> (s & 7);
    if (!(bitmap[s >> 3]! & mask)) {
      bitmap[s >> 3]! |= mask;
      changed = true;
    }
  }
  return changed;
}

/** True if every byte is zero (word-at-a-time when aligned: blocks are megabytes). */
export function isAllZero(data: Uint8Array): boolean {
  const words = data.byteOffset % 4 === 0 && data.length % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4) : data;
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}
