// The guest's console is a virtio-console (hvc0) that carries the terminal's size: in
// deterministic time it is 80x24 whatever the terminal (so runs print the same bytes),
// --console-size or a scenario's consoleSize fix another; TERM is what xterm.js emulates.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guestConsoleOf } from '../../src/machine/Vm.ts';
import { runCli, writeScript } from './runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-console-size-'));
const SCRIPT = [
  { expect: '~ # ', timeout: 120 },
  { send: 'echo size=$(stty size) term=$TERM tty=$(tty)\n' },
  { expect: 'tty=/dev/' },
  { send: 'poweroff\n' },
  { expect: 'reboot: Power down' },
];
const TIMEOUT = { timeoutMs: 300_000 };

describe('the guest console knows its size (virtio-console)', () => {
  it('is 80x24 with TERM=xterm-256color in deterministic time', async () => {
    const r = await runCli(['boot', 'base', '--time', 'deterministic', '--script', writeScript(dir, 'size', SCRIPT)], TIMEOUT);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /size=24 80 term=xterm-256color tty=\/dev\/hvc0/);
    assert.doesNotMatch(r.stdout, /Resource temporarily unavailable/);
  });

  it('takes --console-size, and a scenario\'s consoleSize', async () => {
    const r = await runCli(['boot', 'base', '--time', 'deterministic', '--console-size', '132x43', '--script', writeScript(dir, 'size2', SCRIPT)], TIMEOUT);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /size=43 132 term=xterm-256color/);
    const scenario = join(dir, 'scenario.json');
    writeFileSync(scenario, JSON.stringify({ version: 1, guests: [{ appliance: { builtin: 'base' }, time: 'deterministic', consoleSize: { cols: 100, rows: 30 }, script: SCRIPT }] }));
    const s = await runCli(['boot', scenario], TIMEOUT);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /size=30 100 term=xterm-256color/);
  });

  it('keeps input typed during boot for the virtio console (piped stdin, realtime)', async () => {
    const r = await runCli(['boot', 'base', '--snapshot', '--hang-timeout', '120'], { ...TIMEOUT, input: 'echo piped-$((6*7)) $(stty size)\npoweroff\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\npiped-42 24 80\r?\n/);
    assert.match(r.stdout, /reboot: Power down/);
  });

  it('reads which console the guest uses from its command line (the last console=)', () => {
    assert.equal(guestConsoleOf('console=hvc0 earlycon=sbi keep_bootcon root=/dev/vda2'), 'virtio');
    assert.equal(guestConsoleOf('console=hvc0 root=/dev/vda2 console=ttyS0,115200'), 'uart');
    assert.equal(guestConsoleOf('console=ttyS0 console=hvc0'), 'virtio');
    // Disks made before the SBI hvc console left the kernel keep their virtio console on hvc1.
    assert.equal(guestConsoleOf('console=hvc1 earlycon=sbi keep_bootcon root=/dev/vda2'), 'virtio');
    assert.equal(guestConsoleOf('root=/dev/vda2'), undefined);
    assert.equal(guestConsoleOf('console=hvc2'), undefined);
    assert.equal(guestConsoleOf('console=hvc10'), undefined);
  });

  it('refuses a malformed --console-size', async () => {
    const r = await runCli(['boot', 'base', '--console-size', '80by24']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--console-size "80by24" is not COLSxROWS/);
  });
});
