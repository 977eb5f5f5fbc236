/**
 * Node-only: `romvisor appliance create`, a bootable appliance VHD from a kernel, an
 * optional initrd and a root file system (a directory, or an ext2/3/4 image made
 * elsewhere). The disk is what the appliance reader (src/boot/applianceBoot.ts) boots:
 *
 *   MBR, disk id from the name
 *   partition 1  1 MiB  ext2 "boot", bootable: appliance.json, Image (or Image.gz when the
 *                        kernel given is gzipped: romvisor unpacks it), initrd if given
 *   partition 2  ext4 "root" on the next 2 MiB boundary (the VHD block size, so guest
 *                writes to the root never share a VHD block with the boot partition)
 *
 * The file systems are made by Debian's `mke2fs -d` with a profile of our own (not the
 * host's /etc/mke2fs.conf, so the image does not change with the build machine): ext4
 * with a 4 MiB journal (the guest has no fsck; Linux replays the journal after a crash),
 * inode tables initialised now (lazy init would have the guest's kernel zero them in the
 * background after its first mount). The result is a dynamic VHD.
 *
 * With `epoch` (SOURCE_DATE_EPOCH) the same inputs give the same bytes: mke2fs's own
 * times, the file system UUIDs and hash seeds, the MBR disk id and the VHD footer's time
 * are fixed; the VHD's unique id is a hash of the content, so two versions of one
 * appliance never share the id that overlays are keyed by.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseApplianceManifest, type ApplianceManifest } from '../boot/ApplianceManifest.ts';
import { ByteSlice, Ext2Reader, MBR_TYPE_LINUX, MbrPartitionTable, writeVhdImage, type ByteSource } from '../disk/index.ts';
import { FileBackend } from '../disk/node.ts';
import { RepoError } from './RepoError.ts';

const MiB = 2 ** 20;
const SECTOR = 512;
const BOOT_START = 1 * MiB;
/** The VHD block size: the root partition starts on a multiple of it. */
const ROOT_ALIGN = 2 * MiB;
/** Seconds between 1970 and the VHD epoch (2000-01-01 UTC). */
const VHD_EPOCH = 946_684_800;

/**
 * mke2fs's profile for the appliance file systems (MKE2FS_CONFIG): ext4 with the features
 * Linux 6.1 mounts, 4 KiB blocks, 256-byte inodes (times past 2038), no lazy init.
 */
const MKE2FS_PROFILE = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
	hash_alg = half_md4
	lazy_itable_init = false
	lazy_journal_init = false

