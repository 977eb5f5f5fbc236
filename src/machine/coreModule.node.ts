/** Node: compiles build/wasm/core.wasm once per process (ROMVISOR_WASM=debug picks the debug build). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let cached: Promise<WebAssembly.Module> | undefined;

export function coreWasmPath(): string {
  const name = process.env.ROMVISOR_WASM === 'debug' ? 'core.debug.wasm' : 'core.wasm';
  return fileURLToPath(new URL(`../../build/wasm/${name}`, import.meta.url));
}

export function loadCoreModule(): Promise<WebAssembly.Module> {
  cached ??= (async () => {
    const path = coreWasmPath();
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new Error(`the wasm core is not built (${path} is missing): run "npm run build:wasm"`);
    }
    return WebAssembly.compile(new Uint8Array(bytes));
  })();
  return cached;
}
