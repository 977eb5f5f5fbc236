// `romvisor appliance create`: an appliance made from the project's kernel and the busybox
// initramfs tree (as a directory, and as an ext4 image made beforehand) boots to a shell in
// `romvisor boot`, qemu-img reads the VHD, and its appliance.json holds what was given.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { QEMU_IMG, tempDir } from '../disk/diskFixtures.ts';
import { runCli as romvisor, writeScript } from './runCli.ts';
import { PROMPT } from './testAppliance.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const KERNEL = repo('appliances/boot/Image.gz');
const CMDLINE = 'console=hvc0 root=/dev/vda2 rw rootwait init=/init';

let dir: string;
let cleanup: () => void;
let rootDir: string;

before(() => {
  ({ dir, cleanup } = tempDir('appliance-create'));
  rootDir = join(dir, 'root');
  mkdirSync(rootDir);
  execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: rootDir, input: gunzipSync(readFileSync(repo('appliances/boot/initramfs.cpio.gz'))) });
  writeFileSync(join(rootDir, 'marker'), 'made by appliance create from a directory\n');
});
after(() => cleanup());

/** Boots `vhd`, runs `command` at the prompt and returns the console. */
async function bootAndRun(vhd: string, command: string): Promise<string> {
  const script = writeScript(dir, 'run', [{ expect: PROMPT }, { send: `${command}; echo END-OF-CHECK; poweroff -f\n` }, { expect: 'END-OF-CHECK\r\n' }]);
  const r = await romvisor(['boot', vhd, '--script', script]);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  return r.stdout;
}

const applianceJson = (vhd: string) => JSON.parse(execFileSync(process.execPath, [repo('bin/romvisor.mjs'), 'vhd', 'cat', vhd, '/appliance.json'], { encoding: 'utf8' }));

describe('appliance create from a directory', () => {
  it('makes a VHD that qemu-img reads, with the appliance.json fields given, that boots to a shell on its ext4 root', async () => {
    const out = join(dir, 'mini.vhd');
    const r = await romvisor([
      'appliance', 'create', '--kernel', KERNEL, '--root', rootDir, '--name', 'mini', '--cmdline', CMDLINE,
      '--mem', '96M', '--title', 'Mini appliance', '--description', 'busybox on ext4', '--version', '2.1',
      '--try', 'cat /marker', '--data-disk', '16M', '-o', out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /appliance "mini" version 2\.1/);

    const info = JSON.parse(execFileSync(QEMU_IMG, ['info', '--output=json', out], { encoding: 'utf8' }));
    assert.equal(info.format, 'vpc');
    // Partition 2 ends the disk: at least the tree, at most what the builder's slack allows.
    assert.ok(info['virtual-size'] > 16 * 2 ** 20 && info['virtual-size'] < 128 * 2 ** 20, `virtual size ${info['virtual-size']}`);

    assert.deepEqual(applianceJson(out), {
      name: 'mini', title: 'Mini appliance', description: 'busybox on ext4', version: '2.1', cmdline: CMDLINE,
      memoryMiB: 96, dataDiskMiB: 16, tryFirst: ['cat /marker'], kernel: 'Image.gz',
    });

    const console = await bootAndRun(out, "cat /marker; grep ' / ' /proc/mounts; free -m | grep Mem");
    assert.match(console, /made by appliance create from a directory/);
    assert.match(console, /\/dev\/root \/ ext4 rw/);
    // --mem 96M is the appliance's memory: Linux sees most of it.
    assert.match(console, /Mem: +(8\d|9\d) /);
  });
});

describe("an appliance's data disk", () => {
  it('is /dev/vdb of the size appliance.json says, blank at first, and kept beside the overlay across boots', async () => {
    const vhd = join(dir, 'mini.vhd');
    const overlay = join(dir, 'mini-overlay.vhd');
    const write = writeScript(dir, 'data-write', [
      { expect: PROMPT },
      { send: 'cat /sys/block/vdb/size; dd if=/dev/vdb bs=512 count=1 2>/dev/null | od -An -c | head -1; echo kept-on-the-data-disk | dd of=/dev/vdb conv=fsync 2>/dev/null; echo END-OF-CHECK; poweroff -f\n' },
      { expect: 'END-OF-CHECK\r\n' },
    ]);
    const first = await romvisor(['boot', vhd, '--overlay', overlay, '--script', write]);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.match(first.stdout, /\r\n32768\r\n/, '16 MiB in 512-byte sectors');
    assert.match(first.stdout, /\\0 +\\0 +\\0/, 'blank at first');
    assert.ok(existsSync(join(dir, 'mini-overlay.data.vhd')));
    const read = writeScript(dir, 'data-read', [{ expect: PROMPT }, { send: 'head -c 21 /dev/vdb; echo; echo END-OF-CHECK; poweroff -f\n' }, { expect: 'END-OF-CHECK\r\n' }]);
    const second = await romvisor(['boot', vhd, '--overlay', overlay, '--script', read]);
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(-2000));
    assert.match(second.stdout, /\r\nkept-on-the-data-disk\r\n/);
  });
});

