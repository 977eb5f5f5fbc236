// `node --import tsx bench/run.ts [GROUP...] [--json FILE]`: runs the named benchmark
// groups (all by default; see bench/groups/index.ts), prints a table, then the rows as
// JSON on stdout, and writes the JSON to build/bench/results.json (or FILE).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTable, geomeans } from './formatTable.ts';
import { BENCH_GROUPS } from './groups/index.ts';
import type { BenchRow } from './Types.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string', default: fileURLToPath(new URL('../build/bench/results.json', import.meta.url)) } },
});

const unknown = positionals.filter((p) => !BENCH_GROUPS.some((g) => g.name === p));
if (unknown.length > 0) {
  console.error(`bench: unknown group ${unknown.map((u) => JSON.stringify(u)).join(', ')}; groups: ${BENCH_GROUPS.map((g) => g.name).join(', ')}`);
  process.exit(2);
}
const groups = positionals.length === 0 ? BENCH_GROUPS : BENCH_GROUPS.filter((g) => positionals.includes(g.name));

const rows: BenchRow[] = [];
for (const g of groups) {
  console.error(`bench: ${g.name}: ${g.description}`);
  rows.push(...(await g.run((line) => console.error(line))));
}

console.log(formatTable(rows));
const json = JSON.stringify(
  { date: new Date().toISOString(), rows, geomean: geomeans(rows) },
  (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  2,
);
console.log(json);
mkdirSync(dirname(values.json!), { recursive: true });
writeFileSync(values.json!, json + '\n');
process.exitCode = rows.every((r) => r.outputsMatch) ? 0 : 1;
