// `npm run fuzz -- [--count N] [--seed S] [--length L] [--batch B] [--no-misaligned]`
// runs the differential fuzzer (tests/fuzz/) with a fresh seed unless one is given;
// `--program SEED` re-runs one program, e.g. the one a mismatch report names.
import { parseArgs } from 'node:util';
import { runDiffFuzz } from './fuzz/runDiffFuzz.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    program: { type: 'string' },
    length: { type: 'string', default: '120' },
    batch: { type: 'string', default: '25' },
    'no-misaligned': { type: 'boolean', default: false },
  },
});

const started = Date.now();
const opts = {
  length: Number(values.length),
  batchSize: Number(values.batch),
  misaligned: !values['no-misaligned'],
  log: (line: string) => console.log(line),
};
const r = values.program !== undefined
  ? await runDiffFuzz({ ...opts, count: 1, seed: 0, programSeeds: [Number(values.program)] })
  : await runDiffFuzz({ ...opts, count: Number(values.count), seed: Number(values.seed ?? (Date.now() % 0x7fffffff)) });
const secs = (Date.now() - started) / 1000;
console.log(
  `fuzz: ${r.programs} programs in ${r.batches} batches, ${r.instructions} romvisor instructions, ${secs.toFixed(1)} s: ` +
    `${r.mismatches.length} mismatches, ${r.oracleFailures.length} QEMU failures (seed ${r.seed})`,
);
process.exitCode = r.mismatches.length === 0 && r.oracleFailures.length === 0 ? 0 : 1;
