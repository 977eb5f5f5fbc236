// Builds the AssemblyScript core twice: a release build for the page, the CLI and the
// benchmarks, and a debug build (assertions, names) that tests can select with
// ROMVISOR_WASM=debug. Both import their memory: the host sizes it to the guest's RAM.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'wasm');
mkdirSync(out, { recursive: true });

// Static data (lookup tables) lives above the core's fixed layout; see wasm/layout.ts.
const common = [
  join(root, 'wasm', 'index.ts'),
  '--runtime', 'stub',
  '--importMemory',
  '--memoryBase', String(0x80000),
  '--exportStart', '_start',
  '--enable', 'bulk-memory',
];

const builds = [
  ['core.wasm', ['-O3', '--noAssert', '--converge']],
  ['core.debug.wasm', ['--debug', '-O1']],
];

for (const [name, flags] of builds) {
  const { error, stderr } = await asc.main([...common, ...flags, '-o', join(out, name)]);
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`wasm build failed: ${name}: ${error.message}`);
    process.exit(1);
  }
}
console.log(`wasm: built ${builds.map((b) => b[0]).join(', ')} in build/wasm/`);
