// Saving and restoring a running machine: a 128 MiB guest (OpenSBI + Linux 6.1 + busybox
// initramfs) booted to its shell prompt, then saved to a state file and brought back.
// romvisor: Vm.captureState + encodeMachineState (save), decodeMachineState + a fresh Vm +
// applyState (restore), in this process, with node's zlib as `romvisor boot` uses it. QEMU, same images and -m 128M: `migrate
// "exec:cat > FILE"` on its monitor until `info migrate` says completed (save), and a
// second QEMU started with `-incoming defer` given `migrate_incoming "exec:cat FILE"` until
// `info status` says running (restore). Each restored machine must then answer a command
// on its console, or the row says the outputs do not match. QEMU's migration is throttled
// to 100 Gbit/s (its default is a network's 32 MiB/s); its own "total time" is in the note:
// the monitor reports completion about a second after it (the wall time is the row's).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinInitramfsImages } from '../../src/cli/bootImages.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { decodeMachineState, encodeMachineState } from '../../src/state/MachineStateFile.ts';
import { NODE_CODEC } from '../../src/state/stateFiles.node.ts';
import { benchKernelPath, BUILTIN_SET, qemuInitramfsArgs } from './linuxBoot.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';

const GROUP = 'machine-state';
const RAM_BYTES = 128 << 20;
const PROMPT = '~ # ';
const TIMEOUT_MS = 120_000;

interface Measure {
  saveSeconds: number;
  restoreSeconds: number;
  bytes: number;
  /** The restored machine answered a command on its console. */
  answered: boolean;
  note?: string;
}

/** Runs the Vm until its console shows `want` (after `from` characters), or fails. */
async function runUntilText(vm: Vm, text: () => string, want: string, from = 0): Promise<void> {
  const start = performance.now();
  while (!text().includes(want, from)) {
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`romvisor: no ${JSON.stringify(want)} on the console`);
    const r = vm.run(100);
    if (r.kind === 'idle') await new Promise((res) => setTimeout(res, Math.min(r.wakeInMs ?? 1, 10)));
    else if (r.kind !== 'running') throw new Error(`romvisor: ${r.kind}`);
  }
}

async function romvisorMeasure(): Promise<Measure> {
  const module = await loadCoreModule();
  const images = await builtinInitramfsImages();
  const cfg = { ramBytes: RAM_BYTES, timeMode: 'deterministic' as const, boot: linuxLoader(images) };
  const vm = await Vm.create(module, cfg);
  let text = '';
  vm.onConsole((b) => (text += Buffer.from(b).toString('latin1')));
  await runUntilText(vm, () => text, PROMPT);
  // Where the next input would land: the machine's next WFI, held.
  vm.holdNextWfi = true;
  while (!vm.isHeldAtWfi) vm.run(100);

  const t0 = performance.now();
  const file = await encodeMachineState(await vm.captureState(), { disks: [] }, NODE_CODEC);
  const saveSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const { state } = await decodeMachineState(file, NODE_CODEC);
  const restored = await Vm.create(module, { ...cfg, boot: { load: () => {} } });
  restored.applyState(state);
  const restoreSeconds = (performance.now() - t1) / 1000;

  let out = '';
  restored.onConsole((b) => (out += Buffer.from(b).toString('latin1')));
  restored.sendInput('echo restored-$((6*7))\n');
  await runUntilText(restored, () => out, 'restored-42');
  return { saveSeconds, restoreSeconds, bytes: file.length, answered: true };
}

