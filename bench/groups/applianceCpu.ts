// A CPU-bound script typed at the shell of the Lua and the SQLite appliances, as a user
// would: each appliance boots to its prompt on QEMU TCG, on romvisor's interpreter
// (--jit off) and on romvisor --jit auto (in this process, as `romvisor boot IMAGE
// --snapshot` builds it), the same memory and no network card on all three; the script is
// written to /tmp with a here-document (untimed), then run RUNS times, each timed from the
// newline that starts it to the prompt after its output (bench/promptScript.ts). The row
// has the best run of each machine; every run must print the same answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JitMode, JitStats } from '../../src/jit/Jit.ts';
import { jitView } from '../../src/machine/jitView.ts';
import { openApplianceVm } from '../applianceVm.ts';
import { ProcessConsoleGuest, VmConsoleGuest, type ConsoleGuest } from '../ConsoleGuest.ts';
import { jitPageFigures, type JitPageFigures } from '../jitPageFigures.ts';
import { bootedToPrompt, hereDocument, timeCommand, typeAtPrompt } from '../promptScript.ts';
import { qemuApplianceArgs } from '../qemuAppliance.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';

const appliance = (name: string) => fileURLToPath(new URL(`../../appliances/${name}.vhd.gz`, import.meta.url));
/** Runs per machine; the best counts (the first also warms caches: the guest's, QEMU's, the JIT's). */
const RUNS = 3;
const BOOT_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 180_000;

export interface Workload {
  appliance: 'lua' | 'sqlite';
  name: string;
  /** Where the script is written in the guest, and what it holds. */
  path: string;
  script: string;
  /** Typed at the prompt and timed. */
  command: string;
  /** What the answer looks like (the same answer on every run of every machine is the check). */
  answer: RegExp;
}

// Integer and table work in Lua's VM: recursive calls, a sieve in a table, string
// formatting and a sort with string comparisons, then a checksum over the sorted strings.
const LUA = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local N = 400000
local composite, primes = {}, 0
for i = 2, N do
  if not composite[i] then
    primes = primes + 1
    for j = i * i, N, i do composite[j] = true end
  end
end
local words = {}
for i = 1, 60000 do words[i] = string.format('%x', (i * 2654435761) % 4294967296) end
table.sort(words)
local h = 0
for i = 1, #words do h = (h * 31 + #words[i] + words[i]:byte(1)) % 1000000007 end
print('lua-bench', fib(27), primes, h)
`;

// SQLite's VDBE over generated rows: a recursive CTE fills a table, a join against a
// derived table and a grouped aggregate read it back (an automatic index for the join).
const SQL = `
CREATE TABLE t AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
  SELECT x, x % 1000 AS g, (x * 2654435761) % 1000003 AS v FROM n;
