// Renders benchmark rows as a fixed-width text table with a geometric-mean row per group.
import { compileCost } from './jitPageFigures.ts';
import type { BenchRow } from './Types.ts';

function geomean(values: (number | undefined)[]): number | undefined {
  // A group that does not measure a quantity (QEMU's MIPS for a boot) has no mean of it.
  if (values.length === 0 || values.some((v) => v === undefined || !(v > 0))) return undefined;
  return Math.exp(values.reduce<number>((sum, v) => sum + Math.log(v as number), 0) / values.length);
}

const num = (v: number | undefined, digits: number): string => (v === undefined ? '-' : v.toFixed(digits));

export interface GeomeanRow {
  group: string;
  romvisorMips?: number;
  qemuMips?: number;
  ratio?: number;
  jitMips?: number;
  jitRatio?: number;
}

export function geomeans(rows: readonly BenchRow[]): GeomeanRow[] {
  const groups = [...new Set(rows.map((r) => r.group))];
  return groups.map((group) => {
    const complete = rows.filter((r) => r.group === group && r.ratio !== undefined);
    const withJit = rows.filter((r) => r.group === group && r.jitRatio !== undefined);
    return {
      group,
      romvisorMips: geomean(complete.map((r) => r.romvisorMips)),
      qemuMips: geomean(complete.map((r) => r.qemuMips)),
      ratio: geomean(complete.map((r) => r.ratio)),
      jitMips: geomean(withJit.map((r) => r.jitMips)),
      jitRatio: geomean(withJit.map((r) => r.jitRatio)),
    };
  });
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = [
    'group', 'program', 'instructions', 'romvisor s', 'qemu s', 'romvisor MIPS', 'qemu MIPS', 'romvisor/qemu',
    'jit s', 'jit MIPS', 'jit/qemu', 'compiles', 'ms/page', 'KB/page', 'same output',
  ];
  const times = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  // The JIT's compile overhead (the run's whole count, start-up included): translations of a
  // page (one again with new entries counts again), and per translation the host time it
  // took and the wasm it made.
  const body = rows.map((r) => {
    const cost = r.jit && r.jit.compiles > 0 ? compileCost(r.jit) : undefined;
    return [
      r.group,
      r.name,
      r.instructions?.toString() ?? '-',
      num(r.romvisorSeconds, 3),
      num(r.qemuSeconds, 3),
      num(r.romvisorMips, 1),
      num(r.qemuMips, 1),
      times(r.ratio),
      num(r.jitSeconds, 3),
      num(r.jitMips, 1),
      times(r.jitRatio),
      r.jit ? String(r.jit.compiles) : '-',
      num(cost?.msPerCompile, 2),
      num(cost && cost.bytesPerCompile / 1024, 1),
      r.outputsMatch ? 'yes' : 'NO',
    ];
  });
  for (const g of geomeans(rows)) {
    body.push([g.group, 'geomean', '', '', '', num(g.romvisorMips, 1), num(g.qemuMips, 1), times(g.ratio), '', num(g.jitMips, 1), times(g.jitRatio), '', '', '', '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `note: ${r.group}/${r.name}: ${r.note}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...notes].join('\n');
}
