// The one reader of an appliance's boot files (src/boot/applianceBoot.ts): what it gives
// for good boot partitions, and the ApplianceError it throws for each kind of bad one.
// The catalog shows an imported appliance as its manifest says.
// Each case is a small MBR disk in memory whose partition 1 is made by `mke2fs -d`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ApplianceError, type ApplianceErrorCode } from '../../src/boot/ApplianceError.ts';
import { BOOT_FILE_LIMITS, readApplianceBoot, readApplianceManifest } from '../../src/boot/applianceBoot.ts';
import { MBR_TYPE_LINUX, MbrPartitionTable, MemoryBackend } from '../../src/disk/index.ts';
import { buildCatalog } from '../../src/store/Catalog.ts';
import type { ImageRecord } from '../../src/store/imageDb.ts';
import { tempDir } from '../disk/diskFixtures.ts';

const BOOT_LBA = 2048;
const BOOT_KIB = 4096;
let dir: string;
let cleanup: () => void;
let n = 0;

before(() => ({ dir, cleanup } = tempDir('appliance-boot')));
after(() => cleanup());

/** A fake kernel: the reader does not look inside, it only unpacks. */
const KERNEL = new Uint8Array(300_000).map((_, i) => (i * 7919) & 0xff);
const MANIFEST = { name: 'mine', title: 'My appliance', cmdline: 'console=ttyS0 root=/dev/vda2', memoryMiB: 96, tryFirst: ['uname -a'] };

