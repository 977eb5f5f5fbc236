/**
 * The firmware stage the virtual server plays at power-on, before the hypervisor's
 * console takes over: memory count, the hypervisor found in flash, the image store and
 * the appliances in it. It runs while the hypervisor itself loads (`ready`).
 */
import { formatBytes } from '../format/formatBytes.ts';
import type { StorageUse } from '../store/index.ts';
import type { Hypervisor } from './Types.ts';

export interface PostOptions {
  write(text: string): void;
  /** Milliseconds between beats; 0 in tests. */
  beatMs: number;
  hostMemoryMiB: number;
  cores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OK = '\x1b[32mOK\x1b[0m';

export async function powerOnSelfTest(ready: Promise<Hypervisor>, o: PostOptions): Promise<Hypervisor> {
  const w = o.write;
  w('\x1b[1mromvisor server firmware\x1b[0m ROM v1.0\r\n');
  w(`\x1b[2mhost: ${o.cores} core(s) · guests: RV64GC in WebAssembly\x1b[0m\r\n\r\n`);
  await sleep(o.beatMs);
  // Count the memory up, the way a POST screen does.
  const steps = 8;
  for (let i = 1; i <= steps; i++) {
    w(`\rMemory test: ${String(Math.round((o.hostMemoryMiB * i) / steps)).padStart(6)} MiB`);
    await sleep(o.beatMs / 3);
  }
  w(` ${OK}\r\n`);
  w('Flash: looking for a hypervisor ...');
  let hv: Hypervisor;
  try {
    hv = await ready;
  } catch (e) {
    w(' \x1b[31mFAILED\x1b[0m\r\n');
    w(`\x1b[31m${(e as Error).message}\x1b[0m\r\nSystem halted.\r\n`);
    throw e;
  }
  const f = hv.firmware;
  w(` found "${f.hypervisorName} ${f.hypervisorVersion}" ${OK}\r\n`);
  await sleep(o.beatMs);
  let use: StorageUse | undefined;
  try {
    use = await hv.storageUse();
  } catch {
    use = undefined;
  }
  w(`Image store: IndexedDB${use ? `, ${formatBytes(use.usage)} of ${formatBytes(use.quota)}` : ''} ${OK}\r\n`);
  await sleep(o.beatMs);
  const list = hv.appliances();
  w(`Appliances in the store: ${list.length}\r\n`);
  for (const a of list) {
    const where = a.boot === 'ram' ? 'in RAM' : a.imageId ? 'stored' : 'not fetched yet';
    w(`  \x1b[36m${a.name.padEnd(10)}\x1b[0m ${formatBytes(a.sizeBytes).padStart(8)}  \x1b[2m${where}\x1b[0m\r\n`);
    await sleep(o.beatMs / 4);
  }
  const vms = hv.vms().length;
  w(`VMs defined: ${vms}\r\n`);
  w(`Guest consoles: ${f.consoleTransport === 'shared-ring' ? 'shared-memory rings' : 'transferred messages'}\r\n\r\n`);
  await sleep(o.beatMs);
  w('Booting hypervisor from flash ...\r\n\r\n');
  await sleep(o.beatMs);
  return hv;
}
