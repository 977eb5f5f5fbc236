// OpenSBI and Linux on a machine with several harts: the firmware finds every hart in the
// device tree and every hart runs it (the ones the kernel does not start stay parked in its
// HSM wait, as under QEMU), the boot reaches the shell, and in deterministic time a
// 2-hart boot replays byte for byte on the same instruction.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { builtinInitramfsImages } from '../../src/cli/bootImages.ts';
import { linuxLoader } from '../../src/boot/linuxBoot.ts';
import { loadCoreModule } from '../../src/machine/coreModule.node.ts';
import { Vm } from '../../src/machine/Vm.ts';
import { runCli } from './runCli.ts';

const PROMPT = '~ # ';
const MAX_INSNS = 4_000_000_000n;

async function bootToPrompt(harts: number): Promise<{ text: string; instructions: bigint; vm: Vm }> {
  const vm = await Vm.create(await loadCoreModule(), { ramBytes: 256 << 20, harts, timeMode: 'deterministic', boot: linuxLoader(await builtinInitramfsImages()) });
  let text = '';
  vm.onConsole((b) => {
    text += Buffer.from(b).toString('latin1');
  });
  while (!text.includes(PROMPT)) {
    assert.ok(vm.core.instructions < MAX_INSNS, `no prompt after ${vm.core.instructions} instructions:\n${text.slice(-1500)}`);
    const o = vm.runUntil({ maxInsns: 10_000_000n, maxMs: Infinity, idle: 'skip' });
    assert.ok(o.kind === 'budget' || o.kind === 'running' || o.kind === 'idle', `${o.kind} before the prompt:\n${text.slice(-1500)}`);
  }
  return { text, instructions: vm.core.instructions, vm };
}

describe('OpenSBI + Linux with several harts', () => {
  it('boot to the shell with 4 harts, every hart in the firmware', async () => {
    const { text, vm } = await bootToPrompt(4);
    assert.match(text, /Platform HART Count\s+: 4/);
    assert.match(text, /Domain0 HARTs\s+: 0\*,1\*,2\*,3\*/);
    assert.match(text, /Linux version 6\.1\./);
    const harts = vm.core.hartStates();
    assert.equal(harts.length, 4);
    assert.ok(harts.slice(1).every((h) => h.priv === 3 && h.pc >= 0x8000_0000n && h.pc < 0x8020_0000n), 'harts 1-3 wait in OpenSBI (M-mode)');
    await vm.dispose();
  });

  it('bring four harts up in Linux: the kernel starts them and /proc/cpuinfo lists four', async () => {
    // The appliance kernel is built without SMP (one hart boots it faster); the stock
    // kernel (appliances/stock, tinyconfig + SMP, as a user would bring it) starts every
    // hart through OpenSBI's HSM.
    const stock = (f: string) => fileURLToPath(new URL(`../../appliances/stock/${f}`, import.meta.url));
    const script = join(mkdtempSync(join(tmpdir(), 'romvisor-smp-')), 'cpus.json');
    writeFileSync(script, JSON.stringify([
      { expect: '# ', timeout: 300 },
      { send: 'echo cpus=$(grep -c ^processor /proc/cpuinfo) harts=$(grep ^hart /proc/cpuinfo | tr -dc 0-9)\n' },
      { expect: { regex: 'cpus=\\d+ harts=\\d*\\r' } },
      { send: 'poweroff -f\n' },
      { expect: 'reboot: Power down' },
    ]));
    const r = await runCli(['boot', '--kernel', stock('Image.gz'), '--initrd', stock('initramfs.cpio.gz'), '--append', 'console=ttyS0',
      '--smp', '4', '--time', 'deterministic', '--script', script], { timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    assert.match(r.stdout, /smp: Brought up 1 node, 4 CPUs/);
    assert.match(r.stdout, /cpus=4 harts=0123\r/);
  });

  it('take console input in realtime while a hart the kernel never starts spins in the firmware', async () => {
    // The built-in kernel runs one hart; OpenSBI keeps hart 1 in its HSM wait, where a
    // pending IPI makes its WFI return at once (as under QEMU). Hart 0 idling is enough
    // for the console to take input.
    const r = await runCli(['boot', '--smp', '2'], { input: 'echo hello-$((6*7))\npoweroff -f\n', timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    assert.match(r.stdout, /hello-42/);
  });

  it('take scripted input in deterministic time with that hart spinning, on the same instruction every run', async () => {
    // Before, input waited for every hart to idle, which the spinning hart never does: the
    // script timed out at its first send. Now a sleeping hart takes it at the input grid.
    const script = join(mkdtempSync(join(tmpdir(), 'romvisor-smp-')), 'det.json');
    writeFileSync(script, JSON.stringify([
      { expect: PROMPT, timeout: 120 },
      { send: 'echo det-$((6*7)); cat /proc/uptime\n' },
      { expect: 'det-42' },
      { send: 'poweroff -f\n' },
      { expect: 'reboot: Power down' },
    ]));
    const run = () => runCli(['boot', 'base', '--snapshot', '--smp', '2', '--time', 'deterministic', '--script', script], { timeoutMs: 300_000 });
    const first = await run();
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-1500));
    const second = await run();
    assert.equal(second.stdout, first.stdout, 'the same bytes, uptime included');
  });

  it('replays a deterministic 2-hart boot byte for byte, on the same instruction', async () => {
    const a = await bootToPrompt(2);
    const b = await bootToPrompt(2);
    assert.ok(a.text.length > 5000, 'the log holds the whole boot');
    assert.equal(a.text, b.text);
    assert.equal(a.instructions, b.instructions);
    await a.vm.dispose();
    await b.vm.dispose();
  });
});
