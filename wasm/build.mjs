// Builds the AssemblyScript core twice: a release build for the page, the CLI and the
// benchmarks, and a debug build (assertions, names) that tests can select with
// ROMVISOR_WASM=debug. Both import their memory: the host sizes it to the guest's RAM.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'wasm');
mkdirSync(out, { recursive: true });

// Static data (lookup tables) lives above the core's fixed layout, at STATIC_OFFSET in
// wasm/layout.ts (read from there: node runs this file without a TypeScript loader).
const layout = readFileSync(join(root, 'wasm', 'layout.ts'), 'utf8');
const staticOffset = /^export const STATIC_OFFSET: u32 = (0x[0-9a-f]+);$/m.exec(layout)?.[1];
if (!staticOffset) {
  console.error('wasm build failed: wasm/layout.ts declares no "export const STATIC_OFFSET: u32 = 0x...;"');
  process.exit(1);
}
const common = [
  join(root, 'wasm', 'index.ts'),
  '--runtime', 'stub',
  '--importMemory',
  '--memoryBase', String(Number(staticOffset)),
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
