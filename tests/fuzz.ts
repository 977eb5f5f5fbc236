// `npm run fuzz -- [--target isa|vhd|scenario|9p|gdb|repo|state|crash|all] [--count N] [--seed S] [--length L] [--batch B] [--no-misaligned]`
// runs the fuzzers with a fresh seed unless one is given: the differential ISA fuzzer
// against QEMU (tests/fuzz/), the VHD mutation fuzzer (tests/disk/vhdFuzz.ts), the
// scenario-link fuzzer (tests/scenario/scenarioFuzz.ts), the 9P message fuzzer (mutated
// messages against a shared folder with a canary beside it, tests/share/ninePFuzz.ts;
// `--target 9p`, 10,000 by default), the network fuzzers (virtio-net
// descriptor chains, tests/virtio/virtioNetFuzz.ts; guest frames to the switch and its
// services, tests/net/netFrameFuzz.ts; TCP/IP frames to the host endpoint,
// tests/net/hostEndpointFuzz.ts; `--target net`, 10,000 of each by default), and the crash test
// (tests/crash/: N SIGKILLs of the CLI and N of Chromium during a guest's write-and-sync
// loop; not part of `all`, each kill takes seconds), and the gdb remote-protocol fuzzer
// (random and damaged packets to the gdb stub, tests/gdb/gdbFuzz.ts; `--target gdb`), the
// repository index fuzzer (mutated repository.json, tests/repo/repoIndexFuzz.ts; `--target repo`),
// the machine state fuzzer (damaged and forged state files restored into a machine that must
// stay untouched, tests/state/stateFuzz.ts; `--target state`, 1,000 by default), the backup
// archive fuzzer (damaged and forged archives restored into a server directory that must not
// appear, tests/backup/backupFuzz.ts; `--target backup`, 200 by default);
// `--program SEED` re-runs one ISA program, e.g. the one a mismatch report names.
import { parseArgs } from 'node:util';
import { fuzzCrashes } from './crash/fuzzCrashes.ts';
import { fuzzVhd } from './disk/vhdFuzz.ts';
import { fuzzScenarios } from './scenario/scenarioFuzz.ts';
import { fuzzNineP } from './share/ninePFuzz.ts';
import { fuzzVirtioNet } from './virtio/virtioNetFuzz.ts';
import { fuzzNetFrames } from './net/netFrameFuzz.ts';
import { fuzzHostEndpoint } from './net/hostEndpointFuzz.ts';
import { runDiffFuzz } from './fuzz/runDiffFuzz.ts';
import { fuzzGdbPackets } from './gdb/gdbFuzz.ts';
import { fuzzRepositoryIndex } from './repo/repoIndexFuzz.ts';
import { fuzzStates } from './state/stateFuzz.ts';
import { fuzzBackups } from './backup/backupFuzz.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    seed: { type: 'string' },
    program: { type: 'string' },
    length: { type: 'string', default: '120' },
    batch: { type: 'string', default: '25' },
    'no-misaligned': { type: 'boolean', default: false },
    target: { type: 'string', default: 'all' },
  },
});
const targets = values.target === 'all' ? ['isa', 'vhd', 'scenario', 'net', '9p', 'gdb', 'repo', 'state', 'backup'] : [values.target!];
if (!targets.every((t) => t === 'isa' || t === 'vhd' || t === 'scenario' || t === 'net' || t === '9p' || t === 'gdb' || t === 'repo' || t === 'state' || t === 'backup' || t === 'crash')) {
  console.error(`fuzz: --target "${values.target}" must be isa, vhd, scenario, net, 9p, gdb, repo, state, backup, crash or all`);
  process.exit(2);
}
let failed = false;

