// Makes sure the Debian packages that the tests and benchmarks use are installed.
// As root it installs what is missing; otherwise it prints the exact apt-get line.
import { execFileSync, spawnSync } from 'node:child_process';

export const DEBIAN_PACKAGES = [
  'qemu-system-misc', // the peer: qemu-system-riscv64
  'qemu-utils', // qemu-img, the VHD interop reference
  'qemu-block-extra', // QEMU's curl block driver: the peer of the remote-boot benchmark
  'gcc-riscv64-unknown-elf', // bare-metal ISA tests and benchmarks
  'picolibc-riscv64-unknown-elf',
  'binutils-riscv64-unknown-elf',
  'opensbi', // firmware reference for the boot tests
  'e2fsprogs', // e2fsck / mke2fs for appliance checks
  'cpio', // unpacks the initramfs for the test appliance
  'device-tree-compiler', // dtc checks the generated FDT
  'chromium', // browser tests (driven by playwright-core)
  'gdb-multiarch', // drives the gdb stub in the boot tests
  'tcpdump', // reads the switch's --pcap captures
];

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function ensureDebianPackages(pkgs = DEBIAN_PACKAGES) {
  const missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return;
  const line = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`romvisor: missing Debian packages. Run as root:\n  apt-get update && ${line}`);
    process.exit(2);
  }
  console.log(`romvisor: installing missing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureDebianPackages();
