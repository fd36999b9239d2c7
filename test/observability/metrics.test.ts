/**
 * Metrics after a scripted run, once per store: every counter equals what the script made happen,
 * the gauges equal the store's counts, and the exposition passes `promtool check metrics` (the
 * Prometheus project's own parser and linter, from Debian's `prometheus` package; .ci/run installs
 * it when missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { cancel, createOffload, defineTask, isOffloadError, snooze, type Offload } from '../../src/index.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { postgres } from '../../src/storage/postgres/index.ts';
import { client, deferred, nextEvent, silent } from '../e2e/helpers.ts';
import { STORES, type TestStore } from '../stores.ts';
import { welcomeOnThread } from './fixtures/thread-tasks.ts';

type Labels = Record<string, string | number>;

/** The value of one sample, or undefined when the series is absent. */
async function sample(m: Metrics, name: string, labels: Labels = {}, metricName = name): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ''));
  assert.ok(metric !== undefined, `no metric ${name}`);
  const { values } = await metric.get();
  const hit = (values as Array<(typeof values)[number] & { metricName?: string }>).find((v) => (v.metricName ?? name) === metricName && Object.entries(labels).every(([k, val]) => (v.labels as Labels)[k] === val) && Object.keys(v.labels).filter((k) => k !== 'le').length === Object.keys(labels).length);
  return hit?.value;
}

const def = (task: string) => ({ task, queue: 'default' });

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && pattern.test(err.message));
}

const count = (m: Metrics, name: string, labels: Labels) => sample(m, name, labels, `${name}_count`);

/** Runs `promtool check metrics` on the exposition; fails clearly when promtool is missing. */
function promtoolCheck(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    assert.fail("promtool is not installed: it validates the exposition format. Install Debian's prometheus package (apt-get install -y prometheus); .ci/run does.");
  }
  assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reported lint problems');
}

