// `npm test`: every test, from a clean checkout. Installs (or names) the Debian packages,
// builds the wasm core and the test programs, then runs node's test runner over every
// *.test.ts under tests/ and src/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureDebianPackages } from './deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

ensureDebianPackages();
execFileSync('node', ['wasm/build.mjs'], { stdio: 'inherit' });

// Test programs (ISA tests, bench programs) are built from source by their own scripts.
for (const dir of ['tests/isa', 'tests/boot']) {
  const script = join(dir, 'build.mjs');
  if (existsSync(script)) execFileSync('node', [script], { stdio: 'inherit' });
}

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

// A filter, e.g. `npm test -- disk`, runs only test files whose path contains it.
const filters = process.argv.slice(2);
const files = [...findTests('src'), ...findTests('tests')]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(
  'node',
  ['--import', 'tsx', '--test', '--test-reporter', 'spec', '--test-concurrency', '2', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
