/**
 * The module graph of the repository's own sources, and its import cycles.
 *
 * Every `import` and `export ... from` counts, type-only ones included (`import type`,
 * `export type ... from`), and so do side-effect imports and dynamic `import('./x')` with a
 * literal path: a cycle through a type or a lazy import still means two modules that cannot
 * be understood, moved or tested one without the other. Only relative specifiers are
 * followed; packages are leaves. The statements are found by TypeScript's own pre-processor
 * (`ts.preProcessFile`), which skips comments and strings, so no parser of our own has to
 * get template literals right.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SOURCE = /\.(?:ts|mts|tsx|mjs|js)$/;

/** Module → the modules it imports, all as paths relative to `root`. */
export type ImportGraph = Map<string, string[]>;

/** Every source file under `dirs` (relative to `root`), without node_modules and build output. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'build' || name === 'dist' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE.test(name)) out.push(relative(root, p));
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return out;
}

/** The relative specifiers a file imports or re-exports from, in source order. */
export function importSpecifiers(text: string): string[] {
  return ts
    .preProcessFile(text, /* readImportFiles */ true, /* detectJavaScriptImports */ true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/** The file a relative specifier names, as bundlers and tsx resolve it, or undefined. */
export function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  const bare = specifier.replace(/[?#].*$/, ''); // vite's `?worker`, `?url`
  const base = resolve(dirname(fromFile), bare);
  const candidates = [base, `${base}.ts`, `${base}.mts`, `${base}.tsx`, `${base}.mjs`, `${base}.js`, join(base, 'index.ts')];
  if (/\.js$/.test(base)) candidates.push(base.replace(/\.js$/, '.ts'));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** The import graph of the source files under `dirs`; edges leaving them are dropped. */
export function importGraph(root: string, dirs: readonly string[]): ImportGraph {
  const files = sourceFiles(root, dirs);
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const abs = join(root, file);
    const deps: string[] = [];
    for (const spec of importSpecifiers(readFileSync(abs, 'utf8'))) {
      const target = resolveSpecifier(abs, spec);
      if (target === undefined) continue; // tsc reports imports of missing files
      const rel = relative(root, target);
      if (known.has(rel) && !deps.includes(rel)) deps.push(rel);
    }
    graph.set(file, deps);
  }
  return graph;
}

/**
 * The cycles a depth-first search meets: one per back edge, each as the path
 * `a → b → ... → a`, rotated to start at its smallest module so that the same cycle is
 * reported once. Every graph with a cycle has a back edge, so an empty result means the
 * graph is acyclic; fixing the reported cycles and running again finds any that remain.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];

  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === undefined) visit(next);
      else if (s === 'open') {
        const loop = stack.slice(stack.lastIndexOf(next));
        let start = 0;
        for (let i = 1; i < loop.length; i++) if (loop[i]! < loop[start]!) start = i;
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        const key = rotated.join('\n');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0]!]);
        }
      }
    }
    stack.pop();
    state.set(node, 'done');
  };

  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** `a.ts → b.ts → a.ts`, one cycle a line. */
export function formatCycles(cycles: readonly string[][]): string {
  return cycles.map((c) => c.join(' → ')).join('\n');
}

// `node --import tsx tests/unit/importCycles.ts`: print the cycles of the repository.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
  const cycles = findCycles(importGraph(root, ['src', 'wasm', 'bench', 'bin']));
  console.log(cycles.length ? formatCycles(cycles) : 'no import cycles');
  process.exitCode = cycles.length ? 1 : 0;
}