function metricsSuite(make: () => TestStore): void {
  const store = make();
  describe(`metrics: ${store.name}`, () => {
    const open: Offload[] = [];
    const use = (o: Offload) => (open.push(o), o);
    before(async () => {
      await use(client(store)).migrate();
    });
    after(async () => {
      await Promise.all(open.map((o) => o.close({ graceMs: 0 })));
      await store.dispose();
    });

    it('after a scripted run, every counter, histogram count and gauge equals what happened', async () => {
      const napped = new Set<string>();
      const gate = deferred();
      const slowStarted = deferred();
      const ok = defineTask({ name: 'm.ok', handler: () => 'done' });
      const flaky = defineTask({
        name: 'm.flaky',
        retry: { attempts: 2, backoff: 'fixed', baseMs: 1, maxMs: 1 },
        handler: (_p, ctx) => {
          if (ctx.attempt === 1) throw new Error('first attempt fails');
          return 'second time lucky';
        },
      });
      const doomed = defineTask({ name: 'm.doomed', retry: { attempts: 1, backoff: 'fixed', baseMs: 1, maxMs: 1 }, handler: () => Promise.reject(new Error('always fails')) });
      const quit = defineTask({ name: 'm.quit', handler: () => Promise.reject(cancel('not needed any more')) });
      const nap = defineTask({
        name: 'm.nap',
        handler: (_p, ctx) => {
          if (napped.has(ctx.jobId)) return 'rested';
          napped.add(ctx.jobId);
          throw snooze(1);
        },
      });
      const slow = defineTask({
        name: 'm.slow',
        handler: async (_p, ctx) => {
          if (ctx.attempt === 1) {
            slowStarted.resolve();
            await gate.promise;
          }
          return 'slow done';
        },
      });
      const o = use(client(store, { tasks: [ok, flaky, doomed, quit, nap, slow], pollMs: 20, queues: { limited: { maxBacklog: 1 } } }));
      const metrics = createMetrics(o);

      // Enqueue: 5 ok, 2 flaky, 3 doomed, 1 quit, 1 nap; one ok into a bounded queue and one refused
      // there; one ok that expires in a queue no worker takes.
      const jobs = [
        ...(await o.enqueueMany(ok, [{}, {}, {}, {}, {}])),
        ...(await o.enqueueMany(flaky, [{}, {}])),
        ...(await o.enqueueMany(doomed, [{}, {}, {}])),
        await o.enqueue(quit, {}),
        await o.enqueue(nap, {}),
      ].map((r) => r.job);
      await o.enqueue(ok, {}, { queue: 'limited' });
      await assert.rejects(o.enqueue(ok, {}, { queue: 'limited' }), (err: unknown) => isOffloadError(err, 'OFFLOAD_OVERLOADED'));
      const { job: stale } = await o.enqueue(ok, {}, { queue: 'nobody', ttlMs: 60_000 });
      await o.driver.testAgeJob({ id: stale.id, ms: 120_000 });
      assert.deepEqual((await o.maintenance.expire()).map((j) => j.id), [stale.id]);

      await o.start({ concurrency: 4 });
      for (const j of jobs) await o.jobs.waitFor(j.id);

      // A rescue: the slow job's lease expires while its first attempt runs; the rescuer returns it,
      // the first attempt's outcome is refused (lease lost), the second attempt completes.
      const { job: slowJob } = await o.enqueue(slow, {});
      await slowStarted.promise;
      await o.driver.testSetLeaseExpiry({ id: slowJob.id, inMs: -60_000 });
      const lost = nextEvent(o, 'job:lease-lost', (p) => p.job.id === slowJob.id);
      assert.deepEqual((await o.maintenance.rescue()).retried, [slowJob.id]);
      gate.resolve();
      await lost;
      assert.equal((await o.jobs.waitFor(slowJob.id)).state, 'completed');

      const expected: Array<[string, Labels, number]> = [
        ['offload_jobs_enqueued_total', def('m.ok'), 5],
        ['offload_jobs_enqueued_total', { task: 'm.ok', queue: 'limited' }, 1],
        ['offload_jobs_enqueued_total', { task: 'm.ok', queue: 'nobody' }, 1],
        ['offload_jobs_enqueued_total', def('m.flaky'), 2],
        ['offload_jobs_enqueued_total', def('m.doomed'), 3],
        ['offload_jobs_enqueued_total', def('m.slow'), 1],
        ['offload_jobs_rejected_total', { task: 'm.ok', queue: 'limited', reason: 'backlog' }, 1],
        ['offload_jobs_rejected_total', { ...def('m.ok'), reason: 'backlog' }, 0],
        ['offload_jobs_expired_total', { task: 'm.ok', queue: 'nobody' }, 1],
        ['offload_jobs_started_total', def('m.ok'), 5],
        ['offload_jobs_started_total', def('m.flaky'), 4],
        ['offload_jobs_started_total', def('m.doomed'), 3],
        ['offload_jobs_started_total', def('m.quit'), 1],
        ['offload_jobs_started_total', def('m.nap'), 2],
        ['offload_jobs_started_total', def('m.slow'), 2],
        ['offload_jobs_started_total', { task: 'm.ok', queue: 'limited' }, 0],
        ['offload_jobs_completed_total', def('m.ok'), 5],
        ['offload_jobs_completed_total', def('m.flaky'), 2],
        ['offload_jobs_completed_total', def('m.nap'), 1],
        ['offload_jobs_completed_total', def('m.slow'), 1],
        ['offload_jobs_completed_total', def('m.doomed'), 0],
        ['offload_jobs_failed_total', def('m.flaky'), 2],
        ['offload_jobs_failed_total', def('m.doomed'), 3],
        ['offload_jobs_retried_total', def('m.flaky'), 2],
        ['offload_jobs_retried_total', def('m.doomed'), 0],
        ['offload_jobs_discarded_total', def('m.doomed'), 3],
        ['offload_jobs_discarded_total', def('m.flaky'), 0],
        ['offload_jobs_cancelled_total', def('m.quit'), 1],
        ['offload_jobs_snoozed_total', def('m.nap'), 1],
        ['offload_jobs_lease_lost_total', def('m.slow'), 1],
        ['offload_jobs_released_total', def('m.slow'), 0],
        ['offload_jobs_rescued_total', { outcome: 'retried' }, 1],
        ['offload_jobs_rescued_total', { outcome: 'discarded' }, 0],
        ['offload_metrics_label_overflow_total', {}, 0],
      ];
      for (const [name, labels, value] of expected) assert.equal(await sample(metrics, name, labels), value, `${name} ${JSON.stringify(labels)}`);

      // Histograms: one wait per attempt started; one run time per attempt, by outcome.
      assert.equal(await count(metrics, 'offload_job_wait_seconds', def('m.flaky')), 4);
      assert.equal(await count(metrics, 'offload_job_wait_seconds', def('m.slow')), 2);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.ok'), outcome: 'completed' }), 5);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.flaky'), outcome: 'retried' }), 2);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.flaky'), outcome: 'completed' }), 2);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.doomed'), outcome: 'discarded' }), 3);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.quit'), outcome: 'cancelled' }), 1);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.nap'), outcome: 'snoozed' }), 1);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.slow'), outcome: 'lease_lost' }), 1);
      assert.equal(await count(metrics, 'offload_job_duration_seconds', { ...def('m.slow'), outcome: 'completed' }), 1);

      // Gauges, read from the store at scrape time.
      const depth = (queue: string, state: string) => sample(metrics, 'offload_queue_jobs', { queue, state });
      assert.equal(await depth('default', 'completed'), 5 + 2 + 1 + 1);
      assert.equal(await depth('default', 'discarded'), 3);
      assert.equal(await depth('default', 'cancelled'), 1);
      assert.equal(await depth('default', 'running'), 0);
      assert.equal(await depth('limited', 'available'), 1);
      assert.equal(await depth('nobody', 'cancelled'), 1);
      assert.equal(await sample(metrics, 'offload_queue_max_backlog', { queue: 'limited' }), 1);
      assert.equal(await sample(metrics, 'offload_queue_max_backlog', { queue: 'default' }), undefined);
      assert.equal(await sample(metrics, 'offload_queue_paused', { queue: 'default' }), 0);
      assert.equal(await sample(metrics, 'offload_stats_up'), 1);
      assert.equal(await sample(metrics, 'offload_worker_concurrency'), 4);
      assert.equal(await sample(metrics, 'offload_worker_running_jobs'), 0);
      assert.equal(await sample(metrics, 'offload_worker_claiming'), 1);
      const p99 = await sample(metrics, 'offload_event_loop_delay_p99_seconds');
      assert.ok(p99 !== undefined && p99 >= 0);

      const text = await metrics.text();
      assert.match(text, /^offload_jobs_completed_total\{task="m\.ok",queue="default"\} 5$/m);
      // Bounded cardinality: only these label names exist, and no label value is a job id.
      const labelNames = new Set<string>();
      const ids = new Set(jobs.map((j) => j.id));
      for (const m of await metrics.registry.getMetricsAsJSON()) {
        for (const v of m.values) {
          for (const [k, val] of Object.entries(v.labels)) {
            labelNames.add(k);
            if (k !== 'le') assert.ok(!ids.has(String(val)), `${m.name} has a job id as ${k}`);
          }
        }
      }
      assert.deepEqual([...labelNames].toSorted(), ['le', 'outcome', 'queue', 'reason', 'state', 'task']);
      promtoolCheck(text);
      metrics.close();
    });

    it('reports the thread pool of kind: thread tasks', async () => {
      const o = use(client(store, { tasks: [welcomeOnThread], threads: { size: 1 }, pollMs: 20 }));
      const metrics = createMetrics(o);
      // Gauges without labels always have a sample: 0 while there is no pool (before start()).
      assert.equal(await sample(metrics, 'offload_thread_pool_threads'), 0);
      assert.equal(await sample(metrics, 'offload_worker_concurrency'), 0);
      await o.start({ concurrency: 2 });
      const { job } = await o.enqueue(welcomeOnThread, { email: 'ada@example.com' });
      assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
      assert.equal(await sample(metrics, 'offload_jobs_completed_total', { task: welcomeOnThread.name, queue: 'default' }), 1);
      assert.equal(await sample(metrics, 'offload_thread_pool_threads'), 1);
      assert.equal(await sample(metrics, 'offload_thread_pool_busy_threads'), 0);
      assert.equal(await sample(metrics, 'offload_thread_pool_utilization_ratio'), 0);
      assert.equal(await sample(metrics, 'offload_thread_pool_queued_jobs'), 0);
      assert.equal(await sample(metrics, 'offload_thread_pool_retired_threads_total'), 0);
      promtoolCheck(await metrics.text());
      metrics.close();
    });

    it('folds (task, queue) pairs past maxLabelSets into _other, and leaves extra queues out of the gauges', async () => {
      const tasks = ['o.a', 'o.b', 'o.c'].map((n) => defineTask({ name: n, queue: `q-${n}`, handler: () => null }));
      const o = use(client(store, { tasks }));
      const metrics = createMetrics(o, { maxLabelSets: 2 });
      for (const t of tasks) await o.enqueue(t, {});
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: 'o.a', queue: 'q-o.a' }), 1);
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: 'o.b', queue: 'q-o.b' }), 1);
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: 'o.c', queue: 'q-o.c' }), undefined);
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: '_other', queue: '_other' }), 1);
      assert.equal(await sample(metrics, 'offload_metrics_label_overflow_total'), 1);
      const queues = new Set((await metrics.registry.getSingleMetric('offload_queue_jobs')!.get()).values.map((v) => v.labels['queue']));
      assert.equal(queues.size, 2);
      assert.ok((await sample(metrics, 'offload_metrics_label_overflow_total'))! > 1, 'queues left out are counted');
      promtoolCheck(await metrics.text());
      metrics.close();
    });

    it('keeps serving counters when stats cannot be read: offload_stats_up 0, store gauges absent, loop gauges from loop()', async () => {
      const t = defineTask({ name: 'down.task', handler: () => null });
      const o = createOffload({ store: store.open(), tasks: [t], logger: silent });
      const metrics = createMetrics(o);
      await o.enqueue(t, {});
      await o.close();
      assert.equal(await sample(metrics, 'offload_stats_up'), 0);
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: 'down.task', queue: 'default' }), 1);
      assert.deepEqual((await metrics.registry.getSingleMetric('offload_queue_jobs')!.get()).values, []);
      assert.notEqual(await sample(metrics, 'offload_event_loop_delay_p99_seconds'), undefined);
      promtoolCheck(await metrics.text());
      metrics.close();
    });

    it('stops counting after close(), which is idempotent; a registry takes one client', async () => {
      const t = defineTask({ name: 'closing.task', handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      const registry = new Registry();
      const metrics = createMetrics(o, { registry });
      await o.enqueue(t, {});
      metrics.close();
      metrics.close();
      await o.enqueue(t, {});
      assert.equal(await sample(metrics, 'offload_jobs_enqueued_total', { task: 'closing.task', queue: 'default' }), 1);
      assert.deepEqual((await registry.getSingleMetric('offload_queue_jobs')!.get()).values, []);
      assert.throws(() => createMetrics(o, { registry }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /already has offload metrics/.test(err.message));
    });
  });
}

