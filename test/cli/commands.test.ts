/**
 * The `offload` commands as a user runs them, against both stores: every command at least once as
 * a child process (the exit code and output a shell sees, real signals), the other cases in
 * process through runCli (the same program, without a process start each). Plus the failures
 * every command shares: bad arguments (exit 2, a clear message, no stack trace) and an
 * unreachable store (exit 1, naming it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../src/cli/program.ts';
import { createHttpServer } from '../../src/http/index.ts';
import type { Job, Offload, QueueStats } from '../../src/index.ts';
import { client } from '../e2e/helpers.ts';
import { STORES, type TestStore } from '../stores.ts';
import { cli, cliStore, inProcess, start, TASKS, testIo } from './cli-process.ts';
import { add, fail, hold } from './fixtures/tasks.ts';

const UNREACHABLE = 'postgres://postgres:s3cret@127.0.0.1:1/test';
const ESC = String.fromCharCode(27);

function cliSuite(make: () => TestStore): void {
  const store = make();
  const spec = cliStore(store);
  describe(`offload CLI: ${store.name}`, () => {
    // A client of the test's own on the same store, to rig jobs and check what the commands did.
    let o: Offload;
    let worker: Offload;
    const s = ['--store', spec];

    after(async () => {
      await Promise.all([o?.close({ graceMs: 0 }), worker?.close({ graceMs: 0 })]);
      await store.dispose();
    });

    it('migrate applies the migrations of a fresh store, and again is a no-op', async () => {
      for (const run of [cli, inProcess]) {
        const r = await run(['migrate', ...s]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^migrations applied: (sqlite|postgres)/);
      }
      o = client(store, { tasks: [add, fail, hold] });
      worker = client(store, { tasks: [add, fail], pollMs: 20 });
      await worker.start({ queues: ['default'] });
    });

    it('enqueue stores a job; --json; a replayed key returns it; bad payloads (2) and a conflicting key (4) store nothing', async () => {
      const made = await cli(['enqueue', 'cli.add', '{"a":2,"b":3}', '--tasks', TASKS, '--queue', 'cli-enq', '--priority', '5', '--idempotency-key', 'k1', ...s]);
      assert.equal(made.code, 0, made.stderr);
      const id = /^enqueued job (\d+) \(cli\.add, queue cli-enq, runs now\)$/m.exec(made.stdout)?.[1];
      assert.ok(id !== undefined, made.stdout);
      const job = await o.jobs.get(id);
      assert.deepEqual([job?.payload, job?.queue, job?.priority, job?.idempotencyKey], [{ a: 2, b: 3 }, 'cli-enq', 5, 'k1']);

      const replay = await inProcess(['enqueue', 'cli.add', '{"a":2,"b":3}', '--tasks', TASKS, '--queue', 'cli-enq', '--idempotency-key', 'k1', '--json', ...s]);
      assert.equal(replay.code, 0, replay.stderr);
      const parsed = JSON.parse(replay.stdout) as { job: Job; created: boolean };
      assert.deepEqual([parsed.job.id, parsed.created], [id, false]);

      const [conflict, invalid, notJson, unknown, unreadable] = await Promise.all([
        cli(['enqueue', 'cli.add', '{"a":9,"b":9}', '--tasks', TASKS, '--queue', 'cli-enq', '--idempotency-key', 'k1', ...s]),
        inProcess(['enqueue', 'cli.add', '{"a":"two"}', '--tasks', TASKS, '--queue', 'cli-enq', ...s]),
        inProcess(['enqueue', 'cli.add', '{a:1}', '--tasks', TASKS, ...s]),
        inProcess(['enqueue', 'cli.nope', '{}', '--tasks', TASKS, ...s]),
        inProcess(['enqueue', 'cli.add', '--payload-file', join(tmpdir(), 'offload-no-such-payload.json'), '--tasks', TASKS, ...s]),
      ]);
      assert.equal(conflict.code, 4, conflict.stderr);
      assert.match(conflict.stderr, /idempotency key 'k1' of task 'cli\.add' was already used with another payload/);
      assert.equal(invalid.code, 2);
      assert.match(invalid.stderr, /invalid payload for task 'cli\.add': a: .*; b: /);
      assert.equal(notJson.code, 2);
      assert.match(notJson.stderr, /the payload is not JSON/);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no task named 'cli\.nope' in .*; tasks: cli\.add, cli\.fail, cli\.hold/);
      assert.equal(unreadable.code, 2);
      assert.match(unreadable.stderr, /--payload-file: cannot read/);
      assert.equal((await o.jobs.list({ queue: 'cli-enq' })).jobs.length, 1);
    });

    it('jobs list: newest first, filtered by state, task and queue, paged with --cursor; --json gives { jobs, nextCursor }', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await o.enqueue(add, { a: i, b: i }, { queue: 'cli-list' })).job.id);
      const { job: failed } = await o.enqueue(fail, {});
      await worker.jobs.waitFor(failed.id);
      const [text, page1, discarded] = await Promise.all([
        cli(['jobs', 'list', '--queue', 'cli-list', ...s]),
        inProcess(['jobs', 'list', '--queue', 'cli-list', '--limit', '2', '--json', ...s]),
        inProcess(['jobs', 'list', '--state', 'discarded,cancelled', '--task', 'cli.fail', ...s]),
      ]);
      assert.equal(text.code, 0, text.stderr);
      const rows = text.stdout.trim().split('\n');
      assert.match(rows[0]!, /^ID\s+STATE\s+TASK\s+QUEUE\s+ATTEMPT\s+WHEN\s+LAST ERROR$/);
      assert.deepEqual(rows.slice(1).map((r) => r.trim().split(/\s+/)[0]), ids.toReversed());
      const p1 = JSON.parse(page1.stdout) as { jobs: Job[]; nextCursor: string | null };
      assert.deepEqual(p1.jobs.map((j) => j.id), [ids[2], ids[1]]);
      assert.equal(p1.nextCursor, ids[1]);
      const page2 = await inProcess(['jobs', 'list', '--queue', 'cli-list', '--limit', '2', '--cursor', p1.nextCursor, '--json', ...s]);
      assert.deepEqual((JSON.parse(page2.stdout) as { jobs: Job[]; nextCursor: string | null }).jobs.map((j) => j.id), [ids[0]]);
      assert.equal(discarded.code, 0);
      assert.match(discarded.stdout, new RegExp(`^\\s*${failed.id}\\s+discarded\\s+cli\\.fail\\s+default\\s+1/1\\s+finished (now|.* ago)\\s+the printer is on fire$`, 'm'));
      const none = await inProcess(['jobs', 'list', '--queue', 'cli-nothing-here', ...s]);
      assert.equal(none.stdout, 'no jobs\n');
    });

    it('jobs show prints a job with its failed attempts; --json prints the job; a missing job exits 3', async () => {
      const { job } = await o.enqueue(fail, { n: 1 });
      await worker.jobs.waitFor(job.id);
      const [text, asJson, missing] = await Promise.all([cli(['jobs', 'show', job.id, ...s]), inProcess(['jobs', 'show', job.id, '--json', ...s]), inProcess(['jobs', 'show', '987654321', ...s])]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^job ${job.id}  discarded$`, 'm'));
      assert.match(text.stdout, /^ {2}attempt\s+1 of 1$/m);
      assert.match(text.stdout, /^ {2}payload\s+\{"n":1\}$/m);
      assert.match(text.stdout, /^ {4}attempt 1 {2}\S+ {2}Error: the printer is on fire$/m);
      const shown = JSON.parse(asJson.stdout) as Job;
      assert.deepEqual([shown.id, shown.state, shown.errors.length], [job.id, 'discarded', 1]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /no job with id '987654321'/);
    });

    it('jobs retry redrives a discarded job; retrying a completed one exits 4', async () => {
      const { job: dead } = await o.enqueue(fail, {});
      const { job: done } = await o.enqueue(add, { a: 1, b: 1 });
      await Promise.all([worker.jobs.waitFor(dead.id), worker.jobs.waitFor(done.id)]);
      const [retried, refused, missing] = await Promise.all([
        cli(['jobs', 'retry', dead.id, '--json', ...s]),
        inProcess(['jobs', 'retry', done.id, ...s]),
        inProcess(['jobs', 'retry', '987654321', ...s]),
      ]);
      assert.equal(retried.code, 0, retried.stderr);
      assert.equal((JSON.parse(retried.stdout) as Job).attempt, 0);
      assert.equal(refused.code, 4);
      assert.match(refused.stderr, new RegExp(`job ${done.id} is completed; retry applies to`));
      assert.equal(missing.code, 3);
      // The redriven job runs again (and fails again: its task always does).
      assert.equal((await worker.jobs.waitFor(dead.id)).errors.length, 2);
    });

    it('jobs cancel ends a waiting job cancelled with the reason given; cancelling a completed job exits 4', async () => {
      const { job: later } = await o.enqueue(add, { a: 1, b: 2 }, { delayMs: 3_600_000 });
      const { job: done } = await o.enqueue(add, { a: 1, b: 2 });
      await worker.jobs.waitFor(done.id);
      const [cancelled, refused] = await Promise.all([cli(['jobs', 'cancel', later.id, '--reason', 'not needed', ...s]), inProcess(['jobs', 'cancel', done.id, ...s])]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.equal(cancelled.stdout, `job ${later.id} (cli.add) is cancelled\n`);
      const stored = await o.jobs.get(later.id);
      assert.deepEqual([stored?.state, stored?.cancelReason], ['cancelled', 'not needed']);
      assert.equal(refused.code, 4);
      assert.match(refused.stderr, /is completed; only waiting or running jobs can be cancelled/);
    });

    it('jobs delete deletes a job, which is then gone (3)', async () => {
      const { job } = await o.enqueue(add, { a: 1, b: 2 }, { delayMs: 3_600_000 });
      const deleted = await cli(['jobs', 'delete', job.id, ...s]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout, `job ${job.id} deleted\n`);
      assert.equal(await o.jobs.get(job.id), null);
      const again = await inProcess(['jobs', 'delete', job.id, ...s]);
      assert.equal(again.code, 3);
    });

    it('queues list shows depth by state; pause and resume change what every process claims', async () => {
      await o.enqueue(add, { a: 1, b: 1 }, { queue: 'cli-q' });
      await o.enqueue(add, { a: 1, b: 1 }, { queue: 'cli-q', delayMs: 3_600_000 });
      const paused = await cli(['queues', 'pause', 'cli-q', ...s]);
      assert.equal(paused.code, 0, paused.stderr);
      assert.equal(paused.stdout, 'queue cli-q is paused (2 waiting, 0 running)\n');
      const [text, asJson] = await Promise.all([cli(['queues', 'list', ...s]), inProcess(['queues', 'list', '--json', ...s])]);
      assert.match(text.stdout, /^QUEUE\s+SCHEDULED\s+AVAILABLE\s+RUNNING\s+RETRYABLE\s+COMPLETED\s+CANCELLED\s+DISCARDED\s+DRAIN\/S\s+EST\. WAIT\s+MAX BACKLOG$/m);
      assert.match(text.stdout, /^cli-q\s+paused\s+1\s+1\s+0\s+0\s+0\s+0\s+0\s+0\.0\s+stalled$/m);
      const q = (JSON.parse(asJson.stdout) as QueueStats[]).find((x) => x.name === 'cli-q');
      assert.deepEqual([q?.paused, q?.counts.available, q?.counts.scheduled, q?.waiting], [true, 1, 1, 2]);
      const resumed = await cli(['queues', 'resume', 'cli-q', '--json', ...s]);
      assert.equal((JSON.parse(resumed.stdout) as QueueStats).paused, false);
      assert.equal((await o.queues.get('cli-q')).paused, false);
    });

    it('workers lists every registered process with its heartbeat age, marking a silent one stale; --json gives the list', async () => {
      const id = (await worker.stats()).workers!.id;
      const text = await cli(['workers', ...s]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^WORKER\s+HOST\s+PID\s+HEARTBEAT AGE\s+RUNNING\s+THREADS\s+LOOP P99\s+QUEUES\s+VERSION$/m);
      const cells = (out: string) => out.split('\n').find((l) => l.startsWith(`${id} `))?.split(/\s{2,}/) ?? [];
      const row = cells(text.stdout);
      assert.equal(row[2], String(process.pid), text.stdout);
      assert.match(row[3] ?? '', /^\d+(\.\d)? (ms|s)$/, 'a live heartbeat age, not stale');
      assert.match(row[4] ?? '', /^\d+\/10$/);
      assert.equal(row[5], '-', 'no thread pool');
      assert.equal(row[7], 'default');
      // Silent for most of an hour by the database clock: the row stays, marked stale. A beat of the
      // worker landing between the two calls makes it fresh again, so age it until the read sees it.
      let stale = '';
      for (let i = 0; i < 5 && !stale.includes('STALE'); i++) {
        await (await worker.ready()).testAgeWorker({ id, ms: 3_000_000 });
        stale = (await inProcess(['workers', ...s])).stdout;
      }
      assert.match(cells(stale)[3] ?? '', /^\d+ min \d+ s STALE$/);
      const asJson = await inProcess(['workers', '--json', ...s]);
      const mine = (JSON.parse(asJson.stdout) as Array<{ id: string; pid: number; heartbeatAgeMs: number }>).find((w) => w.id === id);
      assert.equal(mine?.pid, process.pid);
    });

    it('stats: one frame when not a terminal, --json a snapshot, --watch --count redraws in place, --url adds the loop delay of a server', async () => {
      const server = createHttpServer({ offload: worker, logger: false });
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      try {
        const [frame, snap, watched, withUrl, badUrl] = await Promise.all([
          cli(['stats', ...s]),
          inProcess(['stats', '--json', ...s]),
          inProcess(['stats', '--watch', '--count', '3', '--interval-ms', '100', ...s]),
          inProcess(['stats', '--url', url, ...s]),
          inProcess(['stats', '--url', 'http://127.0.0.1:1', ...s]),
        ]);
        assert.equal(frame.code, 0, frame.stderr);
        assert.match(frame.stdout, /^offload stats {2}\S+ {2}throughput \d+\.\d jobs\/s$/m);
        assert.match(frame.stdout, /^default\s+/m);
        assert.match(frame.stdout, /^LAST COMPLETED\s+WAIT P50\s+WAIT P95\s+RUN P50\s+RUN P95$/m);
        assert.match(frame.stdout, /loop delay: add --url/);
        assert.ok(!frame.stdout.includes(`${ESC}[`), 'no escape codes when not a terminal');
        const parsed = JSON.parse(snap.stdout) as { queues: QueueStats[]; recent: { completed: number; runMs: { p50: number | null } }; loop: null };
        assert.ok(parsed.recent.completed > 0);
        assert.notEqual(parsed.recent.runMs.p50, null);
        assert.equal(parsed.loop, null);
        assert.ok(parsed.queues.some((q) => q.name === 'default'));
        assert.equal(watched.code, 0, watched.stderr);
        assert.equal(watched.stdout.match(/offload stats /g)?.length, 3);
        // Frames 2 and 3 start by moving up over the previous frame and clearing below.
        assert.equal(watched.stdout.split(`F${ESC}[J`).length - 1, 2);
        assert.match(withUrl.stdout, new RegExp(`loop delay p99 [^,]+, utilisation \\d+%(, OVERLOADED \\(not claiming\\))? \\(${url.replace(/[.]/g, '\\.')}\\)`));
        assert.equal(badUrl.code, 0);
        assert.match(badUrl.stdout, /loop delay: http:\/\/127\.0\.0\.1:1\/readyz: fetch failed/);
      } finally {
        await server.close();
      }
    });

    it('worker runs the tasks until SIGTERM, serves /metrics, and a running job can be cancelled from another process; delete of a running job exits 4', async () => {
      const w = start(['worker', '--tasks', TASKS, '--queues', 'cli-worker', '--concurrency', '2', '--metrics-port', '0', '--log-level', 'info', ...s]);
      const startedLine = JSON.parse(await w.line(/"msg":"worker started"/)) as { workerId: string; queues: string[]; metrics: string; tasks: string[] };
      assert.deepEqual(startedLine.queues, ['cli-worker']);
      assert.deepEqual(startedLine.tasks, ['cli.add', 'cli.fail', 'cli.hold']);
      const { job: sum } = await o.enqueue(add, { a: 20, b: 22 }, { queue: 'cli-worker' });
      const done = await o.jobs.waitFor(sum.id);
      assert.deepEqual([done.state, done.result, done.workerId], ['completed', { sum: 42 }, startedLine.workerId]);

      const scrape = await fetch(startedLine.metrics);
      assert.equal(scrape.status, 200);
      const text = await scrape.text();
      assert.match(text, /^offload_jobs_completed_total\{task="cli\.add",queue="cli-worker"\} 1$/m);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(promtool.status, 0, `promtool: ${promtool.error?.message ?? ''}${promtool.stdout}${promtool.stderr}`);
      assert.equal((await fetch(startedLine.metrics.replace('/metrics', '/other'))).status, 404);

      const { job: held } = await o.enqueue(hold, {}, { queue: 'cli-worker' });
      await w.line(new RegExp(`"jobId":"${held.id}".*"msg":"holding"`));
      const notDeleted = await inProcess(['jobs', 'delete', held.id, ...s]);
      const cancelled = await inProcess(['jobs', 'cancel', held.id, ...s]);
      assert.equal(notDeleted.code, 4);
      assert.match(notDeleted.stderr, /is running; cancel it first/);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stdout, new RegExp(`job ${held.id} is running: cancel requested`));
      assert.equal((await o.jobs.waitFor(held.id)).state, 'cancelled');

      w.kill('SIGTERM');
      const exit = await w.exited;
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(exit.stdout, /"msg":"stopped"/);
    });

    it('dev serves the API and runs jobs on the store, prints the URLs and one line per outcome, stops on SIGINT', async () => {
      const d = start(['dev', '--store', spec, '--port', '0', '--concurrency', '2']);
      const banner = await d.line(/^offload dev: http:\/\/127\.0\.0\.1:\d+$/);
      const url = banner.slice('offload dev: '.length);
      await d.line(/^Ctrl-C stops/);
      assert.match(d.stdout(), new RegExp(`^ {2}OpenAPI {4}${url.replace(/[.]/g, '\\.')}/openapi\\.json$`, 'm'));
      assert.match(d.stdout(), /^ {2}tasks {6}examples\.hash-password \(thread\), examples\.wait, examples\.flaky$/m);
      const submit = async (task: string, payload: unknown): Promise<string> => {
        // A server just started may shed a request while its loop settles (503): a client waits
        // as long as Retry-After says and tries again.
        for (;;) {
          const r = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task, payload }) });
          if (r.status === 503 && r.headers.has('retry-after')) {
            await new Promise((resolve) => setTimeout(resolve, Number(r.headers.get('retry-after')) * 1000));
            continue;
          }
          const body = await r.text();
          assert.equal(r.status, 202, body);
          return (JSON.parse(body) as { id: string }).id;
        }
      };
      const flakyId = await submit('examples.flaky', { failures: 1 });
      const hashId = await submit('examples.hash-password', { password: 'correct horse battery' });
      await d.line(new RegExp(`failed {2}job ${flakyId} examples\\.flaky attempt 1/6: .*; retry in`));
      await d.line(new RegExp(`ok {6}job ${flakyId} examples\\.flaky completed in .* \\(attempt 2\\)`));
      await d.line(new RegExp(`ok {6}job ${hashId} examples\\.hash-password completed`));
      const hashed = await o.jobs.get(hashId);
      assert.match((hashed!.result as { hash: string }).hash, /^scrypt\$/);
      d.kill('SIGINT');
      const exit = await d.exited;
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(exit.stdout, /^stopped$/m);
    });
  });
}

for (const make of STORES) cliSuite(make);

describe('offload CLI: failures every command shares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bad arguments: exit 2 with a clear message and no stack trace', async () => {
    const never = `sqlite:${join(dir, 'never-opened.db')}`;
    const cases: Array<[string[], RegExp]> = [
      [['jobs'], /Usage: offload jobs/],
      [['jobs', 'frob'], /unknown command 'frob'/],
      [['jobs', 'show'], /missing required argument 'id'/],
      [['jobs', 'show', 'abc'], /a job id is a positive integer, got 'abc'/],
      [['jobs', 'show', '0'], /a job id is a positive integer/],
      [['jobs', 'list', '--state', 'done'], /unknown state 'done'; states: scheduled, available/],
      [['jobs', 'list', '--limit', '0'], /--limit <n>.*from 1 to 1000/],
      [['jobs', 'list', '--limit', 'x'], /expected an integer/],
      [['jobs', 'list', '--cursor', 'zz'], /a job id is a positive integer/],
      [['jobs', 'retry'], /missing required argument 'id'/],
      [['jobs', 'cancel', '1', '--reasn', 'x'], /unknown option '--reasn'/],
      [['jobs', 'delete', '-1'], /unknown option '-1'|a job id is a positive integer/],
      [['queues', 'pause'], /missing required argument 'queue'/],
      [['queues', 'pause', 'no spaces'], /a queue name is 1 to 200 letters/],
      [['queues', 'resume', '-x'], /unknown option '-x'/],
      [['enqueue'], /missing required argument 'task'/],
      [['enqueue', 'cli.add'], /enqueue needs --tasks <module>/],
      [['enqueue', 'cli.add', '{}', '--tasks', 'missing.ts'], /--tasks: no such file/],
      [['enqueue', 'cli.add', '{}', '--payload-file', 'x.json', '--tasks', TASKS], /as an argument or with --payload-file, not both/],
      [['enqueue', 'cli.add', '{}', '--tasks', TASKS, '--priority', '40000'], /--priority <n>.*from -32768 to 32767/],
      [['enqueue', 'cli.add', '{}', '--tasks', TASKS, '--delay-ms', '-5'], /--delay-ms <ms>.*from 0/],
      [['migrate', '--store', 'mysql://x'], /must be sqlite:PATH or a postgres:\/\/ URL/],
      [['migrate', '--store', 'sqlite:'], /needs a path/],
      [['worker'], /worker needs --tasks <module>/],
      [['worker', '--tasks', TASKS, '--concurrency', '0', '--store', never], /--concurrency <n>.*from 1 to 10000/],
      [['worker', '--tasks', TASKS, '--queues', 'a,,b', '--store', never], /expected queue names separated by commas/],
      [['worker', '--tasks', TASKS, '--log-level', 'loud', '--store', never], /--log-level/],
      [['dev', '--port', '99999'], /--port <n>.*from 0 to 65535/],
      [['dev', '--tasks', 'test/http/fixtures/no-tasks.ts'], /exports no task/],
      [['stats', '--interval-ms', '5'], /--interval-ms <ms>.*from 100/],
      [['stats', '--count', '0'], /--count <n>/],
      [['stats', '--url', 'ftp://x', '--store', never], /--url must be an http\(s\) URL/],
    ];
    for (const [argv, pattern] of cases) {
      const io = testIo();
      assert.equal(await runCli(argv, io), 2, argv.join(' '));
      assert.match(io.err() + io.out(), pattern, argv.join(' '));
      assert.doesNotMatch(io.err(), /\n\s+at /, `no stack trace: ${argv.join(' ')}`);
    }
    assert.equal(existsSync(join(dir, 'never-opened.db')), false, 'bad arguments open no store');
    // And through the executable: the exit code a shell sees.
    const real = await cli(['jobs', 'show', 'abc']);
    assert.equal(real.code, 2);
    assert.match(real.stderr, /a job id is a positive integer/);
  });

  it('an unreachable store: every command exits 1 with a message naming it, password hidden', async () => {
    const s = ['--store', UNREACHABLE];
    const commands: string[][] = [
      ['migrate', ...s],
      ['enqueue', 'cli.add', '{"a":1,"b":2}', '--tasks', TASKS, ...s],
      ['jobs', 'list', ...s],
      ['jobs', 'show', '1', ...s],
      ['jobs', 'retry', '1', ...s],
      ['jobs', 'cancel', '1', ...s],
      ['jobs', 'delete', '1', ...s],
      ['queues', 'list', ...s],
      ['queues', 'pause', 'default', ...s],
      ['queues', 'resume', 'default', ...s],
      ['stats', ...s],
      ['worker', '--tasks', TASKS, ...s],
      ['dev', '--port', '0', ...s],
    ];
    // Through the executable for the long-running commands and one short one; in process for the rest.
    const runs = await Promise.all(commands.map((argv) => (['worker', 'dev', 'migrate'].includes(argv[0]!) ? cli(argv) : inProcess(argv))));
    for (const [i, r] of runs.entries()) {
      const argv = commands[i]!.join(' ');
      assert.equal(r.code, 1, `${argv}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^offload: cannot reach the store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/m, argv);
      assert.doesNotMatch(r.stderr + r.stdout, /s3cret/, argv);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${argv}`);
    }
  });

  it('OFFLOAD_STORE names the store when --store is not given; dev ignores it and keeps its SQLite file under .offload/', async () => {
    const path = join(dir, 'from-env.db');
    const r = await cli(['migrate'], { env: { OFFLOAD_STORE: `sqlite:${path}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `migrations applied: sqlite:${path}\n`);
    assert.equal(existsSync(path), true);

    const cwd = mkdtempSync(join(dir, 'dev-'));
    writeFileSync(join(cwd, 'package.json'), '{"type":"module"}');
    const d = start(['dev', '--port', '0'], { cwd, env: { OFFLOAD_STORE: UNREACHABLE } });
    await d.line(/^ {2}store {6}sqlite:\.offload\/dev\.db$/);
    assert.equal(existsSync(join(cwd, '.offload', 'dev.db')), true);
    d.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, `${exit.signal ?? ''} ${exit.stdout} ${exit.stderr}`);
  });
});
