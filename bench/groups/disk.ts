// Disk I/O through virtio-blk: inside the guest, `dd` writes 64 MiB to a file on the
// ext4 root (conv=fsync, so the time includes getting it to the disk), drops the page
// cache, and reads it back. The same appliance VHD boots on romvisor (its writes in a
// differencing snapshot) and on `qemu-system-riscv64 -M virt` with `-drive format=vpc`
// (a temporary copy of the VHD: QEMU's vpc driver cannot open differencing children).
// Both run realtime, one after the other; MB/s are what the guest's own dd reports.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildTestAppliance, PROMPT, TEST_APPLIANCE_CMDLINE } from '../../tests/boot/testAppliance.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import { ddRow, ddSession } from '../ddSession.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const MIB = 64;
const MEMORY = '256M';
/** Root partition big enough for the 64 MiB file next to busybox. */
const ROOT_MIB = 160;
const COMMANDS =
  `dd if=/dev/zero of=/root/big bs=1M count=${MIB} conv=fsync; ` +
  'echo 3 > /proc/sys/vm/drop_caches; ' +
  'dd if=/root/big of=/dev/null bs=1M; ' +
  'rm /root/big; sync; mount -o remount,ro /; poweroff -f\n';
const SESSION_TIMEOUT_MS = 300_000;

export const diskGroup: BenchGroup = {
  name: 'disk',
  description: `dd ${MIB} MiB write (conv=fsync) and read (cold cache) on ext4 over virtio-blk, romvisor vs QEMU with the same VHD`,
  async run(log) {
    const appliance = await buildTestAppliance({ rootMiB: ROOT_MIB });
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-disk-'));
    try {
      log('disk: romvisor');
      const session = { prompt: PROMPT, commands: COMMANDS, reports: 2, timeoutMs: SESSION_TIMEOUT_MS };
      const romvisor = await ddSession(process.execPath, [repo('bin/romvisor.mjs'), 'boot', appliance.path, '--snapshot', '--mem', MEMORY, '--time', 'realtime'], session);

      log('disk: qemu');
      const kernel = join(work, 'Image');
      writeFileSync(kernel, gunzipSync(readFileSync(repo('appliances/boot/Image.gz'))));
      const copy = join(work, 'disk.vhd');
      copyFileSync(appliance.path, copy);
      const qemu = await ddSession('qemu-system-riscv64', [
        '-M', 'virt', '-m', MEMORY, '-nographic', '-monitor', 'none',
        '-bios', repo('roms/opensbi/fw_dynamic.bin'),
        '-kernel', kernel,
        '-append', TEST_APPLIANCE_CMDLINE,
        '-drive', `file=${copy},format=vpc,if=none,id=disk0`,
        '-device', 'virtio-blk-device,drive=disk0',
      ], session);

      const rows: BenchRow[] = [];
      for (const [i, name] of [`dd-write-${MIB}MiB`, `dd-read-${MIB}MiB`].entries()) {
        const row = ddRow('disk', name, i, romvisor, qemu, MIB * 2 ** 20);
        log(`disk: ${name}: ${row.note}`);
        rows.push(row);
      }
      return rows;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
