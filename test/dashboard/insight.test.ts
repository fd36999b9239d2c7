/**
 * What the dashboard derives beyond the HTTP API, on both stores: a job with its stacks,
 * timeline and why it waits; the workers this server can see; the stats stream over a real
 * socket.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import type { JobInsight, StatsHistoryEvent, StatsSampleEvent, WorkersView } from '../../src/http/dashboard/protocol.ts';
import { deferred, nextEvent } from '../e2e/helpers.ts';
import { openSse } from '../http/sse-client.ts';
import { dashboardSuite, json, login } from './harness.ts';

dashboardSuite('dashboard insight', ({ serve, client, unique }) => {
  it('a discarded job: the job as the API shows it, each attempt\'s stack, and its timeline to the end', async () => {
    const queue = unique('q');
    const task = defineTask({ name: unique('fails'), queue, retry: { attempts: 1, backoff: 'fixed', baseMs: 1, maxMs: 1 }, handler: () => Promise.reject(new TypeError('bad <input>')) });
    const { inject, offload } = serve({ offload: { tasks: [task] } });
    const { job } = await offload.enqueue(task, { a: 1 }, { idempotencyKey: unique('key') });
    const failed = nextEvent(offload, 'job:failed', (p) => p.job.id === job.id);
    await offload.start({ concurrency: 1, queues: [queue] });
    await failed;
    const s = await login(inject, null);
    const res = await inject({ method: 'GET', url: `/dashboard/jobs/${job.id}`, headers: { cookie: s.cookie } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const i = json<JobInsight>(res);
    assert.equal(i.job.id, job.id);
    assert.equal(i.job.state, 'discarded');
    assert.deepEqual(i.job.payload, { a: 1 });
    assert.equal(i.job.errors[0]?.message, 'bad <input>');
    assert.equal(i.stacks.length, 1);
    assert.match(i.stacks[0]?.stack ?? '', /^TypeError: bad <input>\n\s+at /);
    assert.deepEqual(i.wait, [], 'a final job does not wait');
    assert.deepEqual(i.timeline.map((e) => e.kind), ['enqueued', 'attempt-started', 'attempt-failed', 'finished']);
    assert.match(i.timeline[1]?.label ?? '', new RegExp(`on worker ${offload.workerId?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') ?? 'x'}`));
    assert.equal(i.queue?.name, queue);
    assert.equal(typeof i.nowMs, 'number');
  });

  it('why a job waits: scheduled for later, then its queue paused', async () => {
    const queue = unique('later');
    const { inject, offload } = serve();
    const task = defineTask({ name: unique('later'), queue, handler: () => null });
    const later = client({ tasks: [task] });
    const { job } = await later.enqueue(task, {}, { delayMs: 3_600_000, ttlMs: 7_200_000 });
    const s = await login(inject, null);
    const read = async () => json<JobInsight>(await inject({ method: 'GET', url: `/dashboard/jobs/${job.id}`, headers: { cookie: s.cookie } }));
    let i = await read();
    assert.deepEqual(i.wait.map((r) => r.code), ['scheduled', 'deadline']);
    assert.equal(i.wait[0]?.untilMs, Date.parse(i.job.runAt));
    assert.match(i.wait[0]?.detail ?? '', /in (59 min|1 h)/);
    assert.deepEqual(i.timeline.map((e) => [e.kind, e.past]), [['enqueued', true], ['due', false], ['deadline', false]]);
    await offload.queues.pause(queue);
    i = await read();
    assert.deepEqual(i.wait.map((r) => r.code), ['queue-paused', 'scheduled', 'deadline']);
    assert.match(i.wait[0]?.detail ?? '', /1 job waits in it/);
  });

  it('a due job in a queue no worker takes asks for a worker', async () => {
    const queue = unique('orphan');
    const { inject } = serve();
    const task = defineTask({ name: unique('orphan'), queue, handler: () => null });
    const { job } = await client({ tasks: [task] }).enqueue(task, {});
    const s = await login(inject, null);
    const i = json<JobInsight>(await inject({ method: 'GET', url: `/dashboard/jobs/${job.id}`, headers: { cookie: s.cookie } }));
    assert.deepEqual(i.wait.map((r) => r.code), ['no-worker']);
    assert.match(i.wait[0]?.detail ?? '', new RegExp(`queues: \\['${queue.replace('.', '\\.')}'\\]`));
  });

  it('an unknown job is 404, and so is an id that is not a number', async () => {
    const { inject } = serve();
    const s = await login(inject, null);
    for (const id of ['987654321', 'abc', '1%3Cscript%3E']) {
      const res = await inject({ method: 'GET', url: `/dashboard/jobs/${id}`, headers: { cookie: s.cookie } });
      assert.equal(res.statusCode, 404, id);
      assert.equal(json<{ code: string }>(res).code, 'OFFLOAD_JOB_NOT_FOUND');
    }
  });

  it('workers: this server\'s own in full, and other processes\' through the running jobs they hold', async () => {
    const mine = unique('hold');
    const theirsQueue = unique('hold');
    const release = deferred();
    const task = defineTask({ name: unique('hold'), handler: () => release.promise });
    const { inject, offload } = serve({ offload: { tasks: [task] } });
    const s = await login(inject, null);
    const empty = json<WorkersView>(await inject({ method: 'GET', url: '/dashboard/workers', headers: { cookie: s.cookie } }));
    assert.equal(empty.self, null, 'not started: no workers of its own');

    // One queue each, one job each: each worker holds one running job.
    const other = client({ tasks: [task] });
    const started = [nextEvent(offload, 'job:started'), nextEvent(other, 'job:started')];
    await offload.start({ concurrency: 2, queues: [mine] });
    await other.start({ concurrency: 2, queues: [theirsQueue] });
    await offload.enqueue(task, {}, { queue: mine });
    await offload.enqueue(task, {}, { queue: theirsQueue });
    await Promise.all(started);
    const v = json<WorkersView>(await inject({ method: 'GET', url: '/dashboard/workers', headers: { cookie: s.cookie } }));
    assert.equal(v.self?.id, offload.workerId);
    assert.equal(v.self?.pid, process.pid);
    assert.equal(v.self?.concurrency, 2);
    assert.equal(typeof v.self?.loop.delayP99Ms, 'number');
    const self = v.seen.find((w) => w.self);
    const theirs = v.seen.find((w) => w.id === other.workerId);
    assert.equal(self?.id, offload.workerId, 'this server first');
    assert.equal(v.seen[0]?.self, true);
    assert.equal(self?.runningJobs, 1);
    assert.equal(theirs?.self, false);
    assert.equal(theirs?.pid, process.pid, 'host and pid come from the worker id');
    assert.equal(theirs?.runningJobs, 1);
    assert.ok(v.runningScanned >= 2, 'other suites\' running jobs on the store may be read too');
    assert.equal(v.truncated, false);
    release.resolve();
  });

  it('the stats stream: history first, then a sample each second counting this server\'s jobs', async () => {
    const queue = unique('stream');
    const task = defineTask({ name: unique('count'), queue, handler: () => 'ok' });
    const { server, offload } = serve({ offload: { tasks: [task] } });
    const url = await server.listen({ port: 0 });
    const s = await login(server.fastify.inject.bind(server.fastify), null);
    const sse = await openSse(`${url}/dashboard/stats`, { cookie: s.cookie });
    try {
      assert.equal(sse.status, 200);
      assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
      assert.match(String(sse.headers['content-security-policy']), /frame-ancestors 'none'/);
      const history = await sse.next((e) => e.event === 'history');
      assert.equal(sse.events[0]?.event, 'history', 'the first event');
      const h = history.data as StatsHistoryEvent;
      assert.equal(h.intervalMs, 1000);
      assert.ok(Array.isArray(h.samples));

      await offload.start({ concurrency: 3, queues: [queue] });
      const jobs = await Promise.all([1, 2, 3].map(async (n) => (await offload.enqueue(task, { n })).job));
      await Promise.all(jobs.map((j) => offload.jobs.waitFor(j.id)));
      // Each sample covers the second before it: wait for the ones that saw the three completions.
      let completed = 0;
      let at = sse.events.length;
      while (completed < 3) {
        const e = await sse.next((x) => x.event === 'sample', at);
        at = sse.events.indexOf(e) + 1;
        const { sample } = e.data as StatsSampleEvent;
        completed += sample.completed;
        if (sample.completed > 0) assert.ok(sample.runMs !== null && sample.runMs.p99 >= sample.runMs.p50);
      }
      assert.equal(completed, 3);
      // The picture sent with each sample is the store's latest read, which may predate start():
      // a later one shows the workers.
      const later = await sse.next((x) => x.event === 'sample' && (x.data as StatsSampleEvent).current.workers !== null, at);
      const { current } = later.data as StatsSampleEvent;
      assert.equal(current.workers?.id, offload.workerId);
      assert.ok(current.queues.some((q) => q.name === queue), 'the picture lists the queue');
    } finally {
      sse.close();
    }
  });
});
