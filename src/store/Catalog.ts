/**
 * The appliance catalog: built-in appliances from the manifest served next to the page,
 * plus every VHD the user imported. Built-in disk appliances come from
 * appliances/manifest.json; without it, the one built-in is the RAM-only
 * kernel + initramfs of appliances/boot/manifest.json.
 */
import { formatBytes } from '../format/formatBytes.ts';
import type { RepositoryAppliance, RepositoryVersion } from '../repo/index.ts';
import type { ImageRecord } from './imageDb.ts';

/** What a catalog entry boots from: the RAM appliance's kernel and initrd, or a VHD disk. */
export type ApplianceBootKind = 'ram' | 'disk';

export interface Appliance {
  /** 'builtin:<name>', 'image:<imageId>' or 'repo:<index URL>#<name>'. */
  id: string;
  name: string;
  title: string;
  description: string;
  origin: 'builtin' | 'imported' | 'repository';
  /** 'ram': the built-in kernel + initramfs, nothing persists; 'disk': a VHD appliance. */
  boot: ApplianceBootKind;
  memoryMiB: number;
  /** What it costs to fetch (built-in, compressed) or what the file was (import). */
  sizeBytes: number;
  /** Size of the disk the guest sees (disk appliances). */
  virtualSize?: number;
  /** A repository's appliance: the repository (its index URL and name) and the version offered (the newest). */
  repository?: { url: string; name: string; version: RepositoryVersion; appliance: RepositoryAppliance };
  /** Built-in or repository disk appliance: where its VHD (compressed or not) is. */
  source?: { url: string; sha256?: string; gzip: boolean };
  /** Built-in disk appliance: sha256 of its VHD once unpacked (what a saved state names its base by). */
  diskSha256?: string;
  /** The stored base image, once downloaded or imported. */
  imageId?: string;
  /** Kernel command line for a disk appliance (root= etc.), when the manifest names one. */
  cmdline?: string;
  /** Commands worth trying first, from the manifest. */
  tryFirst?: string[];
  /** Its data disk's size (appliance.json's dataDiskMiB): each VM gets a blank one, /dev/vdb. */
  dataDiskMiB?: number;
}

export const RAM_APPLIANCE_ID = 'builtin:initramfs';
/** Memory of an imported disk whose appliance.json asks for none (or that has none). */
const IMPORTED_MEMORY_MIB = 128;

export interface BootManifest {
  outputs: Record<string, { size: number; gunzipped?: { size: number } }>;
  boot: { cmdline: string; min_memory_mib: number };
}

function ramAppliance(boot: BootManifest | undefined): Appliance {
  const size = boot ? Object.values(boot.outputs).reduce((n, o) => n + o.size, 0) : 0;
  return {
    id: RAM_APPLIANCE_ID,
    name: 'initramfs',
    title: 'BusyBox Linux (in RAM)',
    description: 'Linux 6.1 and a BusyBox shell from an initramfs. Boots in seconds; nothing is kept when it stops.',
    origin: 'builtin',
    boot: 'ram',
    memoryMiB: 128,
    sizeBytes: size,
  };
}

/** One entry of appliances/manifest.json (schema romvisor-appliances/1), the fields we read. */
interface ManifestAppliance {
  name?: string;
  title?: string;
  description?: string;
  /** The .vhd.gz, next to the manifest ("base.vhd.gz") or from the site root ("appliances/base.vhd.gz"). */
  file?: string;
  /** Bytes of the compressed file. */
  size?: number;
  /** sha256 of the compressed file. */
  sha256?: string;
  /** The unpacked VHD: its sha256. */
  gunzipped?: { sha256?: string };
  memoryMiB?: number;
  virtual_size?: number;
  cmdline?: string;
  tryFirst?: string[];
}

