/**
 * The worker child process as plain JavaScript, for the RSS scenario: the orchestrator runs under
 * tsx, whose loader (on Node 20 a thread of its own with esbuild's transform in it) would sit in
 * every child it forks, ~40 MB of RSS that is the harness's and not the system's. Users run a
 * worker as plain node with installed JavaScript, so that is what the RSS scenario measures: the
 * harness entry (worker-process.ts and what it imports from bench/) bundled once per run, every
 * package left as an import of node_modules, as it is in the TypeScript run.
 *
 * Split at the dynamic imports, as loadSystem makes them: each system's adapter is a chunk of its
 * own, so a child loads only its system's packages (one bundle would import every peer's client at
 * start). The files are written next to the system adapters (bench/systems/, `*.built.mjs`), where
 * their `import.meta.url` paths (the built package in dist/, BullMQ's processor file) resolve as
 * from the source files.
 * From source (OFFLOAD_BENCH_FROM_SOURCE=1) offload itself needs tsx, so there is no plain child.
 */
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FROM_SOURCE_ENV } from './systems/offload-build-mode.ts';

const DIR = new URL('./systems/', import.meta.url);
const OUT = new URL('./worker-process.built.mjs', DIR);

let built: Promise<URL> | null = null;

/** The bundled worker entry, built on first use; null when the child must run under tsx. */
export function plainWorkerEntry(): Promise<URL> | null {
  if (process.env[FROM_SOURCE_ENV] === '1') return null;
  if (built !== null) return built;
  // Chunks are named by hash: an earlier run's would stay behind.
  for (const f of readdirSync(DIR)) if (f.endsWith('.built.mjs')) rmSync(new URL(f, DIR));
  built = build({
    entryPoints: [fileURLToPath(new URL('./worker-process.ts', import.meta.url))],
    outdir: fileURLToPath(DIR),
    entryNames: '[name].built',
    chunkNames: '[name]-[hash].built',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  }).then(() => OUT);
  return built;
}
