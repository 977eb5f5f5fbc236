// Builds every ISA test (tests/isa/*.S) into build/isa/NAME.elf with the bare-metal
// start code in env/. Incremental: a test is rebuilt only when its source or anything in
// env/ is newer than its ELF, so `npm test` pays for the compiler only after an edit.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
export const ISA_BUILD_DIR = join(root, 'build', 'isa');
const envDir = join(here, 'env');

const CFLAGS = [
  '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static',
  '-nostdlib', '-nostartfiles', '-I', here, '-I', envDir,
  '-T', join(envDir, 'link.ld'),
];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The test names (source files without .S), sorted. */
export function isaTestNames() {
  return readdirSync(here).filter((f) => f.endsWith('.S')).map((f) => f.slice(0, -2)).sort();
}

/** Builds what is out of date; resolves to the ELF paths of every test. */
export async function buildIsaTests({ jobs = 2 } = {}) {
  mkdirSync(ISA_BUILD_DIR, { recursive: true });
  const envNewest = Math.max(...readdirSync(envDir).map((f) => mtime(join(envDir, f))));
  const names = isaTestNames();
  const stale = names.filter((n) => {
    const elf = mtime(join(ISA_BUILD_DIR, `${n}.elf`));
    return elf < envNewest || elf < mtime(join(here, `${n}.S`));
  });
  let next = 0;
  const failures = [];
  async function worker() {
    while (next < stale.length) {
      const name = stale[next++];
      const args = [...CFLAGS, join(envDir, 'start.S'), join(here, `${name}.S`), '-o', join(ISA_BUILD_DIR, `${name}.elf`)];
      try {
        await run('riscv64-unknown-elf-gcc', args);
      } catch (e) {
        failures.push(`${name}: ${e.stderr || e.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker));
  if (failures.length > 0) throw new Error(`ISA test build failed:\n${failures.join('\n')}`);
  if (stale.length > 0) console.log(`isa: built ${stale.length} of ${names.length} tests in build/isa/`);
  return names.map((n) => join(ISA_BUILD_DIR, `${n}.elf`));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildIsaTests().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
