const UNIT: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * Parses a size in bytes with an optional binary suffix: "65536", "512k", "256M", "1GiB",
 * "2 T", "4096B". Returns undefined if malformed or past 2^53.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*(?:([KMGT])i?B?|B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNIT[(m[2] ?? '').toUpperCase()]!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
