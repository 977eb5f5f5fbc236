// The host's view of the core (CoreExports in src/machine/Core.ts) is typed by hand; this
// test holds it to the built module: every export the module has is declared, with the
// same kind and, for functions, the same number of parameters, and nothing else is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';

/** Exports the host never touches: the imported memory re-exported, and asc's start stub. */
const NOT_HOST_API = new Set(['memory', '_start']);

/** CoreExports' members from the source: name -> 'global' or the parameter count. */
function declaredExports(): Map<string, 'global' | number> {
  const path = new URL('../../src/machine/Core.ts', import.meta.url);
  const file = ts.createSourceFile('Core.ts', readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const decl = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'CoreExports');
  assert.ok(decl, 'src/machine/Core.ts declares interface CoreExports');
  const out = new Map<string, 'global' | number>();
  for (const m of decl.members) {
    const name = m.name!.getText(file);
    if (ts.isMethodSignature(m)) out.set(name, m.parameters.length);
    else if (ts.isPropertySignature(m) && m.type?.getText(file) === 'WebAssembly.Global') out.set(name, 'global');
    else assert.fail(`CoreExports.${name} is neither a method nor a WebAssembly.Global`);
  }
  return out;
}

describe('CoreExports', () => {
  it('matches the built core module export for export', async () => {
    const module = await loadCoreModule();
    const memory = new WebAssembly.Memory({ initial: 32 });
    const instance = await WebAssembly.instantiate(module, {
      env: { memory, mmioRead: () => 0n, mmioWrite: () => {}, abort: () => {} },
    });
    const actual = new Map<string, 'global' | number>();
    for (const { name, kind } of WebAssembly.Module.exports(module)) {
      if (NOT_HOST_API.has(name)) continue;
      assert.ok(kind === 'function' || kind === 'global', `export ${name} is a ${kind}`);
      actual.set(name, kind === 'global' ? 'global' : (instance.exports[name] as (...a: unknown[]) => unknown).length);
    }
    const declared = declaredExports();
    for (const [name, what] of actual) {
      assert.ok(declared.has(name), `the core exports ${name}, which CoreExports does not declare`);
      assert.equal(declared.get(name), what, `CoreExports.${name}: declared ${declared.get(name)}, the module has ${what}`);
    }
    for (const name of declared.keys()) assert.ok(actual.has(name), `CoreExports declares ${name}, which the core does not export`);
  });
});
