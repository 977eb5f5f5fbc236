/**
 * How the teaching views print machine numbers: addresses in hex the way objdump and the
 * spec write them, counts short enough for a bar label ("7.15 M"), times in the unit a
 * student reads at a glance.
 */

export { hex } from '../../format/hex.ts';

/** 64-bit values as 16 hex digits with a thin gap in the middle, so they can be read. */
export function hex64(v: bigint): string {
  const s = BigInt.asUintN(64, v).toString(16).padStart(16, '0');
  return `${s.slice(0, 8)}_${s.slice(8)}`;
}

/** 6, 12.3 k, 7.15 M, 1.02 G: three significant digits. */
export function shortCount(v: bigint | number): string {
  const n = Number(v);
  if (n < 1000) return String(n);
  const units = [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const;
  for (const [u, s] of units) {
    if (n >= s) {
      const x = n / s;
      return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ${u}`;
    }
  }
  return String(n);
}

/** An axis tick: like shortCount, without the trailing zeros ("10 M", "2.5 M"). */
export function tickCount(v: number): string {
  return shortCount(v).replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');
}

/** 1,234,567: the exact count, grouped. */
export function groupedCount(v: bigint | number): string {
  return BigInt(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 0.01 ms, 412 ms, 1.23 s, 2 min 5 s. */
export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

/** Parses what a student types as an address: hex with or without 0x, underscores allowed. */
export function parseAddress(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '').toLowerCase();
  if (t === '') return undefined;
  const digits = t.startsWith('0x') ? t.slice(2) : t;
  if (!/^[0-9a-f]{1,16}$/.test(digits)) return undefined;
  return BigInt(`0x${digits}`);
}
