// A repository with two versions of one appliance for the update tests and the patch
// benchmark: version 1 is the committed base appliance's root file system (its init
// formats and mounts the data disk on /data) with a 16 MiB data disk, published whole;
// version 2 is the same with one file changed, /etc/appliance-version ("2"), made whole by
// the builder and published as a patch against version 1 (`romvisor appliance diff`).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildRepository } from '../../src/repo/buildRepository.node.ts';
import { createAppliance } from '../../src/repo/createAppliance.node.ts';
import { diffAppliance, type DiffResult } from '../../src/repo/diffAppliance.node.ts';
import { QEMU_IMG } from '../disk/diskFixtures.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const EPOCH = 1_672_531_200;
export const UPDATE_APPLIANCE = 'upd';

export interface UpdateRepository {
  /** The folder to serve: upd-1.vhd (whole), upd-2.vhd (a patch over it), repository.json. */
  dir: string;
  /** Version 2 as a whole VHD (not in the repository), for comparisons. */
  wholeV2: string;
  diff: DiffResult;
}

/** The base appliance's root partition as an ext4 image file. */
function baseRoot(work: string): string {
  const manifest = JSON.parse(readFileSync(repo('appliances/manifest.json'), 'utf8'));
  const part = manifest.appliances.base.partitions[1] as { start: number; size: number };
  const vhd = join(work, 'base.vhd');
  writeFileSync(vhd, gunzipSync(readFileSync(repo('appliances/base.vhd.gz'))));
  const raw = join(work, 'base.raw');
  execFileSync(QEMU_IMG, ['convert', '-f', 'vpc', '-O', 'raw', vhd, raw]);
  const out = join(work, 'root-1.ext4');
  const from = openSync(raw, 'r');
  const to = openSync(out, 'w');
  const buf = Buffer.alloc(1 << 20);
  for (let at = 0; at < part.size; at += buf.length) {
    const n = readSync(from, buf, 0, Math.min(buf.length, part.size - at), part.start + at);
    writeSync(to, buf, 0, n, at);
  }
  closeSync(from);
  closeSync(to);
  return out;
}

export async function makeUpdateRepository(work: string): Promise<UpdateRepository> {
  const dir = join(work, 'update-repo');
  mkdirSync(dir, { recursive: true });
  const root1 = baseRoot(work);
  // Version 2: one file changed, through debugfs as a rebuild would change it.
  const root2 = join(work, 'root-2.ext4');
  writeFileSync(root2, readFileSync(root1));
  const versionFile = join(work, 'appliance-version');
  writeFileSync(versionFile, '2\n');
  execFileSync('debugfs', ['-w', '-R', 'rm /etc/appliance-version', root2], { stdio: 'pipe' });
  execFileSync('debugfs', ['-w', '-R', `write ${versionFile} /etc/appliance-version`, root2], { stdio: 'pipe' });
  const manifest = JSON.parse(readFileSync(repo('appliances/manifest.json'), 'utf8')).appliances.base;
  const make = (root: string, version: string, output: string) =>
    createAppliance({
      kernel: repo('appliances/boot/Image.gz'),
      root,
      epoch: EPOCH,
      output,
      manifest: { name: UPDATE_APPLIANCE, title: 'Update test', description: 'the base appliance with a data disk, in two versions', version, cmdline: manifest.cmdline, memoryMiB: 64, dataDiskMiB: 16 },
    });
  await make(root1, '1', join(dir, `${UPDATE_APPLIANCE}-1.vhd`));
  const wholeV2 = join(work, `${UPDATE_APPLIANCE}-2-whole.vhd`);
  await make(root2, '2', wholeV2);
  const diff = await diffAppliance(join(dir, `${UPDATE_APPLIANCE}-1.vhd`), wholeV2, join(dir, `${UPDATE_APPLIANCE}-2.vhd`));
  await buildRepository(dir, { name: 'update test' });
  if (statSync(join(dir, 'repository.json')).size === 0) throw new Error('no index written');
  return { dir, wholeV2, diff };
}
