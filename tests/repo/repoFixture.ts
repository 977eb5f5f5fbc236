// Appliances for the repository tests and the remote-boot benchmark, made by the builder
// (`romvisor appliance create`'s code) from the project's kernel and the busybox initramfs
// tree: a 64 MiB ext4 root, console on hvc0, the initramfs /init as init.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createAppliance } from '../../src/repo/createAppliance.node.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
export const REPO_APPLIANCE_CMDLINE = 'console=hvc0 root=/dev/vda2 rw rootwait init=/init';
/** A fixed time, so the same inputs give the same VHD bytes. */
const EPOCH = 1_672_531_200;

/** The initramfs tree in `dir`/root (made once), with /etc/appliance-version saying `version`. */
function rootTree(dir: string, version: string): string {
  const root = join(dir, `root-${version}`);
  if (!existsSync(root)) {
    mkdirSync(root, { recursive: true });
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: root, input: gunzipSync(readFileSync(repo('appliances/boot/initramfs.cpio.gz'))) });
  }
  writeFileSync(join(root, 'etc/appliance-version'), `${version}\n`);
  return root;
}

/** Makes `dir`/NAME-VERSION.vhd and returns its path; the root tree is made beside `dir`. */
export async function makeRepoAppliance(dir: string, name: string, version: string, rootMiB = 64): Promise<string> {
  const output = join(dir, `${name}-${version}.vhd`);
  await createAppliance({
    kernel: repo('appliances/boot/Image.gz'),
    root: rootTree(join(dirname(dir), 'trees'), version),
    rootBytes: rootMiB * 2 ** 20,
    epoch: EPOCH,
    output,
    manifest: { name, title: `Test ${name}`, description: 'busybox on ext4, for repository tests', version, cmdline: REPO_APPLIANCE_CMDLINE, memoryMiB: 64 },
  });
  return output;
}
