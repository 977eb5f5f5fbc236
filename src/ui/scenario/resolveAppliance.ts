/**
 * A scenario guest's appliance, made bootable in this browser: a built-in by name (its base
 * image downloaded into the store the first time, as for any VM), an image of the store by
 * id, or a VHD by URL, downloaded with progress and refused unless its bytes hash to the
 * scenario's sha256. The guest never writes to any of them: it boots on a scratch overlay.
 */
import type { RomHypervisor } from '../../hypervisor/index.ts';
import type { ApplianceRef } from '../../scenario/index.ts';
import type { Appliance } from '../../store/index.ts';
import { ScenarioRunError } from './ScenarioRunError.ts';

/** A URL appliance is held in memory while it is hashed. */
const MAX_URL_APPLIANCE_BYTES = 1024 * 1024 * 1024;

interface ResolvedAppliance {
  appliance: Appliance;
  /** The stored base image to overlay; undefined for an appliance that boots from RAM. */
  baseImageId?: string;
}

type DownloadProgress = (what: string, bytes: number, total: number | undefined) => void;

export async function resolveAppliance(hv: RomHypervisor, ref: ApplianceRef, progress: DownloadProgress): Promise<ResolvedAppliance> {
  let appliance: Appliance | undefined;
  if ('builtin' in ref) {
    appliance = hv.appliances().find((a) => a.origin === 'builtin' && a.name === ref.builtin);
    if (!appliance) throw new ScenarioRunError('no-appliance', `there is no built-in appliance "${ref.builtin}" (built-ins: ${builtinNames(hv)})`);
  } else if ('local' in ref) {
    appliance = hv.appliances().find((a) => a.id === ref.local || (a.imageId !== undefined && a.imageId === ref.local));
    if (!appliance) throw new ScenarioRunError('no-appliance', `this browser's store has no image "${ref.local}"; a local appliance only exists where it was imported`);
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
  let r: Response;
  try {
    r = await fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    throw new ScenarioRunError('download-failed', `GET ${url}: ${(e as Error).message} (is it HTTPS, and does the server allow cross-origin requests?)`);
  }
  if (!r.ok || !r.body) throw new ScenarioRunError('download-failed', `GET ${url}: HTTP ${r.status} ${r.statusText}`);
  const total = Number(r.headers.get('Content-Length')) || undefined;
  if (total !== undefined && total > MAX_URL_APPLIANCE_BYTES) throw new ScenarioRunError('too-large', `GET ${url}: ${total} bytes, the limit is ${MAX_URL_APPLIANCE_BYTES}`);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = r.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > MAX_URL_APPLIANCE_BYTES) {
      await reader.cancel();
      throw new ScenarioRunError('too-large', `GET ${url}: more than ${MAX_URL_APPLIANCE_BYTES} bytes; refused`);
    }
    chunks.push(value);
    progress(url, bytes, total);
  }
  const blob = new Blob(chunks as Uint8Array<ArrayBuffer>[]);
  const digest = hexOf(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())));
  if (digest !== sha256) throw new ScenarioRunError('hash-mismatch', `GET ${url}: the file's SHA-256 is ${digest}, the scenario expects ${sha256}; refused`);
  const gzip = await isGzip(blob);
  const vhd = gzip ? await new Response(blob.stream().pipeThrough(new DecompressionStream('gzip'))).blob() : blob;
  return hv.importVhd(vhd, name);
}

async function isGzip(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  return head[0] === 0x1f && head[1] === 0x8b;
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
