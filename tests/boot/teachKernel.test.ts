// QEMU's bare-kernel boot, as an operating-systems course runs it: the project's teaching
// kernel (tests/boot/teachkernel, built by build.mjs) with a raw disk, booted by
// `qemu-system-riscv64` and by `romvisor boot` with the very same flags. Console output and
// the disk's bytes afterwards must be identical, and must say what the kernel did.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiskLock } from '../../src/disk/node.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { runCli } from './runCli.ts';
import { buildTeachKernel } from './teachKernelElf.ts';

const SECTOR = 512;
const DISK_BYTES = 64 * 1024;
const SECTOR0_TEXT = 'ROMVISOR TEACHING DISK\n';

let dir: string;
let cleanup: () => void;
let kernel: string;
let pristine: string;

before(() => {
  kernel = buildTeachKernel();
  ({ dir, cleanup } = tempDir('teach-kernel'));
  const disk = new Uint8Array(DISK_BYTES);
  disk.set(new TextEncoder().encode(SECTOR0_TEXT));
  for (let i = SECTOR; i < DISK_BYTES; i++) disk[i] = (i * 7) & 0xff;
  disk.fill(0, 2 * SECTOR, 2 * SECTOR + 4); // sector 2 starts with the boot count, 0
  pristine = join(dir, 'fs.img');
  writeFileSync(pristine, disk);
});
after(() => cleanup());

/** A fresh copy of the disk image. */
function diskCopy(name: string): string {
  const path = join(dir, name);
  copyFileSync(pristine, path);
  return path;
}

/** A course Makefile's line (xv6's), for `kernel` and `disk`. */
function courseFlags(disk: string, opts: { smp?: number; drive?: string } = {}): string[] {
  return [
    '-machine', 'virt', '-bios', 'none', '-kernel', kernel, '-m', '128M', '-smp', String(opts.smp ?? 1), '-nographic',
    '-global', 'virtio-mmio.force-legacy=false',
    '-drive', `file=${disk},if=none,format=raw,id=x0${opts.drive ?? ''}`, '-device', 'virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0',
  ];
}

