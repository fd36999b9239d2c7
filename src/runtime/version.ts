/**
 * The version of offload this process runs, as its package.json says, read once on first use
 * (never at import). From source (src/runtime) and built (dist/runtime) the manifest is two
 * folders up. Unreadable: 'unknown', since a version is a label for operators, not worth failing
 * a worker's start over.
 */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

/**
 * @example
 * offloadVersion() // '0.1.0'
 */
export function offloadVersion(): string {
  if (cached !== null) return cached;
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
    cached = manifest.name === 'offload' && typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