/** An MBR disk whose partition 1 is an ext2 file system holding `files`. */
function bootDisk(files: Record<string, Uint8Array | string>): MemoryBackend {
  const tree = join(dir, `tree-${++n}`);
  mkdirSync(tree);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data);
  const img = join(dir, `boot-${n}.img`);
  execFileSync('/usr/sbin/mke2fs', ['-q', '-F', '-t', 'ext2', '-d', tree, img, `${BOOT_KIB}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const fs = readFileSync(img);
  const size = BOOT_LBA * 512 + fs.length;
  const disk = new Uint8Array(size);
  disk.set(MbrPartitionTable.create([{ type: MBR_TYPE_LINUX, firstLba: BOOT_LBA, sectorCount: fs.length / 512, bootable: true }], size, 1));
  disk.set(fs, BOOT_LBA * 512);
  return new MemoryBackend(disk);
}

const json = (o: unknown) => JSON.stringify(o);

async function refused(disk: MemoryBackend, code: ApplianceErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(readApplianceBoot(disk), (e: unknown) => {
    assert.ok(e instanceof ApplianceError, `an ApplianceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

describe('readApplianceBoot', () => {
  it('unpacks a gzipped Image and hands the initrd and the manifest over', async () => {
    const initrd = gzipSync(Buffer.from('an initramfs'));
    const boot = await readApplianceBoot(bootDisk({ 'appliance.json': json(MANIFEST), Image: gzipSync(KERNEL), initrd }));
    assert.deepEqual(boot.images.kernel, KERNEL);
    assert.deepEqual(boot.images.initrd, new Uint8Array(initrd), 'the initrd is passed on as stored (Linux unpacks it)');
    assert.equal(boot.images.bootargs, MANIFEST.cmdline);
    assert.equal(boot.manifest.title, 'My appliance');
    assert.equal(boot.manifest.memoryMiB, 96);
    assert.deepEqual(boot.manifest.tryFirst, ['uname -a']);
  });

  it('takes a plain Image as it is, and no initrd when there is none', async () => {
    const boot = await readApplianceBoot(bootDisk({ 'appliance.json': json(MANIFEST), Image: KERNEL }));
    assert.deepEqual(boot.images.kernel, KERNEL);
    assert.equal(boot.images.initrd, undefined);
  });

  it('finds Image.gz without a "kernel" field, and the file a "kernel" field names', async () => {
    const gz = await readApplianceBoot(bootDisk({ 'appliance.json': json(MANIFEST), 'Image.gz': gzipSync(KERNEL) }));
    assert.deepEqual(gz.images.kernel, KERNEL);
    const named = await readApplianceBoot(bootDisk({ 'appliance.json': json({ ...MANIFEST, kernel: 'vmlinux-6.1' }), 'vmlinux-6.1': KERNEL, Image: new Uint8Array(8) }));
    assert.deepEqual(named.images.kernel, KERNEL);
    assert.equal(named.manifest.kernel, 'vmlinux-6.1');
  });

  it('reads only the manifest for the catalog', async () => {
    const manifest = await readApplianceManifest(bootDisk({ 'appliance.json': json(MANIFEST) }));
    assert.equal(manifest.name, 'mine');
    assert.equal(manifest.memoryMiB, 96);
  });

  it('refuses appliance.json that is not JSON', async () => {
    await refused(bootDisk({ 'appliance.json': '{ "name": "mine", cmdline: ', Image: KERNEL }), 'bad-manifest', /appliance\.json: not UTF-8 JSON/);
  });

  it('refuses appliance.json without a cmdline, naming the field', async () => {
    const disk = bootDisk({ 'appliance.json': json({ name: 'mine' }), Image: KERNEL });
    await refused(disk, 'bad-manifest', /cmdline is required/);
    await assert.rejects(readApplianceManifest(disk), (e: unknown) => e instanceof ApplianceError && e.field === 'partition 1/appliance.json: cmdline');
  });

  it('refuses a "kernel" field that leaves the partition root', async () => {
    await refused(bootDisk({ 'appliance.json': json({ ...MANIFEST, kernel: '../Image' }), Image: KERNEL }), 'bad-manifest', /kernel must be a file name/);
  });

  it('refuses a disk without appliance.json, and one without a kernel', async () => {
    await refused(bootDisk({ Image: KERNEL }), 'missing-file', /no \/appliance\.json/);
    await refused(bootDisk({ 'appliance.json': json(MANIFEST) }), 'missing-file', /no kernel \(looked for \/Image and \/Image\.gz/);
    await refused(bootDisk({ 'appliance.json': json({ ...MANIFEST, kernel: 'vmlinux' }), Image: KERNEL }), 'missing-file', /no \/vmlinux/);
  });

  it('refuses a gzipped Image that unpacks past the limit (a gzip bomb) without unpacking it all', async () => {
    const bomb = gzipSync(new Uint8Array(BOOT_FILE_LIMITS.kernel + 1), { level: 9 });
    assert.ok(bomb.length < 200_000, `the bomb is small (${bomb.length} bytes)`);
    await refused(bootDisk({ 'appliance.json': json(MANIFEST), Image: bomb }), 'too-large', /unpacks to more than romvisor's 64 MiB limit/);
  });

  it('refuses a truncated or corrupt gzipped Image', async () => {
    const gz = gzipSync(KERNEL);
    await refused(bootDisk({ 'appliance.json': json(MANIFEST), Image: gz.subarray(0, gz.length >> 1) }), 'bad-kernel', /Image: gzip data/);
    const corrupt = Uint8Array.from(gz);
    corrupt.fill(0xff, 20, 200);
    await refused(bootDisk({ 'appliance.json': json(MANIFEST), Image: corrupt }), 'bad-kernel', /gzip data does not unpack/);
  });
});

describe('an imported appliance in the catalog', () => {
  const record = (appliance?: ImageRecord['appliance']): ImageRecord => ({
    id: 'img-1', kind: 'base', origin: 'imported', name: 'mine.vhd', size: 1 << 20, chunkSize: 1 << 16, virtualSize: 64 << 20, vhdUuid: 'u', state: 'ready', createdAt: 0, appliance,
  });

  it("shows appliance.json's title, description and memory", () => {
    const [a] = buildCatalog([], [record({ ...MANIFEST, description: 'made by hand' })]);
    assert.equal(a!.name, 'mine.vhd', 'VM names still come from the file name');
    assert.equal(a!.title, 'My appliance');
    assert.equal(a!.description, 'made by hand');
    assert.equal(a!.memoryMiB, 96);
    assert.equal(a!.cmdline, MANIFEST.cmdline);
  });

  it('shows a plain disk by its file name with the default memory', () => {
    const [a] = buildCatalog([], [record()]);
    assert.equal(a!.title, 'mine.vhd');
    assert.equal(a!.memoryMiB, 128);
  });
});
