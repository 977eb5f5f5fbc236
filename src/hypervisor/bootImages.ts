/**
 * The built-in boot images (OpenSBI, the Linux Image, the initramfs), fetched once per
 * page next to it and inflated with DecompressionStream; every worker gets a copy.
 */
import { gunzipIfCompressed } from './gunzipStream.ts';
import { HypervisorError } from './HypervisorError.ts';

interface BuiltinBootImages {
  firmware: Uint8Array;
  kernel: Uint8Array;
  initrd: Uint8Array;
}

/** The response body, gunzipped when the URL ends in .gz. */
async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok || !r.body) throw new HypervisorError('download-failed', `GET ${url}: HTTP ${r.status} ${r.statusText}`);
  const body = url.endsWith('.gz') ? await gunzipIfCompressed(r.body) : r.body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

let cached: Promise<BuiltinBootImages> | undefined;

export function loadBuiltinBootImages(baseUrl: string): Promise<BuiltinBootImages> {
  cached ??= (async () => {
    const [firmware, kernel, initrd] = await Promise.all([
      fetchBytes(`${baseUrl}roms/opensbi/fw_dynamic.bin`),
      fetchBytes(`${baseUrl}appliances/boot/Image.gz`),
      // Handing Linux the inflated cpio saves the guest the work (see the boot manifest).
      fetchBytes(`${baseUrl}appliances/boot/initramfs.cpio.gz`),
    ]);
    return { firmware, kernel, initrd };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
