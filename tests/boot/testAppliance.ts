// A small appliance VHD for the boot tests and the disk benchmark, built from the
// repository's own kernel and busybox initramfs until the appliances/*.vhd.gz exist:
//   partition 1  ext2  Image (gunzipped appliances/boot/Image.gz), appliance.json
//   partition 2  ext4  the initramfs tree (busybox, /init), root of the guest
// Built once per input hash under build/test-appliance/ (mke2fs -d, MBR and VHD through
// the disk layer) and reused; concurrent builders race harmlessly via rename.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { MBR_TYPE_LINUX, MbrPartitionTable, writeVhdImage } from '../../src/disk/index.ts';
import { FileBackend } from '../../src/disk/node.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const MiB = 1024 * 1024;
/** Bumped when the layout below changes, so cached images are rebuilt. */
const LAYOUT_VERSION = 1;

export const TEST_APPLIANCE_CMDLINE = 'console=ttyS0 root=/dev/vda2 rw rootwait init=/init';
/** What the initramfs /init prints once the root file system is up and the shell starts. */
export const PROMPT = '~ # ';

export interface TestApplianceOptions {
  /** Size of the root partition (ext4) in MiB; the disk adds 1 MiB of MBR gap and 8 MiB of boot partition. */
  rootMiB?: number;
}

export interface TestAppliance {
  /** The dynamic VHD. Treat it as read-only: copy it, or boot it with an overlay. */
  path: string;
  /** Byte offset and length of partition 2 (root) on the virtual disk. */
  root: { offset: number; length: number };
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: Uint8Array } = {}): void {
  execFileSync(cmd, args, { cwd: opts.cwd, input: opts.input, stdio: [opts.input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
}

export async function buildTestAppliance(opts: TestApplianceOptions = {}): Promise<TestAppliance> {
  const rootMiB = opts.rootMiB ?? 48;
  const kernelGz = readFileSync(repo('appliances/boot/Image.gz'));
  const initramfsGz = readFileSync(repo('appliances/boot/initramfs.cpio.gz'));
  const key = createHash('sha256').update(`v${LAYOUT_VERSION} root ${rootMiB}\n`).update(kernelGz).update(initramfsGz).digest('hex').slice(0, 16);
  const outDir = repo('build/test-appliance');
  const path = join(outDir, `test-${key}.vhd`);
  const bootLba = 2048;
  const bootSectors = (8 * MiB) / 512;
  const rootLba = bootLba + bootSectors;
  const rootSectors = (rootMiB * MiB) / 512;
  const root = { offset: rootLba * 512, length: rootSectors * 512 };
  if (existsSync(path)) return { path, root };

  mkdirSync(outDir, { recursive: true });
  const work = join(outDir, `work-${key}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'boot'), { recursive: true });
  mkdirSync(join(work, 'root'), { recursive: true });
  try {
    writeFileSync(join(work, 'boot/Image'), gunzipSync(kernelGz));
    writeFileSync(
      join(work, 'boot/appliance.json'),
      JSON.stringify({ name: 'test', title: 'romvisor test appliance', version: '0', cmdline: TEST_APPLIANCE_CMDLINE, memoryMiB: 64, tryFirst: ['ls /'] }, null, 2) + '\n',
    );
    run('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: join(work, 'root'), input: gunzipSync(initramfsGz) });
    // Fixed UUIDs and hash seeds: the same inputs give the same file systems, apart from times.
    const bootImg = join(work, 'boot.img');
    const rootImg = join(work, 'root.img');
    run('/usr/sbin/mke2fs', ['-q', '-F', '-t', 'ext2', '-L', 'boot', '-U', '0b0b0b0b-0000-4000-8000-000000000001', '-E', 'hash_seed=0b0b0b0b-0000-4000-8000-000000000002', '-d', join(work, 'boot'), bootImg, `${bootSectors / 2}`]);
    run('/usr/sbin/mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'root', '-U', '0b0b0b0b-0000-4000-8000-000000000003', '-E', 'hash_seed=0b0b0b0b-0000-4000-8000-000000000004', '-d', join(work, 'root'), rootImg, `${rootSectors / 2}`]);

    const diskSize = (rootLba + rootSectors) * 512;
    const raw = join(work, 'disk.raw');
    const fd = openSync(raw, 'w');
    try {
      const mbr = MbrPartitionTable.create(
        [
          { type: MBR_TYPE_LINUX, firstLba: bootLba, sectorCount: bootSectors, bootable: true },
          { type: MBR_TYPE_LINUX, firstLba: rootLba, sectorCount: rootSectors },
        ],
        diskSize,
        0x726f6d76,
      );
      writeSync(fd, mbr, 0, mbr.length, 0);
      copyInto(fd, bootImg, bootLba * 512);
      copyInto(fd, rootImg, rootLba * 512);
    } finally {
      closeSync(fd);
    }
    if (statSync(raw).size < diskSize) execFileSync('truncate', ['-s', String(diskSize), raw]);
    const source = await FileBackend.open(raw, { readOnly: true });
    const tmp = join(work, 'disk.vhd');
    const target = await FileBackend.create(tmp);
    try {
      await writeVhdImage(source, target, 'dynamic', { timeStamp: 0, uniqueId: new Uint8Array(16).fill(0x5a) });
    } finally {
      await target.dispose();
      await source.dispose();
    }
    renameSync(tmp, path);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { path, root };
}

/** Copies a file into `fd` at `offset`, 4 MiB at a time, skipping all-zero chunks (holes). */
function copyInto(fd: number, file: string, offset: number): void {
  const src = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (let pos = 0; ; pos += buf.length) {
      const n = readSyncFull(src, buf, pos);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      if (chunk.some((b) => b !== 0)) writeSync(fd, chunk, 0, n, offset + pos);
      if (n < buf.length) break;
    }
  } finally {
    closeSync(src);
  }
}

function readSyncFull(fd: number, buf: Buffer, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
