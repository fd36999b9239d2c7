/**
 * `offload bench` as a user runs it from a checkout: the suite's own argument errors come back as
 * exit code 2, and a run reports its progress scenario by scenario, then the report.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from './cli-process.ts';

describe('offload bench', () => {
  const results = mkdtempSync(join(tmpdir(), 'offload-bench-cli-'));
  after(() => rmSync(results, { recursive: true, force: true }));

  it('a scenario the suite does not know exits 2 naming it', async () => {
    const r = await cli(['bench', '--scenario', 'nope'], { env: { BENCH_RESULTS_DIR: results } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown 'nope'/);
  });

  it('reports progress per scenario, then the results table, and writes the results where asked', async () => {
    const r = await cli(['bench', '--quick', '--only', 'offload-sqlite', '--scenario', 'enqueue'], { env: { BENCH_RESULTS_DIR: results } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /progress 1\/1: offload-sqlite: enqueue/);
    assert.match(r.stdout, /enqueue, 50 in flight\s+jobs\/s\s+[\d,]+/);
    assert.ok(existsSync(join(results, 'latest.json')));
    assert.ok(existsSync(join(results, 'run.log')));
  });
});
