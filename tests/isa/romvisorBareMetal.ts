// Loads romvisor's bare-metal runner (src/boot/bareMetal.ts) for the tests and benchmarks
// that compare it with QEMU. Loaded at run time, so a checkout where the module is not
// written yet still builds, and each test that needs it fails with a clear message.
//
// XXX: the types below restate the contract from the task brief; once src/boot/ exports
// them, import them from there instead.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BareMetalResult {
  outcome: 'pass' | 'fail' | 'poweroff' | 'budget' | 'fault';
  exitCode: number;
  failedTest?: number;
  uart: string;
  instructions: bigint;
  pc: bigint;
}

export type RunBareMetal = (elf: Uint8Array, opts?: { maxInstructions?: bigint }) => Promise<BareMetalResult>;

const modulePath = fileURLToPath(new URL('../../src/boot/bareMetal.ts', import.meta.url));
let loaded: Promise<RunBareMetal> | undefined;

export function loadRunBareMetal(): Promise<RunBareMetal> {
  loaded ??= (async () => {
    if (!existsSync(modulePath)) {
      throw new Error(`romvisor cannot run bare-metal ELFs yet: ${modulePath} does not exist`);
    }
    const mod = (await import(pathToFileURL(modulePath).href)) as { runBareMetal?: RunBareMetal };
    if (typeof mod.runBareMetal !== 'function') {
      throw new Error(`${modulePath} does not export runBareMetal`);
    }
    return mod.runBareMetal;
  })();
  return loaded;
}
