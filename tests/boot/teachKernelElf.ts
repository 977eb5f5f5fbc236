// The teaching kernel's ELF (tests/boot/teachkernel, built by build.mjs into build/): npm
// test's build step builds it, and each boot test that boots it builds it again (only when
// a source is newer) so that it also runs on its own.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TEACH_KERNEL = fileURLToPath(new URL('../../build/teachkernel/kernel.elf', import.meta.url));

/** Builds the kernel if it is out of date; its path. */
export function buildTeachKernel(): string {
  execFileSync('node', [fileURLToPath(new URL('./build.mjs', import.meta.url))], { stdio: 'inherit' });
  return TEACH_KERNEL;
}
