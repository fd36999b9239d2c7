/**
 * The examples CI runs: each is a program that checks its own outcome and exits 0 only when it
 * behaved (examples/*\/demo or producer scripts), run here as a user would run it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PG_URL } from '../stores.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(file: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('examples', () => {
  it('fastify-app: a Fastify app offloading a CPU-heavy task to threads and an I/O task with retries', async () => {
    const r = await run('examples/fastify-app/demo.ts');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /the Fastify example works/);
  });

  it('postgres: a producer and a worker in separate processes on PostgreSQL', async () => {
    const r = await run('examples/postgres/producer.ts', { DATABASE_URL: PG_URL });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /25 of 25 rendered in .* all by worker pid \d+/);
    assert.match(r.out, /worker exited with code 0/);
  });
});
