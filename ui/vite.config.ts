/**
 * Builds the dashboard page (ui/src) into dist-ui/, which the server serves (src/http/dashboard).
 * `npm run build:ui`; `npm install` runs it through `prepare`.
 *
 * Output fit for the server's CSP (script-src 'self', style-src 'self'): scripts and styles are
 * files, nothing inline; no module-preload polyfill (it would be one more inline-capable piece).
 * The manifest tells the server the stylesheets, for its login page.
 *
 * `npm run dev:ui` serves the page with hot reload, passing the server's routes on to a running
 * offload server (OFFLOAD_URL, default http://127.0.0.1:3000).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const target = process.env['OFFLOAD_URL'] ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist-ui/', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    // No data: URLs for fonts or images: every asset is a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(['/dashboard', '/login', '/logout'].map((path) => [path, { target, changeOrigin: false }])),
  },
});
