// Boots Debian's OpenSBI, the project's Linux 6.1 and the busybox initramfs through the
// CLI, as a user would, and talks to the shell over the serial console.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-boot-'));
/** These tests boot the kernel and busybox initramfs directly (no appliance disk). */
const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const KERNEL = repo('appliances/boot/Image.gz');
const INITRAMFS = ['--kernel', KERNEL, '--initrd', repo('appliances/boot/initramfs.cpio.gz')];
function scriptFile(name: string, steps: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(steps));
  return path;
}

const shellSession = scriptFile('session.json', [
  { expect: '~ # ', timeout: 120 },
  { send: 'uname -a\n' },
  { expect: 'riscv64 GNU/Linux' },
  { send: 'cat /proc/cpuinfo\n' },
  { expect: { regex: 'isa\\s+: rv64imafdc' } },
  { send: 'fpcheck\n' },
  { expect: 'fpcheck: ok pi=3.14159265358979' },
  { send: 'echo status=$?\n' },
  { expect: 'status=0' },
  { send: 'poweroff -f\n' },
  { expect: 'reboot: Power down' },
]);

describe('Linux boot to a busybox shell', () => {
  it('runs uname, /proc/cpuinfo and a floating-point program, then powers off with exit 0', async () => {
    const r = await runCli(['boot', ...INITRAMFS, '--time', 'deterministic', '--script', shellSession]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    assert.match(r.stdout, /OpenSBI v1\.1/);
    assert.match(r.stdout, /Linux version 6\.1\./);
    assert.match(r.stdout, /Linux romvisor 6\.1\.\d+ .* riscv64 GNU\/Linux/);
    assert.match(r.stdout, /mmu\s+: sv39/);
    assert.match(r.stdout, /fpcheck: ok/);
  });

  it('prints byte-identical console logs on two deterministic runs', async () => {
    const a = await runCli(['boot', ...INITRAMFS, '--time', 'deterministic', '--script', shellSession]);
    const b = await runCli(['boot', ...INITRAMFS, '--time', 'deterministic', '--script', shellSession]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(a.stdout.length > 5000, 'the log holds the whole boot');
    assert.equal(a.stdout, b.stdout);
  });

  it('takes piped stdin as console input, as qemu -nographic does', async () => {
    const r = await runCli(['boot', ...INITRAMFS], { input: 'uname -m\necho piped-$((6*7))\npoweroff -f\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /piped-42/);
  });

  it('fails a script step with exit 1 and a timed-out expect with exit 3', async () => {
    const failing = scriptFile('fails.json', [{ expect: '~ # ', timeout: 120 }, { send: 'poweroff -f\n' }, { expect: 'never printed' }]);
    const r1 = await runCli(['boot', ...INITRAMFS, '--time', 'deterministic', '--script', failing]);
    assert.equal(r1.code, 1, r1.stderr);
    assert.match(r1.stderr, /powered off before script step 3/);

    const slow = scriptFile('slow.json', [{ expect: 'this text never appears', timeout: 3 }]);
    const r3 = await runCli(['boot', ...INITRAMFS, '--script', slow]);
    assert.equal(r3.code, 3, r3.stderr);
    assert.match(r3.stderr, /step 1 failed: timed out after 3 s/);
    assert.match(r3.stderr, /pc 0x[0-9a-f]+ in [MSU]-mode after \d+ instructions; last trap/);
  });

  it('reports a hung guest with pc, privilege and last trap, and exits 3', async () => {
    // init is a sleep: the guest idles, silent, and nothing else ends the run.
    const r = await runCli(['boot', ...INITRAMFS, '--append', 'console=ttyS0 rdinit=/bin/sleep -- 86400', '--hang-timeout', '4']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /Run \/bin\/sleep as init process/);
    assert.match(r.stderr, /no console output for 4 s; the guest looks hung\n {2}pc 0x[0-9a-f]+ in [MSU]-mode/);
  });

  it('ends a guest whose kernel panics with exit 1 and the panic line, with no --hang-timeout', async () => {
    // No initrd and no disk: the kernel panics ("Unable to mount root fs").
    const r = await runCli(['boot', '--kernel', KERNEL, '--initrd', 'none'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the guest panicked: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)\n$/);
  });
});

describe('a guest that executes garbage', () => {
  it('is reported as crashed, with pc, privilege and its repeating trap, and exits 1', async () => {
    // A real Image header (so the boot is accepted) followed by random bytes.
    const image = gunzipSync(readFileSync(KERNEL));
    let seed = 7;
    const junk = Buffer.alloc(64 * 1024, 0).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    const garbage = join(dir, 'garbage-Image');
    writeFileSync(garbage, Buffer.concat([image.subarray(0, 64), junk]));
    const r = await runCli(['boot', '--kernel', garbage, '--initrd', 'none']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the guest crashed: it is stuck taking exceptions\n {2}pc 0x[0-9a-f]+ in [MSU]-mode after \d+ instructions; last trap: exception \d+ at pc 0x[0-9a-f]+/);
  });
});

describe('romvisor boot rejects bad input with exit 2', () => {
  it('names a kernel that is not a RISC-V Image', async () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(4096, 0x5a));
    const r = await runCli(['boot', '--kernel', junk]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /kernel: no RISC-V Image header \(magic2 at 0x38 is 0x5a5a5a5a/);
  });

  it('refuses less than the minimum RAM and malformed sizes', async () => {
    assert.match((await runCli(['boot', '--mem', '32M'])).stderr, /--mem 32M is below the minimum of 64M/);
    const r = await runCli(['boot', '--mem', 'lots']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mem "lots" is not a size/);
  });

  it('names the bad step of a malformed script', async () => {
    const bad = scriptFile('bad.json', [{ expect: 'x' }, { send: 5 }]);
    const r = await runCli(['boot', '--script', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.json\[1\]\.send: must be a string, got 5/);
  });
});
