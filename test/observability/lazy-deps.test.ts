/**
 * Importing offload loads neither prom-client nor pino; createMetrics() and pinoLogger() load them
 * when first called. Run in a child process: this test process may have loaded them already.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;

function loadedAfter(code: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    const offload = await import(${JSON.stringify(INDEX)});
    ${code}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = ['prom-client', 'pino'].filter((n) => cache.some((p) => p.includes('/node_modules/' + n + '/')));
    console.log(JSON.stringify(names));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('optional dependencies load on first use', () => {
  it('importing offload loads neither prom-client nor pino', () => {
    assert.deepEqual(loadedAfter(''), []);
  });

  it('createMetrics() loads prom-client, pinoLogger() loads pino', () => {
    assert.deepEqual(loadedAfter("offload.pinoLogger({ level: 'silent' });"), ['pino']);
    assert.deepEqual(loadedAfter('offload.createMetrics({ on: () => () => {}, stats: async () => ({}) });'), ['prom-client']);
  });
});
