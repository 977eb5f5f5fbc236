/**
 * The firmware stage the virtual server plays at power-on, before the hypervisor's
 * console takes over: host memory as the browser reports it, the hypervisor found in
 * flash, the image store, the appliances in it and the RAM the VMs ask for. It runs
 * while the hypervisor itself loads (`ready`).
 */
import { escapeControl } from '../format/escapeControl.ts';
import { formatBytes } from '../format/formatBytes.ts';
import type { StorageUse } from '../store/index.ts';
import type { Hypervisor } from './Types.ts';

export interface PostOptions {
  write(text: string): void;
  /** Milliseconds between beats; 0 in tests. */
  beatMs: number;
  /** navigator.deviceMemory: the browser's rounded (and capped) GiB figure; undefined where it has none. */
  deviceMemoryGiB: number | undefined;
  cores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OK = '\x1b[32mOK\x1b[0m';

export async function powerOnSelfTest(ready: Promise<Hypervisor>, o: PostOptions): Promise<Hypervisor> {
  const w = o.write;
  w('\x1b[1mromvisor server firmware\x1b[0m ROM v1.0\r\n');
  w(`\x1b[2mhost: ${o.cores} core(s) · guests: RV64GC in WebAssembly\x1b[0m\r\n\r\n`);
  await sleep(o.beatMs);
  // Only figures a user can check: the browser's own (rounded) device-memory figure, and
  // below, the RAM the defined VMs ask for. The page cannot measure or test host memory.
  w(
    o.deviceMemoryGiB
      ? `Host memory: about ${o.deviceMemoryGiB} GiB \x1b[2m(the browser's rounded figure)\x1b[0m\r\n`
      : 'Host memory: not reported by this browser\r\n',
  );
  w('Flash: looking for a hypervisor ...');
  let hv: Hypervisor;
  try {
    hv = await ready;
  } catch (e) {
    w(' \x1b[31mFAILED\x1b[0m\r\n');
    w(`\x1b[31m${escapeControl((e as Error).message)}\x1b[0m\r\nSystem halted.\r\n`);
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
    w(`  \x1b[36m${escapeControl(a.name).padEnd(10)}\x1b[0m ${formatBytes(a.sizeBytes).padStart(8)}  \x1b[2m${where}\x1b[0m\r\n`);
    await sleep(o.beatMs / 4);
  }
  const vms = hv.vms();
  const ram = vms.reduce((n, v) => n + v.record.memoryMiB, 0);
  w(`VMs defined: ${vms.length}${vms.length ? `, ${ram} MiB of guest RAM between them` : ''}\r\n`);
  w(`Guest consoles: ${f.consoleTransport === 'shared-ring' ? 'shared-memory rings' : 'transferred messages'}\r\n`);
  w(`JIT tier: ${f.jit} \x1b[2m(VMs without a setting of their own)\x1b[0m\r\n\r\n`);
  await sleep(o.beatMs);
  w('Booting hypervisor from flash ...\r\n\r\n');
  await sleep(o.beatMs);
  return hv;
}