describe('appliance create from an ext4 image', () => {
  it('puts the image in partition 2 as it is, with an initrd beside the kernel, and boots it', async () => {
    const image = join(dir, 'root.ext4');
    writeFileSync(join(rootDir, 'marker'), 'made by appliance create from an ext4 image\n');
    writeFileSync(image, new Uint8Array(0));
    execFileSync('/usr/sbin/mke2fs', ['-q', '-F', '-t', 'ext4', '-d', rootDir, image, '24M']);
    const out = join(dir, 'from-image.vhd');
    // A flat kernel, and an initrd without /init: Linux unpacks it, finds no /init in it
    // and mounts the root from the disk as the command line says.
    const flat = join(dir, 'Image');
    writeFileSync(flat, gunzipSync(readFileSync(KERNEL)));
    const initrdDir = join(dir, 'initrd');
    mkdirSync(initrdDir);
    writeFileSync(join(initrdDir, 'carried'), 'carried by the initrd\n');
    const initrd = join(dir, 'extra.cpio');
    writeFileSync(initrd, execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: initrdDir, input: 'carried\n' }));
    const r = await romvisor(['appliance', 'create', '--kernel', flat, '--initrd', initrd, '--root', image, '--name', 'from-image', '--cmdline', CMDLINE, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /root \(from image\)/);
    const manifest = applianceJson(out);
    assert.equal(manifest.kernel, 'Image');
    assert.equal(manifest.version, '1');
    assert.equal(manifest.memoryMiB, undefined);
    const carried = execFileSync(process.execPath, [repo('bin/romvisor.mjs'), 'vhd', 'cat', out, '/initrd']);
    assert.deepEqual(new Uint8Array(carried), new Uint8Array(readFileSync(initrd)));
    execFileSync(QEMU_IMG, ['info', out]);
    const console = await bootAndRun(out, "cat /marker; grep ' / ' /proc/mounts");
    assert.match(console, /made by appliance create from an ext4 image/);
    assert.match(console, /\/dev\/root \/ ext4 rw/);
  });

  it('refuses a root that is neither a directory nor an ext2/3/4 image, and a bad name, with exit 2', async () => {
    const junk = join(dir, 'junk.img');
    writeFileSync(junk, new Uint8Array(4 * 2 ** 20).fill(7));
    const bad = await romvisor(['appliance', 'create', '--kernel', KERNEL, '--root', junk, '--name', 'x', '--cmdline', CMDLINE, '-o', join(dir, 'x.vhd')]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--root .*junk\.img is neither a directory nor an ext2\/3\/4 image: ext2 superblock/);
    const name = await romvisor(['appliance', 'create', '--kernel', KERNEL, '--root', rootDir, '--name', 'no spaces', '--cmdline', CMDLINE, '-o', join(dir, 'y.vhd')]);
    assert.equal(name.code, 2, name.stderr);
    assert.match(name.stderr, /appliance\.json: name may only contain letters, digits/);
    const missing = await romvisor(['appliance', 'create', '--root', rootDir, '--name', 'z', '--cmdline', CMDLINE, '-o', join(dir, 'z.vhd')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--kernel is required/);
  });
});
