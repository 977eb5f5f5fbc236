import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { findCycles, formatCycles, importGraph } from './importCycles.ts';

const root = new URL('../..', import.meta.url).pathname;

describe('layers import one way', () => {
  it('src/, wasm/, bench/ and bin/ have no import cycle, type-only imports included', () => {
    const graph = importGraph(root, ['src', 'wasm', 'bench', 'bin']);
    assert.ok(graph.size > 100, `only ${graph.size} modules found; is the walk broken?`);
    const cycles = findCycles(graph);
    assert.equal(cycles.length, 0, `import cycles (move the shared part into a lower module):\n${formatCycles(cycles)}`);
  });
});

describe('the machine is told how to boot, it does not reach up', () => {
  // src/machine/ runs a guest anywhere (worker, CLI, tests): it takes its boot loader, its
  // disks and its host loop from its callers, and imports none of their layers.
  const ABOVE = ['src/boot/', 'src/cli/', 'src/ui/', 'src/worker/', 'src/store/', 'src/hypervisor/'];
  it('no module in src/machine/ imports boot, cli, ui, worker, store or hypervisor, type-only imports included', () => {
    const graph = importGraph(root, ['src']);
    const bad: string[] = [];
    for (const [from, deps] of graph) {
      if (!from.startsWith('src/machine/')) continue;
      for (const to of deps) if (ABOVE.some((layer) => to.startsWith(layer))) bad.push(`${from} → ${to}`);
    }
    assert.ok([...graph.keys()].some((f) => f.startsWith('src/machine/')), 'src/machine/ found');
    assert.deepEqual(bad, [], `src/machine/ imports a layer above it:\n${bad.join('\n')}`);
  });
});

describe('the cycle finder', () => {
  const fixture = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'romvisor-cycles-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };

  it('follows type-only imports, export-from, dynamic imports and index files', () => {
    const dir = fixture({
      'src/a.ts': "import type { B } from './b.ts';\nexport type A = B;\n",
      'src/b.ts': "export * from './lib';\n",
      'src/lib/index.ts': "export type { C } from '../c.ts';\n",
      'src/c.ts': "export type C = 1;\nexport const load = () => import('./a.ts');\n",
      'bin/x.mjs': "import '../src/a.ts';\n",
    });
    const cycles = findCycles(importGraph(dir, ['src', 'bin']));
    assert.deepEqual(cycles, [['src/a.ts', 'src/b.ts', 'src/lib/index.ts', 'src/c.ts', 'src/a.ts']]);
    assert.match(formatCycles(cycles), /^src\/a\.ts → src\/b\.ts → src\/lib\/index\.ts → src\/c\.ts → src\/a\.ts$/);
  });

  it('ignores imports in comments and strings, packages, and files outside the checked folders', () => {
    const dir = fixture({
      'src/a.ts': "// import { b } from './b.ts';\nconst s = `import './b.ts'`;\nimport 'node:fs';\nimport '../tests/t.ts';\n",
      'src/b.ts': "import './a.ts';\n",
      'tests/t.ts': "import '../src/a.ts';\n",
    });
    assert.deepEqual(findCycles(importGraph(dir, ['src'])), []);
  });

  it('reports a cycle per back edge, and a module that imports itself', () => {
    const dir = fixture({
      'src/a.ts': "import './b.ts';\nimport './c.ts';\n",
      'src/b.ts': "import './a.ts';\n",
      'src/c.ts': "import './b.ts';\nimport './c.ts';\n",
      'src/d.ts': "import './e.ts';\n",
      'src/e.ts': "import './d.ts';\n",
    });
    // a → c → b → a shares its back edge b → a with a → b → a, so it shows once that is fixed.
    assert.deepEqual(findCycles(importGraph(dir, ['src'])), [
      ['src/a.ts', 'src/b.ts', 'src/a.ts'],
      ['src/c.ts', 'src/c.ts'],
      ['src/d.ts', 'src/e.ts', 'src/d.ts'],
    ]);
  });
});
