/**
 * A scenario guest's appliance, made bootable in this browser: a built-in by name (its base
 * image downloaded into the store the first time, as for any VM), an image of the store by
 * id, a repository's appliance (its chunks fetched as the guest reads them), or a VHD by URL, downloaded with progress and refused unless its bytes hash to the
 * scenario's sha256. The guest never writes to any of them: it boots on a scratch overlay.
 */
import type { RomHypervisor } from '../../hypervisor/index.ts';
import type { ApplianceRef } from '../../scenario/index.ts';
import type { Appliance } from '../../store/index.ts';
import { ScenarioRunError } from './ScenarioRunError.ts';
import { downloadVerified, type DownloadProgress } from './downloadVerified.ts';

/** A URL appliance is held in memory while it is hashed. */
const MAX_URL_APPLIANCE_BYTES = 1024 * 1024 * 1024;

interface ResolvedAppliance {
  appliance: Appliance;
  /** The stored base image to overlay; undefined for an appliance that boots from RAM. */
  baseImageId?: string;
}

export async function resolveAppliance(hv: RomHypervisor, ref: ApplianceRef, progress: DownloadProgress): Promise<ResolvedAppliance> {
  let appliance: Appliance | undefined;
  if ('builtin' in ref) {
    appliance = hv.appliances().find((a) => a.origin === 'builtin' && a.name === ref.builtin);
    if (!appliance) throw new ScenarioRunError('no-appliance', `there is no built-in appliance "${ref.builtin}" (built-ins: ${builtinNames(hv)})`);
  } else if ('local' in ref) {
    appliance = hv.appliances().find((a) => a.id === ref.local || (a.imageId !== undefined && a.imageId === ref.local));
    if (!appliance) throw new ScenarioRunError('no-appliance', `this browser's store has no image "${ref.local}"; a local appliance only exists where it was imported`);
  } else if ('repo' in ref) {
    // Read by range as the guest reads it, each chunk checked against the repository's index.
    appliance = await hv.repositoryAppliance(ref.repo, ref.name, ref.version).catch((e: Error) => {
      throw new ScenarioRunError('no-appliance', e.message);
    });
  } else {
    appliance = await fetchUrlAppliance(hv, ref.url, ref.sha256, progress);
  }
  if (appliance.boot === 'ram') return { appliance };
  return { appliance, baseImageId: await hv.ensureBaseImage(appliance) };
}

function builtinNames(hv: RomHypervisor): string {
  return hv.appliances().filter((a) => a.origin === 'builtin').map((a) => a.name).join(', ');
}

/** Stored under a name made of its hash, so a second run of the same link does not download it again. */
async function fetchUrlAppliance(hv: RomHypervisor, url: string, sha256: string, progress: DownloadProgress): Promise<Appliance> {
  const name = `sha256-${sha256.slice(0, 16)}.vhd`;
  const cached = hv.appliances().find((a) => a.origin === 'imported' && a.name === name);
  if (cached) return cached;
  const blob = new Blob([(await downloadVerified({ url, sha256 }, MAX_URL_APPLIANCE_BYTES, progress)) as Uint8Array<ArrayBuffer>]);
  const gzip = await isGzip(blob);
  const vhd = gzip ? await new Response(blob.stream().pipeThrough(new DecompressionStream('gzip'))).blob() : blob;
  return hv.importVhd(vhd, name);
}

async function isGzip(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  return head[0] === 0x1f && head[1] === 0x8b;
}
