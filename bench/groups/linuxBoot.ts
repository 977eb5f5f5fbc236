// Linux boot to the busybox prompt: the same OpenSBI fw_dynamic, Image and initramfs
// booted by romvisor (the Vm class, in this process, realtime and deterministic time) and
// by `qemu-system-riscv64 -M virt`, timed from start to the first "~ # " on the console.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BUILTIN, builtinInitramfsImages, DEFAULT_BOOTARGS, readMaybeGzip } from '../../src/cli/bootImages.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm, type TimeMode } from '../../src/machine/Vm.ts';
import { qemuToPrompt } from '../qemuToPrompt.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import type { JitMode, JitStats } from '../../src/jit/Jit.ts';
import { jitView } from '../../src/machine/jitView.ts';
import { jitPageFigures, type JitPageFigures } from '../jitPageFigures.ts';

const PROMPT = '~ # ';
const MEMORY = '256M';
const RAM_BYTES = 256 << 20;
const TIMEOUT_MS = 120_000;

export interface Boot {
  seconds: number;
  instructions?: bigint;
  ok: boolean;
  note?: string;
  jit?: JitStats;
  jitPages?: JitPageFigures;
}

/** What a boot group boots: the same files on both machines. */
export interface BootSet {
  firmware: string;
  /** Image or Image.gz (QEMU gets it gunzipped, from build/bench/). */
  kernel: string;
  initrd: string;
  bootargs: string;
  /** What the console shows when the shell is ready. */
  prompt: string;
}

/** The built-in firmware, kernel and busybox initramfs. */
export const BUILTIN_SET: BootSet = { ...BUILTIN, bootargs: DEFAULT_BOOTARGS, prompt: PROMPT };

/** Boots `set` (the built-in images by default) on romvisor to its prompt; `harts` as --smp, `jit` as --jit. */
export async function bootRomvisor(timeMode: TimeMode, harts = 1, jit: JitMode = 'off', set: BootSet = BUILTIN_SET): Promise<Boot> {
  const images = set === BUILTIN_SET
    ? await builtinInitramfsImages()
    : { firmware: new Uint8Array(await readFile(set.firmware)), kernel: await readMaybeGzip(set.kernel), initrd: new Uint8Array(await readFile(set.initrd)), bootargs: set.bootargs };
  const module = await loadCoreModule();
  const start = performance.now();
  const vm = await Vm.create(module, { ramBytes: RAM_BYTES, harts, timeMode, boot: linuxLoader(images), jit });
  let text = '';
  vm.onConsole((b) => {
    text += Buffer.from(b).toString('latin1');
  });
  while (!text.includes(set.prompt)) {
    if (performance.now() - start > TIMEOUT_MS) return { seconds: TIMEOUT_MS / 1000, ok: false, note: 'romvisor: no prompt' };
    const r = vm.run(100);
    if (r.kind === 'idle') {
      // Deterministic idle points come back with wakeInMs 0: no need to sleep there.
      const ms = Math.min(r.wakeInMs ?? 1, 10);
      await new Promise((res) => (ms > 0 ? setTimeout(res, ms) : setImmediate(res)));
    } else if (r.kind !== 'running') return { seconds: 0, ok: false, note: `romvisor: ${r.kind} before the prompt` };
  }
  return { seconds: (performance.now() - start) / 1000, instructions: vm.core.instructions, ok: true, jit: vm.core.jitStats(), jitPages: jitPageFigures(jitView(vm.core, undefined, undefined)) };
}

/** The initramfs boot as QEMU runs it: the same firmware, Image, initrd and command line. */
export function qemuInitramfsArgs(kernelPath: string, memory = MEMORY, set: BootSet = BUILTIN_SET): string[] {
  return ['-M', 'virt', '-m', memory, '-bios', set.firmware, '-kernel', kernelPath, '-initrd', set.initrd, '-append', set.bootargs];
}

/** Best of three runs, to keep one-off scheduling noise on a shared machine out. */
export async function bestOfThree(f: () => Promise<Boot>): Promise<Boot> {
  let b: Boot | undefined;
  for (let i = 0; i < 3; i++) {
    const r = await f();
    if (!r.ok) return r;
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

/** The uncompressed Image in build/bench/ (QEMU 7.2 boots only that), written once per run. */
export async function benchKernelPath(set: BootSet = BUILTIN_SET, name = 'Image'): Promise<string> {
  const dir = fileURLToPath(new URL('../../build/bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const kernelPath = `${dir}${name}`;
  writeFileSync(kernelPath, await readMaybeGzip(set.kernel));
  return kernelPath;
}

/** A row for one boot on QEMU (`q`) and romvisor (`r`), with the ratio when both reached the prompt. */
export function bootRow(group: string, name: string, q: Boot, r: Boot): BenchRow {
  const row: BenchRow = { group, name, qemuSeconds: q.seconds, outputsMatch: q.ok && r.ok, note: q.note ?? r.note };
  if (r.ok) {
    row.instructions = r.instructions;
    row.romvisorSeconds = r.seconds;
    row.romvisorMips = Number(r.instructions) / r.seconds / 1e6;
    row.ratio = r.seconds / q.seconds;
  }
  return row;
}

/**
 * One bench row per time mode: `set` to its prompt on QEMU and on romvisor with the
 * interpreter and with --jit auto, best of three each.
 */
export async function bootRows(group: string, set: BootSet, kernelName: string, log: (line: string) => void): Promise<BenchRow[]> {
  const kernelPath = await benchKernelPath(set, kernelName);
  const rows: BenchRow[] = [];
  log(`${group}: qemu`);
  const q = await bestOfThree(() => qemuToPrompt(qemuInitramfsArgs(kernelPath, MEMORY, set), set.prompt));
  for (const mode of ['realtime', 'deterministic'] as const) {
    log(`${group}: romvisor (${mode})`);
    const r = await bestOfThree(() => bootRomvisor(mode, 1, 'off', set));
    const row = bootRow(group, `boot-to-shell (${mode})`, q, r);
    log(`${group}: romvisor --jit auto (${mode})`);
    const j = await bestOfThree(() => bootRomvisor(mode, 1, 'auto', set));
    if (!j.ok) row.note ??= j.note;
    row.outputsMatch &&= j.ok;
    if (j.ok) {
      row.jitSeconds = j.seconds;
      row.jitMips = Number(j.instructions) / j.seconds / 1e6;
      row.jitRatio = j.seconds / q.seconds;
      row.jit = j.jit;
      row.jitPages = j.jitPages;
    }
    rows.push(row);
  }
  return rows;
}

export const linuxBootGroup: BenchGroup = {
  name: 'linux-boot',
  description: 'OpenSBI + Linux 6.1 + busybox initramfs to the shell prompt, romvisor (interpreter, and --jit auto) vs QEMU (same images, -m 256M)',
  run: (log) => bootRows('linux-boot', BUILTIN_SET, 'Image', log),
};