/** QEMU's human monitor on a unix socket: one command at a time, its reply up to the next prompt. */
class Monitor {
  private buffer = '';
  private waiter: (() => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => {
      this.buffer += d;
      this.waiter?.();
    });
  }

  static async open(path: string): Promise<Monitor> {
    const start = performance.now();
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const m = new Monitor(socket);
        await m.reply();
        return m;
      } catch (e) {
        if (performance.now() - start > 10_000) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private async reply(): Promise<string> {
    while (!this.buffer.includes('(qemu) ')) await new Promise<void>((r) => (this.waiter = r));
    const i = this.buffer.indexOf('(qemu) ');
    const out = this.buffer.slice(0, i);
    this.buffer = this.buffer.slice(i + 7);
    return out;
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\n`);
    return this.reply();
  }

  /** Repeats `line` until its reply matches `done`; returns that reply. */
  async until(line: string, done: RegExp, failed: RegExp): Promise<string> {
    const start = performance.now();
    for (;;) {
      const r = await this.command(line);
      if (done.test(r)) return r;
      if (failed.test(r) || performance.now() - start > TIMEOUT_MS) throw new Error(`QEMU: ${line}: ${r.trim().split('\n').pop()}`);
      await new Promise((res) => setTimeout(res, 2));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function startQemu(args: string[], monitor: string): { q: ChildProcessWithoutNullStreams; console: () => string } {
  const q = spawn('qemu-system-riscv64', ['-display', 'none', '-serial', 'stdio', '-monitor', `unix:${monitor},server,nowait`, ...args]);
  let text = '';
  q.stdout.setEncoding('latin1').on('data', (d: string) => (text += d));
  return { q, console: () => text };
}

async function waitText(text: () => string, want: string, from = 0): Promise<void> {
  const start = performance.now();
  while (!text().includes(want, from)) {
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`QEMU: no ${JSON.stringify(want)} on the console`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function qemuMeasure(dir: string): Promise<Measure> {
  const kernel = await benchKernelPath(BUILTIN_SET, 'Image');
  const args = qemuInitramfsArgs(kernel, '128M');
  const file = join(dir, 'qemu.state');
  const a = startQemu(args, join(dir, 'a.sock'));
  const b = startQemu([...args, '-incoming', 'defer'], join(dir, 'b.sock'));
  let ma: Monitor | undefined;
  let mb: Monitor | undefined;
  try {
    await waitText(a.console, PROMPT);
    ma = await Monitor.open(join(dir, 'a.sock'));
    // QEMU throttles migration to 32 MiB/s by default (a live migration over a network); to
    // a local file it may go as fast as it can, as romvisor's save does.
    await ma.command('migrate_set_parameter max-bandwidth 100G');
    const t0 = performance.now();
    await ma.command(`migrate "exec:cat > ${file}"`);
    const info = await ma.until('info migrate', /Migration status: completed/, /Migration status: failed/);
    const saveSeconds = (performance.now() - t0) / 1000;
    // QEMU's own count of the migration, which ends before the monitor reports it completed.
    const own = /total time: (\d+) ms/.exec(info);

    mb = await Monitor.open(join(dir, 'b.sock'));
    const t1 = performance.now();
    await mb.command(`migrate_incoming "exec:cat ${file}"`);
    await mb.until('info status', /VM status: running/, /VM status: (?:shutdown|internal-error)/);
    const restoreSeconds = (performance.now() - t1) / 1000;
    const from = b.console().length;
    b.q.stdin.write('echo restored-$((6*7))\n');
    await waitText(b.console, 'restored-42', from);
    return { saveSeconds, restoreSeconds, bytes: statSync(file).size, answered: true, note: own ? `QEMU's own migration total time ${own[1]} ms` : undefined };
  } finally {
    ma?.close();
    mb?.close();
    a.q.kill('SIGKILL');
    b.q.kill('SIGKILL');
  }
}

async function attempt(f: () => Promise<Measure>): Promise<Measure> {
  try {
    return await f();
  } catch (e) {
    return { saveSeconds: 0, restoreSeconds: 0, bytes: 0, answered: false, note: (e as Error).message };
  }
}

export const machineStateGroup: BenchGroup = {
  name: GROUP,
  description: 'save and restore of a 128 MiB Linux guest at its shell prompt: romvisor state file vs QEMU migrate "exec:cat > file" / -incoming (same images); seconds and state size',
  async run(log) {
    const dir = mkdtempSync(join(tmpdir(), 'romvisor-bench-state-'));
    try {
      log(`${GROUP}: qemu`);
      const q = await attempt(() => qemuMeasure(dir));
      log(`${GROUP}: romvisor`);
      const r = await attempt(romvisorMeasure);
      const ok = q.answered && r.answered;
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
      const sizes = `state ${mib(r.bytes)} vs QEMU ${mib(q.bytes)} (${(r.bytes / q.bytes).toFixed(2)}x)`;
      const note = [q.note, r.note, sizes].filter((x) => x).join('; ');
      const row = (name: string, rs: number, qs: number): BenchRow => ({
        group: GROUP, name, romvisorSeconds: rs, qemuSeconds: qs, ratio: rs / qs, outputsMatch: ok, note,
      });
      return [row('save 128 MiB at the prompt', r.saveSeconds, q.saveSeconds), row('restore 128 MiB at the prompt', r.restoreSeconds, q.restoreSeconds)];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
