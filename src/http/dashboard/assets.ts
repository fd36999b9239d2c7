/**
 * The built page (dist-ui/, made by `npm run build:ui`, which `npm install` runs), read into
 * memory on first use: a few hundred kilobytes. Only files found there are served, looked up by
 * exact path, so no request path reaches the file system. When the folder is missing the page
 * answers 503 with how to build it, and the folder is looked for again on the next request.
 *
 * Vite names every file under assets/ by its content hash: those are cached for a year
 * (immutable); index.html is never cached, so a new build is picked up at the next load.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist-ui/ at the package root: three levels up from src/http/dashboard/ and from dist/http/dashboard/. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dist-ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface Asset {
  body: Buffer;
  type: string;
  cacheControl: string;
}

export interface LoadedAssets {
  /** By URL path: `/index.html`, `/assets/index-3f2a.js` ... */
  files: ReadonlyMap<string, Asset>;
  /** The page's stylesheets (from Vite's manifest), for the login page. */
  stylesheets: readonly string[];
}

function walk(dir: string, base: string): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true }).flatMap((e) => {
    const rel = base === '' ? e.name : `${base}/${e.name}`;
    // .vite/ holds the build manifest, not something a browser asks for.
    if (e.name.startsWith('.')) return [];
    return e.isDirectory() ? walk(dir, rel) : [rel];
  });
}

export class DashboardAssets {
  readonly dir: string;
  #loaded: LoadedAssets | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The files, or null when the page is not built. */
  load(): LoadedAssets | null {
    if (this.#loaded !== null) return this.#loaded;
    if (!existsSync(join(this.dir, 'index.html')) || !statSync(this.dir).isDirectory()) return null;
    const files = new Map<string, Asset>();
    for (const rel of walk(this.dir, '')) {
      files.set(`/${rel}`, {
        body: readFileSync(join(this.dir, rel)),
        type: TYPES[extname(rel)] ?? 'application/octet-stream',
        cacheControl: rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
    let stylesheets: string[] = [];
    const manifest = join(this.dir, '.vite', 'manifest.json');
    if (existsSync(manifest)) {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, { isEntry?: boolean; css?: string[] }>;
      stylesheets = Object.values(m).flatMap((chunk) => (chunk.isEntry === true ? (chunk.css ?? []) : [])).map((f) => `/${f}`);
    }
    this.#loaded = { files, stylesheets };
    return this.#loaded;
  }
}
