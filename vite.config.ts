import { createReadStream, existsSync, mkdirSync, copyFileSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { BUILTIN_REPOSITORY_DIR, publishBuiltinRepository } from './src/repo/publishBuiltins.node.ts';

// COOP/COEP make the page crossOriginIsolated in dev and preview, so SharedArrayBuffer
// console rings can be used there; static hosts without these headers fall back to
// transferable messages.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const root = dirname(fileURLToPath(import.meta.url));

/**
 * The reach probe (src/hypervisor/reachProbe.worker.ts, whatever its built file's hash) is
 * the one file served with `Cross-Origin-Embedder-Policy: credentialless`: under it the
 * probe's `no-cors` request to a server without CORS headers gets its opaque answer, which
 * tells that server from a host where nothing listens (under require-corp both fail alike).
 * credentialless keeps the page cross-origin isolated. Vite sets the isolation headers
 * after this runs (setHeader, or writeHead's object when it serves a file), so both are
 * made to keep this one value.
 */
function credentiallessProbe(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (!/\/reachProbe\.worker[^/]*$/.test((req.url ?? '').split('?')[0]!)) return next();
  const COEP = 'cross-origin-embedder-policy';
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => setHeader(name, name.toLowerCase() === COEP ? 'credentialless' : value);
  const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    for (const a of args.slice(1)) {
      if (!a || typeof a !== 'object' || Array.isArray(a)) continue;
      const headers = a as Record<string, unknown>;
      for (const k of Object.keys(headers)) if (k.toLowerCase() === COEP) headers[k] = 'credentialless';
    }
    return writeHead(...args);
  }) as typeof res.writeHead;
  res.setHeader(COEP, 'credentialless');
  next();
}

/**
 * The boot images and appliances are plain files in the repository (roms/, appliances/),
 * not modules: the page fetches them by URL and inflates .gz itself with
 * DecompressionStream. This serves them in dev and copies them into dist/ on build.
 * Only the shipped artifacts are exposed, never build scripts or sources.
 */
const STATIC_DIRS = ['roms/opensbi', 'appliances', 'appliances/boot'];
const SHIPPED = new Set(['.gz', '.bin', '.json', '.vhd']);

function shippedFiles(): string[] {
  const out: string[] = [];
  for (const dir of STATIC_DIRS) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) {
      const rel = `${dir}/${name}`;
      if (SHIPPED.has(extname(name)) && statSync(join(root, rel)).isFile()) out.push(rel);
    }
  }
  return out;
}

function applianceFiles(): Plugin {
  return {
    name: 'romvisor-appliance-files',
    configurePreviewServer(server) {
      server.middlewares.use(credentiallessProbe);
    },
    configureServer(server) {
      server.middlewares.use(credentiallessProbe);
      server.middlewares.use((req, res, next) => {
        const url = decodeURIComponent((req.url ?? '').split('?')[0]!);
        const rel = normalize(url).replace(/^[/\\]+/, '');
        const dir = dirname(rel).split(sep).join('/');
        if (!STATIC_DIRS.includes(dir) || !SHIPPED.has(extname(rel))) return next();
        const abs = join(root, rel);
        if (!existsSync(abs) || !statSync(abs).isFile()) return next();
        // Served as opaque bytes: no Content-Encoding, so the browser hands the page the
        // gzip stream as it is and the page decompresses it (the same as on a static host).
        res.setHeader('Content-Type', extname(rel) === '.json' ? 'application/json' : 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(abs).size));
        res.setHeader('Cache-Control', 'no-cache');
        for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
        createReadStream(abs).pipe(res);
      });
    },
    async writeBundle(options) {
      const outDir = options.dir ?? join(root, 'dist');
      for (const rel of shippedFiles()) {
        mkdirSync(join(outDir, dirname(rel)), { recursive: true });
        copyFileSync(join(root, rel), join(outDir, rel));
      }
      // The built-in appliances also as the site's own repository: unpacked VHDs that any
      // romvisor reads by range (romvisor boot --repo SITE/appliances/repository/ base).
      if (existsSync(join(root, 'appliances/manifest.json'))) await publishBuiltinRepository(join(root, 'appliances'), join(outDir, BUILTIN_REPOSITORY_DIR));
    },
  };
}

export default defineConfig({
  plugins: [applianceFiles()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  // Named up front: the dev server's scan starts at index.html and does not follow the VM
  // worker (new Worker(new URL(...))), so it would find comlink and fflate only when a VM
  // starts, re-bundle, and reload the page under the user.
  optimizeDeps: { include: ['comlink', 'fflate', '@xterm/xterm', '@xterm/addon-fit'] },
  build: { target: 'es2022', sourcemap: true },
});
