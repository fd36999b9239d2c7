/**
 * Builds the package (dist/) before a run that measures offload: the bench loads the built
 * JavaScript, as users run it (see systems/offload-package.ts). The build is the project's own
 * `npm run build`, a couple of seconds; a failed build stops the run before anything is measured.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function buildPackage(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal}); the bench measures the built package`);
}