[fs_types]
	ext2 = {
	}
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
`;

export interface ApplianceSpec {
  /** A Linux Image for RISC-V, flat or gzipped. */
  kernel: string;
  initrd?: string;
  /** A directory to copy into a new ext4 file system, or an ext2/3/4 image to use as it is. */
  root: string;
  /** appliance.json's fields; checked by the same parser the boot sequence uses. */
  manifest: Omit<ApplianceManifest, 'kernel' | 'tryFirst'> & { tryFirst?: string[] };
  /** Size of the root file system made from a directory (default: its contents with room to spare). */
  rootBytes?: number;
  /** Unix seconds: fixes every time and id, for reproducible builds (SOURCE_DATE_EPOCH). */
  epoch?: number;
  /** Where the VHD goes; replaced only once complete. */
  output: string;
}

export interface CreatedAppliance {
  path: string;
  /** The disk's size as the guest sees it. */
  virtualSize: number;
  /** The appliance.json written to the boot partition. */
  manifest: ApplianceManifest;
  partitions: { number: number; start: number; size: number; what: string }[];
}

export async function createAppliance(spec: ApplianceSpec): Promise<CreatedAppliance> {
  const kernel = await readInput(spec.kernel, 'kernel');
  const gzipped = kernel.length >= 2 && kernel[0] === 0x1f && kernel[1] === 0x8b;
  const kernelName = gzipped ? 'Image.gz' : 'Image';
  // The fields in a fixed order, through the boot sequence's own parser: what the builder
  // writes is exactly what romvisor accepts.
  const m = spec.manifest;
  const json = JSON.stringify(
    {
      name: m.name,
      title: m.title,
      description: m.description,
      version: m.version ?? '1',
      cmdline: m.cmdline,
      memoryMiB: m.memoryMiB,
      dataDiskMiB: m.dataDiskMiB,
      tryFirst: m.tryFirst ?? [],
      kernel: kernelName,
    },
    null,
    2,
  ) + '\n';
  const manifestBytes = new TextEncoder().encode(json);
  let manifest: ApplianceManifest;
  try {
    manifest = parseApplianceManifest(manifestBytes, 'appliance.json');
  } catch (e) {
    throw new RepoError('bad-input', (e as Error).message, 'appliance.json');
  }

  const work = await mkdtemp(join(tmpdir(), 'romvisor-appliance-'));
  try {
    const profile = join(work, 'mke2fs.conf');
    await writeFile(profile, MKE2FS_PROFILE);
    const env: NodeJS.ProcessEnv = { ...process.env, MKE2FS_CONFIG: profile, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
    if (spec.epoch !== undefined) env.E2FSPROGS_FAKE_TIME = String(spec.epoch);
    const idFor = (purpose: string) => uuidFrom(`romvisor-appliance/${manifest.name}/${purpose}`);

    // Partition 1: the boot files.
    const bootDir = join(work, 'boot');
    await mkdir(bootDir);
    await writeFile(join(bootDir, kernelName), kernel);
    if (spec.initrd !== undefined) await writeFile(join(bootDir, 'initrd'), await readInput(spec.initrd, 'initrd'));
    await writeFile(join(bootDir, 'appliance.json'), manifestBytes);
    if (spec.epoch !== undefined) {
      for (const f of await readdir(bootDir)) await utimes(join(bootDir, f), spec.epoch, spec.epoch);
      await utimes(bootDir, spec.epoch, spec.epoch);
    }
    const bootFiles = kernel.length + manifestBytes.length + (spec.initrd !== undefined ? (await stat(spec.initrd)).size : 0);
    // ext2's metadata (superblock copies, bitmaps, inode tables) needs room beside the files.
    const bootBytes = roundUp(bootFiles * 1.1 + 2 * MiB, MiB);
    const bootImage = join(work, 'boot.ext2');
    await mke2fs(env, ['-t', 'ext2', '-L', 'boot', '-U', idFor('boot'), '-E', `root_owner=0:0,hash_seed=${idFor('boot-hash')},nodiscard`, '-d', bootDir, bootImage, String(bootBytes / 4096)], bootImage, bootBytes);
    if (spec.epoch !== undefined) await pinTimes(env, bootImage, bootDir, spec.epoch);

    // Partition 2: the root file system.
    let rootImage: string;
    let rootBytes: number;
    const rootStat = await stat(spec.root).catch((e: NodeJS.ErrnoException) => {
      throw new RepoError('bad-input', `--root ${spec.root}: ${e.code ?? e.message}`, spec.root);
    });
    if (rootStat.isDirectory()) {
      rootBytes = spec.rootBytes ?? roundUp((await treeBytes(spec.root)) * 1.25 + 16 * MiB, ROOT_ALIGN);
      if (rootBytes % 4096 !== 0) throw new RepoError('bad-input', `--root-size ${rootBytes} is not a multiple of 4096 bytes`, 'root-size');
      rootImage = join(work, 'root.ext4');
      await mke2fs(env, ['-t', 'ext4', '-J', 'size=4', '-L', 'root', '-U', idFor('root'), '-E', `root_owner=0:0,hash_seed=${idFor('root-hash')},nodiscard`, '-d', resolve(spec.root), rootImage, String(rootBytes / 4096)], rootImage, rootBytes);
      if (spec.epoch !== undefined) await pinTimes(env, rootImage, resolve(spec.root), spec.epoch);
    } else {
      if (spec.rootBytes !== undefined) throw new RepoError('bad-input', `--root-size applies to a root made from a directory; ${spec.root} is an image of its own size`, 'root-size');
      rootImage = resolve(spec.root);
      rootBytes = await checkExtImage(rootImage);
    }

    const rootStart = roundUp(BOOT_START + bootBytes, ROOT_ALIGN);
    const diskSize = rootStart + roundUp(rootBytes, SECTOR);
    const mbr = MbrPartitionTable.create(
      [
        { type: MBR_TYPE_LINUX, firstLba: BOOT_START / SECTOR, sectorCount: bootBytes / SECTOR, bootable: true },
        { type: MBR_TYPE_LINUX, firstLba: rootStart / SECTOR, sectorCount: roundUp(rootBytes, SECTOR) / SECTOR },
      ],
      diskSize,
      Number.parseInt(createHash('sha256').update(`romvisor-appliance/${manifest.name}`).digest('hex').slice(0, 8), 16),
    );
    const boot = await FileBackend.open(bootImage, { readOnly: true });
    const root = await FileBackend.open(rootImage, { readOnly: true });
    try {
      const disk = new ExtentSource(diskSize, [
        { at: 0, source: { size: mbr.length, read: async (o, l) => mbr.slice(o, o + l) } },
        { at: BOOT_START, source: boot },
        { at: rootStart, source: new ByteSlice(root, 0, rootBytes) },
      ]);
      const uniqueId = await contentId(disk);
      const timeStamp = spec.epoch !== undefined ? Math.max(0, spec.epoch - VHD_EPOCH) : undefined;
      await writeAtomically(spec.output, async (target) => {
        await writeVhdImage(disk, target, 'dynamic', { uniqueId, ...(timeStamp !== undefined ? { timeStamp } : {}) });
      });
    } finally {
      await boot.dispose();
      await root.dispose();
    }
    return {
      path: spec.output,
      virtualSize: diskSize,
      manifest,
      partitions: [
        { number: 1, start: BOOT_START, size: bootBytes, what: `ext2 boot: appliance.json, ${kernelName}${spec.initrd !== undefined ? ', initrd' : ''}` },
        { number: 2, start: rootStart, size: roundUp(rootBytes, SECTOR), what: rootStat.isDirectory() ? 'ext4 root' : 'root (from image)' },
      ],
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new RepoError('bad-input', `--${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
}