CREATE TABLE w AS SELECT DISTINCT g, (g * 37) % 101 AS k FROM t;
SELECT 'sqlite-bench', count(*), sum(t.v * w.k) % 1000000007, max(t.v) FROM t JOIN w ON t.g = w.g;
SELECT 'sqlite-top', g, count(*), sum(v) FROM t GROUP BY g ORDER BY sum(v) DESC, g LIMIT 2;
`;

const WORKLOADS: readonly Workload[] = [
  { appliance: 'lua', name: 'lua: fib, sieve, format+sort', path: '/tmp/bench.lua', script: LUA, command: 'lua /tmp/bench.lua', answer: /^lua-bench\t\d+\t\d+\t\d+$/ },
  { appliance: 'sqlite', name: 'sqlite: CTE 1e5 rows, join, group by', path: '/tmp/bench.sql', script: SQL, command: 'sqlite3 :memory: < /tmp/bench.sql', answer: /^sqlite-bench\|100000\|\d+\|\d+\nsqlite-top\|\d+\|100\|\d+\nsqlite-top\|\d+\|100\|\d+$/ },
];

type Machine = 'qemu' | JitMode;

interface Run {
  seconds: number;
  output: string;
  /** romvisor: instructions retired during the run, and what the JIT did in it. */
  instructions?: bigint;
  compiles?: number;
  compileMs?: number;
  /** Entries into compiled code, and the instructions it ran. */
  entries?: number;
  jitInsns?: number;
}

export interface Measured {
  machine: Machine;
  bootSeconds?: number;
  runs: Run[];
  error?: string;
  /** romvisor --jit auto: the counters after the last run (boot included). */
  jit?: JitStats;
  jitPages?: JitPageFigures;
}

const label = (m: Machine) => (m === 'qemu' ? 'qemu' : `romvisor --jit ${m}`);

/** Boots `w`'s appliance on `machine`, writes the script and times it RUNS times. */
async function measure(w: Workload, machine: Machine, work: string): Promise<Measured> {
  const result: Measured = { machine, runs: [] };
  const start = performance.now();
  let guest: ConsoleGuest;
  let dispose = async () => {};
  if (machine === 'qemu') {
    guest = new ProcessConsoleGuest('qemu-system-riscv64', await qemuApplianceArgs(appliance(w.appliance), work));
  } else {
    const a = await openApplianceVm(appliance(w.appliance), machine, work);
    guest = new VmConsoleGuest(a.vm);
    dispose = a.dispose;
  }
  const vm = guest instanceof VmConsoleGuest ? guest.vm : undefined;
  try {
    if (!(await bootedToPrompt(guest, BOOT_TIMEOUT_MS))) {
      result.error = `${label(machine)}: no prompt: ${guest.ended ?? JSON.stringify(guest.output.slice(-300))}`;
      return result;
    }
    result.bootSeconds = (performance.now() - start) / 1000;
    // The kernel's console messages (late boot notices) would land inside a run's output.
    // Reading /dev/random waits, untimed, for the kernel's random pool: the SQLite workload
    // asks for random bytes, which blocks until the pool is ready; with no RNG device the
    // kernel then gathers timer jitter (7 s of system time on QEMU, in the first run only).
    const typed = await typeAtPrompt(guest, `dmesg -n 1; head -c 1 /dev/random > /dev/null; ${hereDocument(w.path, w.script)}`, 120_000);
    if (typed) {
      result.error = `${label(machine)}: ${typed}`;
      return result;
    }
    for (let i = 0; i < RUNS; i++) {
      const insns = vm?.core.instructions;
      const before = vm?.core.jitStats();
      const r = await timeCommand(guest, w.command, RUN_TIMEOUT_MS);
      if (!r.ok) {
        result.error = `${label(machine)}: ${r.error}`;
        return result;
      }
      const run: Run = { seconds: r.seconds, output: r.output };
      if (vm && insns !== undefined && before) {
        const after = vm.core.jitStats();
        run.instructions = vm.core.instructions - insns;
        run.compiles = after.compiles - before.compiles;
        run.compileMs = after.compileMs - before.compileMs;
        run.entries = after.entries - before.entries;
        run.jitInsns = after.jitInsns - before.jitInsns;
      }
      result.runs.push(run);
    }
    if (vm && machine !== 'off') {
      result.jit = vm.core.jitStats();
      result.jitPages = jitPageFigures(jitView(vm.core, undefined, undefined));
    }
    return result;
  } finally {
    await guest.close();
    await dispose();
  }
}

const best = (m: Measured): Run | undefined => (m.runs.length === RUNS ? m.runs.reduce((a, b) => (b.seconds < a.seconds ? b : a)) : undefined);
const mips = (r: Run) => (r.instructions === undefined ? undefined : Number(r.instructions) / r.seconds / 1e6);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The row of one workload from its three machines' runs. */
export function applianceCpuRow(w: Workload, q: Measured, r: Measured, j: Measured, loadBefore: string, loadAfter: string): BenchRow {
  const all = [q, r, j];
  const answers = new Set(all.flatMap((m) => m.runs.map((run) => run.output)));
  const answer = [...answers][0];
  const complete = all.every((m) => m.runs.length === RUNS);
  const right = answers.size === 1 && answer !== undefined && w.answer.test(answer);
  const row: BenchRow = { group: 'appliance-cpu', name: w.name, outputsMatch: complete && right };
  const [qb, rb, jb] = all.map(best);
  if (qb) row.qemuSeconds = qb.seconds;
  if (rb) {
    row.instructions = rb.instructions;
    row.romvisorSeconds = rb.seconds;
    row.romvisorMips = mips(rb);
    // QEMU retires (within the timer's interrupts) the instructions romvisor counted.
    if (qb && rb.instructions !== undefined) row.qemuMips = Number(rb.instructions) / qb.seconds / 1e6;
    if (qb) row.ratio = rb.seconds / qb.seconds;
  }
  if (jb) {
    row.jitSeconds = jb.seconds;
    row.jitMips = mips(jb);
    if (qb) row.jitRatio = jb.seconds / qb.seconds;
  }
  row.jit = j.jit;
  row.jitPages = j.jitPages;
  const s = (x: number) => x.toFixed(2);
  const notes: string[] = [];
  // The target is a speed: QEMU's time over ours (1 = QEMU's speed).
  if (qb && rb && jb) notes.push(`guest speed vs QEMU: interpreter ${s(qb.seconds / rb.seconds)}, --jit auto ${s(qb.seconds / jb.seconds)}`);
  notes.push(`runs (s) qemu ${q.runs.map((x) => s(x.seconds)).join('/')}, interpreter ${r.runs.map((x) => s(x.seconds)).join('/')}, --jit auto ${j.runs.map((x) => s(x.seconds)).join('/')}`);
  if (j.runs.length > 0) {
    const compiles = j.runs.reduce((n, x) => n + (x.compiles ?? 0), 0);
    const ms = j.runs.reduce((n, x) => n + (x.compileMs ?? 0), 0);
    const secs = j.runs.reduce((n, x) => n + x.seconds, 0);
    notes.push(`--jit auto translated ${compiles} pages in ${ms.toFixed(1)} ms during the runs (${((ms / 1000 / secs) * 100).toFixed(1)}% of their time; first run ${j.runs[0]!.compiles} pages)`);
    // How much of the work compiled code did, and how long it stayed in before returning to
    // the core's dispatch (each return costs a lookup and a call).
    if (jb?.instructions && jb.jitInsns !== undefined && jb.entries) {
      notes.push(`best --jit auto run: ${((jb.jitInsns / Number(jb.instructions)) * 100).toFixed(0)}% of instructions compiled, ${(jb.jitInsns / jb.entries).toFixed(1)} per entry into compiled code`);
    }
  }
  notes.push(`boot to prompt (s) qemu ${q.bootSeconds?.toFixed(2) ?? '-'}, interpreter ${r.bootSeconds?.toFixed(2) ?? '-'}, --jit auto ${j.bootSeconds?.toFixed(2) ?? '-'}`);
  notes.push(`load ${loadBefore} -> ${loadAfter}`);
  for (const m of all) if (m.error) notes.push(m.error);
  if (complete && !right) notes.push(`answers differ or are wrong: ${[...answers].map((a) => JSON.stringify(a)).join(' vs ')}`);
  row.note = notes.join('; ');
  return row;
}

export const applianceCpuGroup: BenchGroup = {
  name: 'appliance-cpu',
  description: `a CPU-bound script at the prompt of the Lua and SQLite appliances, best of ${RUNS}, romvisor (interpreter, and --jit auto) vs QEMU TCG (same appliance and memory)`,
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-appcpu-'));
    const rows: BenchRow[] = [];
    try {
      for (const w of WORKLOADS) {
        const loadBefore = load();
        const by: Measured[] = [];
        for (const machine of ['qemu', 'off', 'auto'] as const) {
          log(`appliance-cpu: ${w.appliance} on ${label(machine)}`);
          by.push(await measure(w, machine, work));
        }
        const row = applianceCpuRow(w, by[0]!, by[1]!, by[2]!, loadBefore, load());
        log(`appliance-cpu: ${w.name}: ${row.note}`);
        rows.push(row);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return rows;
  },
};
