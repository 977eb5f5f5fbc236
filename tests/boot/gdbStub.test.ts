// gdb attaches to romvisor as to QEMU: `romvisor boot -bios none -kernel K -S -gdb tcp::PORT`
// with the teaching kernel (tests/boot/teachkernel), driven by Debian's `gdb-multiarch
// -batch` as a student would type it. gdb must see the kernel stopped at the reset vector,
// break on a kernel function, read registers, CSRs and a variable, step, catch a write with
// a hardware watchpoint, read memory, and detach; the kernel then runs to its end as if
// nobody had looked (its counter adds up, its disk is written).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ElfImage } from '../../src/boot/ElfImage.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { ROMVISOR } from './runCli.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const KERNEL = join(here, '..', '..', 'build', 'teachkernel', 'kernel.elf');

let dir: string;
let cleanup: () => void;
before(() => {
  execFileSync('node', [join(here, 'build.mjs')], { stdio: 'inherit' });
  ({ dir, cleanup } = tempDir('gdb'));
});
after(() => cleanup());

/** The bits of a double, as the kernel reads them with fmv.x.d. */
const doubleBits = (d: number) => new BigUint64Array(new Float64Array([d]).buffer)[0]!;

interface Session {
  gdb: string;
  console: string;
  stderr: string;
  code: number | null;
}