function fromManifestEntry(key: string, e: ManifestAppliance, baseUrl: string): Appliance | undefined {
  if (typeof e.file !== 'string' || !/\.vhd(\.gz)?$/.test(e.file)) return undefined;
  const name = typeof e.name === 'string' ? e.name : key;
  const path = e.file.replace(/^\/+/, '');
  const memoryMiB = e.memoryMiB;
  return {
    id: `builtin:${name}`,
    name,
    title: e.title ?? name,
    description: e.description ?? '',
    origin: 'builtin',
    boot: 'disk',
    memoryMiB: typeof memoryMiB === 'number' && memoryMiB >= 64 ? memoryMiB : 64,
    sizeBytes: e.size ?? 0,
    virtualSize: e.virtual_size,
    source: { url: `${baseUrl}${path.startsWith('appliances/') ? path : `appliances/${path}`}`, sha256: e.sha256, gzip: path.endsWith('.gz') },
    diskSha256: path.endsWith('.gz') ? e.gunzipped?.sha256 : e.sha256,
    cmdline: e.cmdline,
    tryFirst: Array.isArray(e.tryFirst) ? e.tryFirst.filter((t): t is string => typeof t === 'string') : undefined,
  };
}

/** Built-in disk appliances from appliances/manifest.json; entries it cannot use are skipped. */
export function parseCatalogManifest(json: unknown, baseUrl: string): Appliance[] {
  const m = json as { appliances?: unknown };
  if (!m || typeof m.appliances !== 'object' || m.appliances === null) return [];
  const out: Appliance[] = [];
  for (const [k, e] of Object.entries(m.appliances as Record<string, ManifestAppliance>)) {
    const a = e && typeof e === 'object' ? fromManifestEntry(k, e, baseUrl) : undefined;
    if (a) out.push(a);
  }
  return out;
}

async function fetchJson(url: string): Promise<unknown | undefined> {
  try {
    const r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) return undefined;
    return await r.json();
  } catch {
    return undefined;
  }
}

export interface CatalogSource {
  builtins: Appliance[];
  bootManifest: BootManifest | undefined;
}

/** Reads the manifests next to the page. */
export async function loadBuiltinCatalog(baseUrl: string): Promise<CatalogSource> {
  const [disk, boot] = await Promise.all([fetchJson(`${baseUrl}appliances/manifest.json`), fetchJson(`${baseUrl}appliances/boot/manifest.json`)]);
  const bootManifest = boot as BootManifest | undefined;
  const builtins = [ramAppliance(bootManifest), ...(disk ? parseCatalogManifest(disk, baseUrl) : [])];
  return { builtins, bootManifest };
}

/**
 * The catalog as the user sees it: built-ins and repository appliances (with their stored
 * image, if any) and imports.
 */
export function buildCatalog(builtins: Appliance[], images: ImageRecord[]): Appliance[] {
  const out: Appliance[] = builtins.map((a) => {
    const stored = images.find((r) => r.kind === 'base' && r.origin === a.origin && r.name === a.name && (!a.source?.sha256 || r.sourceSha256 === a.source.sha256));
    return stored ? { ...a, imageId: stored.id, virtualSize: stored.virtualSize } : a;
  });
  for (const r of images) {
    if (r.kind !== 'base' || r.origin !== 'imported') continue;
    // An imported appliance is shown as its appliance.json describes it; a plain disk by its file name.
    const m = r.appliance;
    out.push({
      id: `image:${r.id}`,
      name: r.name,
      title: m ? (m.title ?? m.name) : r.name,
      description: m?.description ?? `Imported VHD, ${formatBytes(r.virtualSize)} disk`,
      origin: 'imported',
      boot: 'disk',
      memoryMiB: m?.memoryMiB ?? IMPORTED_MEMORY_MIB,
      sizeBytes: r.size,
      virtualSize: r.virtualSize,
      imageId: r.id,
      cmdline: m?.cmdline,
      tryFirst: m && m.tryFirst.length ? m.tryFirst : undefined,
      ...(m?.dataDiskMiB !== undefined ? { dataDiskMiB: m.dataDiskMiB } : {}),
    });
  }
  return out;
}