if (targets.includes('crash')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const r = await fuzzCrashes(Number(values.count ?? 1000), seed, (line) => console.log(line));
  console.log(`fuzz crash: ${r.kills} kills (CLI and Chromium), ${r.confirmed} files confirmed, ${r.intact} intact, ${r.cleanFsck} clean e2fsck, ${r.failures.length} failures (seed ${seed})`);
  for (const f of r.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= r.failures.length > 0;
}

if (targets.includes('vhd')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = await fuzzVhd(Number(values.count ?? 1000), seed);
  console.log(`fuzz vhd: ${v.cases} mutated images (${v.opened} opened) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('gdb')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = await fuzzGdbPackets(Number(values.count ?? 10_000), seed);
  console.log(`fuzz gdb: ${v.cases} packet streams (${v.replies} replies, ${v.stops} stops) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('repo')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = fuzzRepositoryIndex(Number(values.count ?? 10_000), seed);
  console.log(`fuzz repo: ${v.cases} repository indexes (${v.accepted} accepted) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('backup')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = await fuzzBackups(Number(values.count ?? 200), seed);
  const codes = Object.entries(v.rejected).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}:${n}`).join(' ');
  console.log(`fuzz backup: ${v.cases} mutated archives (${v.restored} restored; ${codes}) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('state')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = await fuzzStates(Number(values.count ?? 1000), seed);
  const codes = Object.entries(v.rejected).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}:${n}`).join(' ');
  console.log(`fuzz state: ${v.cases} mutated state files (${v.restored} restored; ${codes}) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('scenario')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = fuzzScenarios(Number(values.count ?? 1000), seed);
  console.log(`fuzz scenario: ${v.cases} links (${v.accepted} accepted), peak inflation ${v.peakInflatedBytes} bytes, worst decode ${v.worstMs.toFixed(2)} ms, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (targets.includes('net')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const count = Number(values.count ?? 10_000);
  const t0 = Date.now();
  const d = fuzzVirtioNet(count, seed);
  console.log(`fuzz net: ${d.cases} virtio-net drivers (${d.needsReset} ended in NEEDS_RESET, ${d.framesSent} frames sent, ${d.framesReceived} received), ${((Date.now() - t0) / 1000).toFixed(1)} s, ${d.failures.length} failures (seed ${seed})`);
  const f = fuzzNetFrames(count, seed);
  console.log(`fuzz net: ${f.cases} guest frames to the switch (${f.malformed} malformed, ${f.replies} replies checked), ${f.failures.length} failures (seed ${seed})`);
  const h = await fuzzHostEndpoint(count, seed);
  console.log(`fuzz net: ${h.cases} mutated TCP/IP frames to the host endpoint beside live connections (${h.malformed} malformed, ${h.resets} resets, ${h.sent} frames sent and checked, at most ${h.peakConnections} connections and ${h.peakHeldBytes} held bytes), ${h.failures.length} failures (seed ${seed})`);
  for (const x of [...d.failures, ...f.failures, ...h.failures].slice(0, 20)) console.log(`  ${x}`);
  failed ||= d.failures.length + f.failures.length + h.failures.length > 0;
}
if (targets.includes('9p')) {
  const seed = Number(values.seed ?? Date.now() % 0x7fffffff);
  const t0 = Date.now();
  const v = await fuzzNineP(Number(values.count ?? 10_000), seed);
  const errnos = [...v.errnos].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e}:${n}`).join(' ');
  console.log(`fuzz 9p: ${v.cases} mutated messages (${v.accepted} accepted; errnos ${errnos}) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.failures.length} failures (seed ${seed})`);
  for (const f of v.failures.slice(0, 20)) console.log(`  ${f}`);
  failed ||= v.failures.length > 0;
}
if (!targets.includes('isa')) process.exit(failed ? 1 : 0);

const started = Date.now();
const opts = {
  length: Number(values.length),
  batchSize: Number(values.batch),
  misaligned: !values['no-misaligned'],
  log: (line: string) => console.log(line),
  jits: ['off', 'eager'] as const,
};
const r = values.program !== undefined
  ? await runDiffFuzz({ ...opts, count: 1, seed: 0, programSeeds: [Number(values.program)] })
  : await runDiffFuzz({ ...opts, count: Number(values.count ?? 1000), seed: Number(values.seed ?? (Date.now() % 0x7fffffff)) });
const secs = (Date.now() - started) / 1000;
console.log(
  `fuzz: ${r.programs} programs in ${r.batches} batches, ${r.instructions} romvisor instructions, ${secs.toFixed(1)} s: ` +
    `${r.mismatches.length} mismatches, ${r.oracleFailures.length} QEMU failures (seed ${r.seed})`,
);
process.exitCode = !failed && r.mismatches.length === 0 && r.oracleFailures.length === 0 ? 0 : 1;