function runQemu(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-riscv64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const sectorText = (path: string, sector: number) => {
  const b = readFileSync(path).subarray(sector * SECTOR, sector * SECTOR + SECTOR);
  return Buffer.from(b.subarray(0, b.indexOf(0) < 0 ? SECTOR : b.indexOf(0))).toString('latin1');
};

describe('romvisor boot -bios none runs a teaching kernel as qemu-system-riscv64 does', () => {
  for (const harts of [1, 3]) it(`prints the same and leaves the same disk bytes on ${harts} hart${harts > 1 ? 's' : ''}, with the flags of a course Makefile`, async () => {
    const qemuDisk = diskCopy(`qemu-${harts}.img`);
    const ourDisk = diskCopy(`romvisor-${harts}.img`);
    const flags = (disk: string) => courseFlags(disk, { smp: harts });
    const [qemu, ours] = await Promise.all([runQemu(flags(qemuDisk)), runCli(['boot', ...flags(ourDisk)], { timeoutMs: 120_000 })]);
    assert.equal(qemu.code, 0, `qemu: ${qemu.stderr}`);
    assert.equal(ours.code, 0, `romvisor: ${ours.stderr}\n${ours.stdout}`);
    // What the kernel did, in its own words: each part of it ran.
    const perHart = Array.from({ length: harts }, (_, h) => h);
    for (const line of [
      'romvisor teaching kernel',
      `device tree: ${harts} hart${harts > 1 ? 's' : ''}`,
      ...perHart.map((h) => `hart ${h} up`),
      ...perHart.map((h) => `hart ${h}: 3 timer interrupts, 1 IPI`),
      `counter: ${1000 * harts} (as expected)`,
      'disk: virtio-blk at 0x10001000, IRQ 1',
      `disk: ${DISK_BYTES / SECTOR} sectors`,
      'disk: sector 0 says: ROMVISOR TEACHING DISK',
      'disk: boot count 1 written',
      'teaching kernel done',
    ]) {
      assert.ok(ours.stdout.includes(`${line}\n`), `romvisor's output lacks "${line}":\n${ours.stdout}`);
    }
    assert.equal(ours.stdout, qemu.stdout);
    const ourBytes = readFileSync(ourDisk);
    assert.ok(ourBytes.equals(readFileSync(qemuDisk)), 'the disks differ after the runs');
    assert.match(sectorText(ourDisk, 1), /^written by the romvisor teaching kernel, sector 0 sum [0-9a-f]{8}\n$/);
    assert.equal(ourBytes.readUInt32LE(2 * SECTOR), 1);
    // The raw image is written in place: a second boot counts on.
    const again = await runCli(['boot', ...flags(ourDisk)], { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /disk: boot count 2 written\n/);
  });

  it('refuses writes to a readonly drive as QEMU does', async () => {
    const qemuDisk = diskCopy('qemu-ro.img');
    const ourDisk = diskCopy('romvisor-ro.img');
    const flags = (d: string) => courseFlags(d, { drive: ',readonly=on' });
    const [qemu, ours] = await Promise.all([runQemu(flags(qemuDisk)), runCli(['boot', ...flags(ourDisk)], { timeoutMs: 120_000 })]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /boot count 1 not written \(read-only disk\?\)\n/);
    assert.equal(ours.stdout, qemu.stdout);
    assert.ok(readFileSync(ourDisk).equals(readFileSync(pristine)), 'a readonly drive was written');
  });

  it('keeps writes in memory with --snapshot: the guest sees them, the file does not change', async () => {
    const disk = diskCopy('snapshot.img');
    const ours = await runCli(['boot', ...courseFlags(disk), '-snapshot'], { timeoutMs: 120_000 });
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /disk: sector 1 now says: written by the romvisor teaching kernel/);
    assert.ok(readFileSync(disk).equals(readFileSync(pristine)), '--snapshot wrote the image');
  });

  it('attaches romvisor\'s own --drive FILE at 0x10001000 on IRQ 1', async () => {
    const disk = diskCopy('plain.img');
    const ours = await runCli(['boot', '--bios', 'none', '--kernel', kernel, '--drive', `${disk},format=raw`], { timeoutMs: 120_000 });
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /disk: virtio-blk at 0x10001000, IRQ 1\n/);
    assert.match(ours.stdout, /disk: boot count 1 written\n/);
    assert.equal(readFileSync(disk).readUInt32LE(2 * SECTOR), 1);
  });

  it('writes a VHD drive in place that qemu-img then reads, and leaves it alone with --snapshot', async () => {
    const vhd = join(dir, 'fs.vhd');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic', pristine, vhd]);
    const snap = await runCli(['boot', '--bios', 'none', '--kernel', kernel, '--drive', `${vhd},format=vhd`, '--snapshot'], { timeoutMs: 120_000 });
    assert.equal(snap.code, 0, snap.stderr);
    assert.match(snap.stdout, /disk: boot count 1 written\n/);
    const ours = await runCli(['boot', '--bios', 'none', '--kernel', kernel, '--drive', vhd], { timeoutMs: 120_000 });
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /disk: boot count 1 written\n/, 'the snapshot run left nothing behind');
    const raw = join(dir, 'fs-from-vhd.img');
    execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', vhd, raw]);
    const bytes = readFileSync(raw);
    assert.equal(bytes.readUInt32LE(2 * SECTOR), 1);
    assert.match(sectorText(raw, 1), /^written by the romvisor teaching kernel/);
  });

  it('puts a -device without bus= on the highest slot, as QEMU does', async () => {
    const disk = diskCopy('nobus.img');
    const args = ['-bios', 'none', '-kernel', kernel, '-global', 'virtio-mmio.force-legacy=false', '-snapshot',
      '-drive', `file=${disk},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d'];
    const [qemu, ours] = await Promise.all([runQemu(['-machine', 'virt', '-nographic', ...args]), runCli(['boot', ...args], { timeoutMs: 120_000 })]);
    assert.match(ours.stdout, /disk: virtio-blk at 0x10008000, IRQ 8\n/);
    assert.equal(ours.stdout, qemu.stdout);
  });

  it('refuses a raw drive that another process writes (exit 2)', async () => {
    const disk = diskCopy('locked.img');
    const lock = await DiskLock.acquire(disk, 'write');
    try {
      const ours = await runCli(['boot', ...courseFlags(disk)], { timeoutMs: 60_000 });
      assert.equal(ours.code, 2, ours.stderr);
      assert.match(ours.stderr, new RegExp(`${disk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${process.pid}`));
    } finally {
      lock.release();
    }
  });

  it('names a QEMU flag it does not accept, and bad drive options, with exit 2', async () => {
    const disk = diskCopy('flags.img');
    const cases: [string[], RegExp][] = [
      [['-cpu', 'rv64', ...courseFlags(disk)], /unknown option "-cpu"/],
      [[...courseFlags(disk), '-machine', 'sifive_u'], /-machine sifive_u: not supported/],
      [['-bios', 'none', '-kernel', kernel, '-global', 'virtio-mmio.force-legacy=true'], /-global virtio-mmio.force-legacy=true: not supported/],
      [['-bios', 'none', '-kernel', kernel, '-drive', `file=${disk},format=qcow2`], /format "qcow2" is not raw or vhd/],
      [['-bios', 'none', '-kernel', kernel, '-drive', `file=${disk},if=none,id=a`], /drive a \(if=none\) is attached to no -device/],
      [['-bios', 'none', '-kernel', kernel, '-device', 'virtio-net-device'], /device "virtio-net-device" is not supported/],
      [['-bios', 'none'], /--bios none needs --kernel ELF/],
      [['-bios', 'none', '-kernel', pristine], /not an ELF file/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['boot', ...args], { timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.ok(readFileSync(disk).equals(readFileSync(pristine)));
  });
});
