// The shared folder over virtio-9p: inside the guest (the built-in kernel and BusyBox
// initramfs, whose init mounts the tag `host` on /mnt/host with Linux's defaults), `dd`
// reads a 32 MiB host file from the share and writes 32 MiB into it (conv=fsync).
// romvisor runs `boot --share DIR`; QEMU runs the same kernel and initramfs with
// QEMU's `-virtfs local` device on virtio-mmio: `-fsdev local,path=DIR,security_model=none`
// with `-device virtio-9p-device,mount_tag=host`. Both realtime, one after
// the other, each on a fresh folder; MB/s are what the guest's own dd reports, and the
// file the guest wrote is checked on the host (32 MiB of zeros) for both.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { BUILTIN } from '../../src/cli/bootImages.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import { ddRow, ddSession } from '../ddSession.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const MIB = 32;
const MEMORY = '256M';
const PROMPT = '~ # ';
const COMMANDS =
  `dd if=/mnt/host/big.bin of=/dev/null bs=1M; ` +
  `dd if=/dev/zero of=/mnt/host/written.bin bs=1M count=${MIB} conv=fsync; ` +
  'poweroff -f\n';
const SESSION_TIMEOUT_MS = 300_000;

/** A folder holding the file the guest reads. */
function shareFolder(work: string, name: string, big: Uint8Array): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'big.bin'), big);
  return dir;
}

/** The guest's file arrived whole: 32 MiB of zeros. */
function wroteZeros(dir: string): boolean {
  try {
    if (statSync(join(dir, 'written.bin')).size !== MIB * 2 ** 20) return false;
    return readFileSync(join(dir, 'written.bin')).every((b) => b === 0);
  } catch {
    return false;
  }
}

export const share9pGroup: BenchGroup = {
  name: 'share9p',
  description: `dd ${MIB} MiB read and write (conv=fsync) on a shared folder over virtio-9p, romvisor --share vs QEMU -fsdev local (-virtfs)`,
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-9p-'));
    try {
      const big = randomBytes(MIB * 2 ** 20);
      const session = { prompt: PROMPT, commands: COMMANDS, reports: 2, timeoutMs: SESSION_TIMEOUT_MS };

      log('share9p: romvisor');
      const rDir = shareFolder(work, 'romvisor', big);
      const romvisor = await ddSession(process.execPath, [
        repo('bin/romvisor.mjs'), 'boot', '--kernel', BUILTIN.kernel, '--initrd', BUILTIN.initrd,
        '--mem', MEMORY, '--time', 'realtime', '--share', rDir,
      ], session);

      log('share9p: qemu');
      const qDir = shareFolder(work, 'qemu', big);
      const kernel = join(work, 'Image');
      writeFileSync(kernel, gunzipSync(readFileSync(BUILTIN.kernel)));
      const qemu = await ddSession('qemu-system-riscv64', [
        '-M', 'virt', '-m', MEMORY, '-nographic', '-monitor', 'none',
        '-bios', repo('roms/opensbi/fw_dynamic.bin'),
        '-kernel', kernel,
        '-initrd', BUILTIN.initrd,
        '-append', 'console=ttyS0',
        // -virtfs would make a virtio-9p-pci device; the appliance kernel has virtio-mmio only.
        '-fsdev', `local,id=host,path=${qDir},security_model=none`,
        '-device', 'virtio-9p-device,fsdev=host,mount_tag=host',
      ], session);

      const wrote = [wroteZeros(rDir), wroteZeros(qDir)];
      const rows: BenchRow[] = [];
      for (const [i, name] of [`9p-read-${MIB}MiB`, `9p-write-${MIB}MiB`].entries()) {
        const intact = i === 0 || (wrote[0]! && wrote[1]!);
        const row = ddRow('share9p', name, i, romvisor, qemu, MIB * 2 ** 20, intact ? undefined : `the written file is not ${MIB} MiB of zeros on the host (romvisor ${wrote[0]}, qemu ${wrote[1]})`);
        log(`share9p: ${name}: ${row.note}`);
        rows.push(row);
      }
      return rows;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
