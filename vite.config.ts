import { defineConfig } from 'vite';

// COOP/COEP make the page crossOriginIsolated in dev and preview, so SharedArrayBuffer
// console rings can be used there; static hosts without these headers fall back to
// transferable messages.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
});