/** Boots the kernel halted (-S) on an ephemeral port, runs gdb's `commands` against it, then waits for the run to end. */
async function debugSession(commands: string[], extraArgs: string[] = []): Promise<Session> {
  const child = spawn(process.execPath, [ROMVISOR, 'boot', '-machine', 'virt', '-bios', 'none', '-kernel', KERNEL, '-nographic', '-S', '-gdb', 'tcp::0', ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let console = '';
  let stderr = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (console += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no gdb port announced: ${stderr}`)), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /waiting for gdb on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const script = join(dir, `gdb-${port}.cmd`);
  writeFileSync(script, ['set pagination off', 'set confirm off', `target remote 127.0.0.1:${port}`, ...commands, ''].join('\n'));
  let gdb: string;
  try {
    gdb = execFileSync('gdb-multiarch', ['-batch', '-nx', '-x', script, KERNEL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    child.kill('SIGKILL');
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`gdb failed:\n${err.stdout}\n${err.stderr}\nromvisor: ${stderr}`);
  }
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { gdb, console, stderr, code };
}

describe('the gdb stub (-S -gdb tcp::PORT) with gdb-multiarch', () => {
  it('breaks on a kernel function, reads registers and a variable, steps, watches a write, reads memory, detaches', async () => {
    const disk = join(dir, 'fs.img');
    writeFileSync(disk, new Uint8Array(64 * 1024));
    const s = await debugSession(
      [
        'info registers pc',
        'break count_up',
        'continue',
        'print counter',
        'print times',
        'info registers mhartid',
        'info registers mstatus',
        'info registers priv',
        // From the debugger into the hart: the kernel reads both back in observe().
        'set $ft0.double = 2.5',
        'set $mscratch = 0x1234abcd',
        'set $priv = 1',
        'info registers priv',
        'set $priv = 3',
        'print $ft0.double',
        'info registers mscratch',
        'stepi',
        'info registers pc',
        'next',
        'watch counter',
        'continue',
        'delete',
        'break observed',
        'continue',
        'delete',
        'print/x *(unsigned int *)0x80000000',
        'info threads',
        'detach',
      ],
      ['-drive', `file=${disk},format=raw`],
    );
    const g = s.gdb;
    // Halted at the reset vector, where QEMU's virt board starts a hart.
    assert.match(g, /^pc\s+0x1000\s/m);
    assert.match(g, /Breakpoint 1, count_up \(times=times@entry=1000\) at .*kernel\.c:\d+/);
    assert.match(g, /^\$1 = 0$/m, 'the counter before any hart added to it');
    assert.match(g, /^\$2 = 1000$/m, "count_up's argument");
    assert.match(g, /^mhartid\s+0x0\s+0$/m);
    assert.match(g, /^mstatus\s+0x[0-9a-f]+/m);
    assert.match(g, /^priv\s+0x3\s+prv:3 \[Machine\]$/m);
    const bp = /Breakpoint 1 at (0x[0-9a-f]+)/.exec(g)?.[1];
    const stepped = /^pc\s+(0x[0-9a-f]+)\s/m.exec(g.slice(g.indexOf('$2 = 1000')))?.[1];
    assert.ok(bp && stepped, g);
    assert.ok(BigInt(stepped) > BigInt(bp) && BigInt(stepped) <= BigInt(bp) + 4n, `stepi moved from ${bp} to ${stepped}`);
    assert.match(g, /^\$3 = 2\.5$/m, 'ft0 as gdb wrote it');
    assert.match(g, /^mscratch\s+0x1234abcd\s/m);
    assert.match(g, /^priv\s+0x1\s+prv:1 \[Supervisor\]$/m, 'gdb set priv (and set it back: the kernel finishes below)');
    assert.match(g, /Hardware watchpoint 2: counter\s+Old value = 0\s+New value = 1/);
    // The kernel's own csrr mscratch and fmv.x.d ft0, passed to observed().
    assert.match(g, new RegExp(`Breakpoint 3, observed \\(hart=(?:hart@entry=)?0, mscratch=${0x1234abcd}, ft0=${doubleBits(2.5)}\\)`));
    // The first word of the kernel, read through the stub, is the ELF's.
    const elf = ElfImage.parse(new Uint8Array(readFileSync(KERNEL)));
    const text = elf.segments.find((seg) => seg.paddr === 0x8000_0000n)!;
    const word = new DataView(text.data.buffer, text.data.byteOffset).getUint32(0, true);
    assert.match(g, new RegExp(`^\\$4 = 0x${word.toString(16)}$`, 'm'));
    assert.match(g, /\* 1\s+Thread 1 \(hart 0, M-mode\)/);
    assert.match(g, /Inferior 1 \(Remote target\) detached/);
    // Left alone, the kernel finishes as it would have without the debugger.
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.console, /counter: 1000 \(as expected\)\n/);
    assert.match(s.console, /disk: boot count 1 written\n/);
    assert.equal(new DataView(readFileSync(disk).buffer).getUint32(1024, true), 1);
  });

  it("shows each hart as a thread (-smp 3) with all its registers, and writes a waiting hart's CSR and FP register", async () => {
    const perThread = [1, 2, 3].flatMap((t) => [
      `thread ${t}`,
      'info registers sp',
      'print $mhartid',
      // Each hart gets its own values; each reads them back in observe(), after count_up.
      `set $mscratch = ${0xa0 + t - 1}`,
      `set $ft0.double = ${t - 1}.5`,
    ]);
    const s = await debugSession(
      ['info threads', 'break count_up', 'continue', 'delete', 'info threads', 'print/x (unsigned long)&stacks', ...perThread, 'thread 2', 'info registers pc', 'break observed', 'continue', 'continue', 'continue', 'delete', 'detach'],
      ['-smp', '3'],
    );
    const g = s.gdb;
    for (const h of [0, 1, 2]) assert.match(g, new RegExp(`${h + 1}\\s+Thread ${h + 1} \\(hart ${h}, M-mode\\) 0x0000000000001000 in \\?\\? \\(\\)`), 'every hart starts at the reset vector');
    assert.match(g, /Thread (\d) hit Breakpoint 1, count_up/);
    const stacks = BigInt(/^\$1 = (0x[0-9a-f]+)$/m.exec(g)?.[1] ?? 'missing');
    // Each thread's own sp (inside its own 4 KiB stack, entry.S) and mhartid, read while
    // only one of them is the hart that stopped.
    const shown = g.split('[Switching to thread ').slice(1, 4);
    assert.equal(shown.length, 3, g);
    shown.forEach((chunk, h) => {
      assert.match(chunk, new RegExp(`^${h + 1} \\(Thread ${h + 1}\\)\\]`));
      const sp = BigInt(/^sp\s+(0x[0-9a-f]+)\s/m.exec(chunk)?.[1] ?? 'missing');
      assert.ok(sp > stacks + BigInt(4096 * h) && sp <= stacks + BigInt(4096 * (h + 1)), `hart ${h}: sp ${sp.toString(16)} outside its stack at ${stacks.toString(16)}`);
      assert.match(chunk, new RegExp(`^\\$${h + 2} = ${h}$`, 'm'), `thread ${h + 1}'s mhartid`);
      assert.doesNotMatch(chunk, /<unavailable>/);
    });
    assert.match(g, /^pc\s+0x8[0-9a-f]{7}\s/m);
    // Every hart saw the values gdb gave it, whether it was the stopped one or not.
    const seen = [...g.matchAll(/Breakpoint 2, observed \(hart=(?:hart@entry=)?(\d), mscratch=(\d+), ft0=(\d+)\)/g)];
    assert.equal(seen.length, 3, g);
    assert.deepEqual(
      seen.map((m) => Number(m[1])).sort(),
      [0, 1, 2],
    );
    for (const [, hart, mscratch, ft0] of seen) {
      assert.equal(Number(mscratch), 0xa0 + Number(hart), `hart ${hart}'s mscratch`);
      assert.equal(BigInt(ft0!), doubleBits(Number(hart) + 0.5), `hart ${hart}'s ft0`);
    }
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.console, /counter: 3000 \(as expected\)\n/);
  });

  it('resumes only the harts gdb names: scheduler-locking continues one hart, stepi moves the chosen hart alone (-smp 3)', async () => {
    const s = await debugSession(
      [
        'set scheduler-locking on',
        'break start',
        'continue',
        'info threads',
        // RISC-V gdb steps in software (a breakpoint after the instruction, then a
        // continue): with scheduler-locking it continues that thread alone (vCont;c:N).
        'thread 3',
        'stepi',
        'info threads',
        'thread 2',
        'stepi',
        'info threads',
        'delete',
        'detach',
      ],
      ['-smp', '3'],
    );
    const g = s.gdb;
    const snapshots = g.split(/\n(?=\s+Id\s+Target Id)/).slice(1);
    assert.equal(snapshots.length, 3, g);
    // What `info threads` shows after each hart's "(hart N, M-mode) ": an address, or where in the kernel.
    const where = snapshots.map((t) => [1, 2, 3].map((n) => new RegExp(`^\\*?\\s*${n}\\s+Thread ${n} \\(hart ${n - 1}, M-mode\\) (.*)$`, 'm').exec(t)?.[1]));
    // Only thread 1 ran, to start(); the others wait at the reset vector.
    assert.match(g, /Breakpoint 1, start \(hart=0/);
    assert.match(where[0]![0] ?? '', /^start \(hart=0/, snapshots[0]);
    assert.deepEqual(where[0]!.slice(1), ['0x0000000000001000 in ?? ()', '0x0000000000001000 in ?? ()'], `threads 2 and 3 did not run:\n${snapshots[0]}`);
    // stepi on thread 3, then on thread 2: one instruction of that hart, nothing of the others.
    assert.deepEqual(where[1], [where[0]![0], '0x0000000000001000 in ?? ()', '0x0000000000001004 in ?? ()'], snapshots[1]);
    assert.deepEqual(where[2], [where[0]![0], '0x0000000000001004 in ?? ()', '0x0000000000001004 in ?? ()'], snapshots[2]);
    // Let go, the three harts finish the kernel as if nobody had looked.
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.console, /counter: 3000 \(as expected\)\n/);
  });

  it('stops guest time while gdb holds the guest (realtime), as QEMU stops its clock', async () => {
    const s = await debugSession(['break count_up', 'continue', 'print $time', 'shell sleep 2', 'stepi', 'print $time', 'delete', 'detach']);
    const before = BigInt(/^\$1 = (\d+)$/m.exec(s.gdb)?.[1] ?? 'missing');
    const after = BigInt(/^\$2 = (\d+)$/m.exec(s.gdb)?.[1] ?? 'missing');
    // 10 MHz: two seconds held would be 20,000,000 ticks; one instruction is far below 1 ms.
    assert.ok(after >= before && after - before < 10_000n, `time moved ${after - before} ticks across 2 s held and one stepi:\n${s.gdb}`);
    assert.equal(s.code, 0, s.stderr);
  });

  it('ends the run when gdb kills the target', async () => {
    const s = await debugSession(['break start', 'continue', 'kill']);
    assert.match(s.gdb, /Breakpoint 1, start \(hart=0/);
    assert.equal(s.code, 0);
    assert.match(s.stderr, /killed by gdb/);
    assert.doesNotMatch(s.console, /teaching kernel done/);
  });
});
