/**
 * Node-only: the built-in appliances as the site's own repository, which `npm run build`
 * writes to dist/appliances/repository/: each appliances/NAME.vhd.gz of the manifest
 * gunzipped to NAME-VERSION.vhd (a VHD read by range cannot be gzipped whole) and the
 * repository.json `romvisor repo build` makes of them. Any romvisor can then add the site's
 * own URL + appliances/repository/ as a repository and boot its appliances lazily.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { buildRepository } from './buildRepository.node.ts';
import type { RepositoryIndex } from './RepositoryIndex.ts';

/** Where the repository goes, relative to the site's root. */
export const BUILTIN_REPOSITORY_DIR = 'appliances/repository';

export async function publishBuiltinRepository(appliancesDir: string, outDir: string): Promise<RepositoryIndex> {
  const manifest = JSON.parse(await readFile(join(appliancesDir, 'manifest.json'), 'utf8')) as { appliances: Record<string, { file: string; version?: string }> };
  await mkdir(outDir, { recursive: true });
  for (const [name, a] of Object.entries(manifest.appliances)) {
    await pipeline(createReadStream(join(appliancesDir, a.file)), createGunzip(), createWriteStream(join(outDir, `${name}-${a.version ?? '1'}.vhd`)));
  }
  return (await buildRepository(outDir, { name: 'romvisor built-in appliances' })).index;
}
