// Builds the boot tests' own guests from source: the teaching kernel (tests/boot/teachkernel,
// C + asm) into build/teachkernel/kernel.elf with Debian's riscv64-unknown-elf-gcc.
// Incremental: rebuilt only when a source is newer than the ELF.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const src = join(here, 'teachkernel');
export const TEACH_KERNEL = join(here, '..', '..', 'build', 'teachkernel', 'kernel.elf');

const CFLAGS = [
  '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-static', '-nostdlib', '-nostartfiles',
  '-ffreestanding', '-fno-pic', '-fno-omit-frame-pointer', '-O1', '-g', '-Wall', '-Werror',
  '-T', join(src, 'kernel.ld'),
];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

export function buildTeachKernel() {
  const sources = readdirSync(src).map((f) => join(src, f));
  if (Math.max(...sources.map(mtime)) < mtime(TEACH_KERNEL)) return TEACH_KERNEL;
  mkdirSync(join(TEACH_KERNEL, '..'), { recursive: true });
  const code = sources.filter((f) => /\.(c|S)$/.test(f)).sort();
  execFileSync('riscv64-unknown-elf-gcc', [...CFLAGS, ...code, '-o', TEACH_KERNEL], { stdio: 'inherit' });
  console.log('boot: built the teaching kernel in build/teachkernel/');
  return TEACH_KERNEL;
}

if (import.meta.url === `file://${process.argv[1]}`) buildTeachKernel();
