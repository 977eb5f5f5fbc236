// Builds the bare-metal benchmark programs (bench/programs/*.c with the runtime in
// bench/programs/runtime/) into build/bench/NAME.elf, once: a program is rebuilt only when
// its source or the runtime is newer than its ELF. Compiled -O2 for rv64gc/lp64d.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const programsDir = fileURLToPath(new URL('./programs/', import.meta.url));
const runtimeDir = join(programsDir, 'runtime');
export const BENCH_BUILD_DIR = fileURLToPath(new URL('../build/bench/', import.meta.url));

const CFLAGS = [
  '-O2', '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static', '-ffreestanding', '-nostdlib', '-nostartfiles',
  // The runtime's memcpy/memset are byte loops: don't let gcc turn them back into calls.
  '-fno-tree-loop-distribute-patterns', '-Wall', '-Wextra', '-I', runtimeDir, '-T', join(runtimeDir, 'link.ld'),
];

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Program names (the .c files), sorted; `empty` is the start-up baseline. */
export function benchProgramNames(): string[] {
  return readdirSync(programsDir).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
}

export function benchElfPath(name: string): string {
  return join(BENCH_BUILD_DIR, `${name}.elf`);
}

/** Builds what is out of date. */
export async function buildBenchPrograms(): Promise<void> {
  mkdirSync(BENCH_BUILD_DIR, { recursive: true });
  const runtimeNewest = Math.max(...readdirSync(runtimeDir).map((f) => mtime(join(runtimeDir, f))));
  for (const name of benchProgramNames()) {
    const elf = benchElfPath(name);
    const src = join(programsDir, `${name}.c`);
    if (mtime(elf) >= Math.max(runtimeNewest, mtime(src))) continue;
    const args = [...CFLAGS, join(runtimeDir, 'start.S'), join(runtimeDir, 'console.c'), src, '-o', elf];
    try {
      await run('riscv64-unknown-elf-gcc', args);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`building ${name}.c failed:\n${err.stderr || err.message}`);
    }
  }
}