for (const make of STORES) metricsSuite(make);

describe('metrics: without a reachable store, and bad options', () => {
  it('a PostgreSQL store that refuses connections gives offload_stats_up 0, not a failed scrape', async () => {
    const o = createOffload({ store: postgres({ url: 'postgres://postgres@127.0.0.1:1/test' }), logger: silent });
    const metrics = createMetrics(o);
    try {
      assert.equal(await sample(metrics, 'offload_stats_up'), 0);
      promtoolCheck(await metrics.text());
    } finally {
      metrics.close();
      await o.close();
    }
  });

  it('refuses bad options and a source that is not a client', async () => {
    const o = createOffload({ store: postgres({ url: 'postgres://postgres@127.0.0.1:1/test' }), logger: silent });
    invalid(() => createMetrics(o, { maxLabelSet: 5 } as never), /unknown option 'maxLabelSet' \(did you mean 'maxLabelSets'\?\)/);
    invalid(() => createMetrics(o, { maxLabelSets: 0 }), /maxLabelSets/);
    invalid(() => createMetrics(o, { waitBuckets: [1, 0.5] }), /waitBuckets must be/);
    invalid(() => createMetrics(o, { durationBuckets: [] }), /durationBuckets must be/);
    invalid(() => createMetrics(o, { registry: {} as never }), /prom-client Registry/);
    invalid(() => createMetrics({} as never), /expected an offload client/);
    await o.close();
  });
});
