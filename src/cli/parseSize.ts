/** Parses a size such as "256M", "1G", "65536" (bytes). Returns undefined if malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').toUpperCase()[0];
  const mult = unit === 'K' ? 1 << 10 : unit === 'M' ? 1 << 20 : unit === 'G' ? 1 << 30 : 1;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}