/** A version-4-shaped UUID from a hash of `text`: stable across builds, distinct per purpose. */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Bytes a tree takes in 4 KiB blocks, one block per directory, link and special file too. */
async function treeBytes(dir: string): Promise<number> {
  let total = 4096;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(p);
    else if (entry.isFile()) total += roundUp((await lstat(p)).size, 4096) + 256;
    else total += 4096;
  }
  return total;
}

function mke2fs(env: NodeJS.ProcessEnv, args: string[], image: string, bytes: number): Promise<void> {
  return (async () => {
    // mke2fs -d fills an existing file of the right size.
    const f = await open(image, 'w');
    await f.truncate(bytes);
    await f.close();
    await new Promise<void>((done, fail) => {
      execFile('mke2fs', ['-q', '-F', '-T', 'default', '-b', '4096', '-I', '256', '-m', '0', ...args], { env }, (err, _out, stderr) => {
        if (!err) return done();
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return fail(new RepoError('missing-tool', 'mke2fs is not installed (Debian: apt-get install e2fsprogs)', 'mke2fs'));
        }
        const why = String(stderr).trim().split('\n').slice(-3).join('; ');
        const hint = /No space|Could not allocate|too many/i.test(why) ? ' (give a bigger --root-size)' : '';
        fail(new RepoError('tool-failed', `mke2fs for ${image.endsWith('boot.ext2') ? 'the boot partition' : 'the root file system'} failed: ${why || err.message}${hint}`, 'mke2fs'));
      });
    });
  })();
}

/**
 * mke2fs -d copies each file's ctime and atime from the host: the ctime is the time of the
 * build (no host call can set it) and reading a file may move its atime. With an epoch,
 * debugfs sets both on every inode to the epoch (mtimes are the caller's to fix).
 */
async function pinTimes(env: NodeJS.ProcessEnv, image: string, tree: string, epoch: number): Promise<void> {
  const paths = ['/'];
  const walk = async (dir: string, at: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      paths.push(`${at}${entry.name}`);
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${at}${entry.name}/`);
    }
  };
  await walk(tree, '/');
  const script = paths.map((p) => {
    const quoted = `"${p.replace(/(["\\])/g, '\\$1')}"`;
    return `sif ${quoted} ctime @${epoch}\nsif ${quoted} atime @${epoch}\n`;
  }).join('');
  const file = `${image}.debugfs`;
  await writeFile(file, script);
  await new Promise<void>((done, fail) => {
    execFile('debugfs', ['-w', '-f', file, image], { env, maxBuffer: 64 * MiB }, (err, _out, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return fail(new RepoError('missing-tool', 'debugfs is not installed (Debian: apt-get install e2fsprogs)', 'debugfs'));
      const problems = String(stderr).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('debugfs '));
      if (err || problems.length > 0) return fail(new RepoError('tool-failed', `debugfs on ${image} failed: ${problems.slice(0, 3).join('; ') || (err as Error).message}`, 'debugfs'));
      done();
    });
  });
}

/** Checks that `path` is an ext2/3/4 image (its superblock, as the disk layer reads it); returns its size in bytes. */
async function checkExtImage(path: string): Promise<number> {
  const file = await FileBackend.open(path, { readOnly: true }).catch((e: NodeJS.ErrnoException) => {
    throw new RepoError('bad-input', `--root ${path}: ${e.code ?? e.message}`, path);
  });
  try {
    const fs = await Ext2Reader.open(file);
    return fs.superblock.blocksCount * fs.superblock.blockSize;
  } catch (e) {
    throw new RepoError('bad-input', `--root ${path} is neither a directory nor an ext2/3/4 image: ${(e as Error).message}`, path);
  } finally {
    await file.dispose();
  }
}

/** The VHD's unique id: the first 16 bytes of the sha256 of the disk's contents. */
async function contentId(disk: ByteSource): Promise<Uint8Array> {
  const hash = createHash('sha256');
  const step = 4 * MiB;
  for (let pos = 0; pos < disk.size; pos += step) hash.update(await disk.read(pos, Math.min(step, disk.size - pos)));
  return new Uint8Array(hash.digest().subarray(0, 16));
}

/** Writes `output` through a temporary file beside it, renamed into place once complete. */
async function writeAtomically(output: string, write: (target: FileBackend) => Promise<void>): Promise<void> {
  await mkdir(dirname(resolve(output)), { recursive: true });
  const temp = `${output}.${process.pid}.tmp`;
  const target = await FileBackend.create(temp);
  try {
    await write(target);
    await target.dispose();
    await rename(temp, output);
  } catch (e) {
    await target.dispose();
    await rm(temp, { force: true });
    throw e;
  }
}

/** A disk made of byte sources at fixed offsets, zeros between them. */
class ExtentSource implements ByteSource {
  constructor(
    readonly size: number,
    private readonly extents: { at: number; source: ByteSource }[],
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (const { at, source } of this.extents) {
      const from = Math.max(offset, at);
      const to = Math.min(offset + length, at + source.size);
      if (from < to) out.set(await source.read(from - at, to - from), from - offset);
    }
    return out;
  }
}
