/**
 * `offload serve`: arguments, store and tasks errors, serving with and without workers, tokens
 * from the environment, graceful stop. Most runs are in-process through `runCli` with a test
 * `CliIo` (its stop signal is a function call); one spawns the real executable and sends SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { defineTask } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { httpSuite } from './harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASKS = join(ROOT, 'test/http/fixtures/tasks.ts');

/** The CLI's form of a test store's spec. */
function cliStore(store: TestStore): string {
  if (store.name === 'sqlite') return store.spec;
  const [url, schema] = store.spec.slice('postgres:'.length).split('#') as [string, string];
  return `${url}?schema=${schema}`;
}

interface TestIo extends CliIo {
  out: () => string;
  err: () => string;
  /** Resolves with the first log line (JSON) whose msg is `msg`. */
  logLine(msg: string): Promise<Record<string, unknown>>;
  signal(name: NodeJS.Signals): void;
  /** Moves the test clock on. */
  advance(ms: number): void;
}

function testIo(env: Record<string, string> = {}): TestIo {
  let out = '';
  let err = '';
  const waiters: Array<{ msg: string; resolve: (l: Record<string, unknown>) => void }> = [];
  const stopListeners = new Set<(s: NodeJS.Signals) => void>();
  let clock = 1_000_000;
  const check = () => {
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const found = lines.find((l) => l['msg'] === waiters[i]!.msg);
      if (found !== undefined) waiters.splice(i, 1)[0]!.resolve(found);
    }
  };
  return {
    stdout: new Writable({
      write(chunk: Buffer, _e, done) {
        out += chunk.toString();
        check();
        done();
      },
    }),
    stderr: new Writable({
      write(chunk: Buffer, _e, done) {
        err += chunk.toString();
        done();
      },
    }),
    env,
    cwd: ROOT,
    now: () => clock,
    advance: (ms) => (clock += ms),
    onStopSignal(fn) {
      stopListeners.add(fn);
      return () => stopListeners.delete(fn);
    },
    out: () => out,
    err: () => err,
    logLine: (msg) =>
      new Promise((resolve) => {
        waiters.push({ msg, resolve });
        check();
      }),
    signal: (name) => {
      for (const fn of stopListeners) fn(name);
    },
  };
}

describe('offload CLI: arguments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const store = `sqlite:${join(dir, 'never-opened.db')}`;

  it('exit 2 with a clear message for every kind of bad invocation', async () => {
    writeFileSync(join(dir, 'broken.mjs'), 'export const x = ;\n');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], {}, /Usage: offload/],
      [['launch'], {}, /unknown command 'launch'/],
      [['serve', '--tasks', TASKS, '--bogus'], {}, /unknown option '--bogus'/],
      [['serve', '--tasks', TASKS, '--port', 'abc'], {}, /--port <n>.*expected an integer/],
      [['serve', '--tasks', TASKS, '--port', '70000'], {}, /from 0 to 65535/],
      [['serve', '--tasks', TASKS, '--concurrency', '0'], {}, /--concurrency/],
      [['serve', '--tasks', TASKS, '--log-level', 'loud'], {}, /--log-level/],
      [['serve', '--tasks', TASKS, '--store', store, '--redact', 'a..b'], {}, /--redact: .*"a\.\.b" is not a path inside the payload/],
      [['serve'], {}, /needs --tasks/],
      [['serve', '--tasks', 'missing.ts'], {}, /no such file/],
      [['serve', '--tasks', join(dir, 'broken.mjs')], {}, /cannot import/],
      [['serve', '--tasks', 'test/http/fixtures/no-tasks.ts'], {}, /exports no task/],
      [['serve', '--tasks', TASKS, '--store', 'mysql://x'], {}, /must be sqlite:PATH or a postgres:\/\/ URL/],
      [['serve', '--tasks', TASKS, '--store', 'sqlite:'], {}, /needs a path/],
      [['serve', '--tasks', TASKS, '--store', 'postgres://x@127.0.0.1/db?schema=bad-name!'], {}, /schema/],
      [['serve', '--tasks', TASKS, '--store', store, '--host', '0.0.0.0'], {}, /refusing to serve on 0\.0\.0\.0 without API tokens/],
      [['serve', '--tasks', TASKS, '--store', store], { OFFLOAD_API_TOKENS: 'ci:read:short' }, /OFFLOAD_API_TOKENS: .*at least 16 characters/],
    ];
    for (const [argv, env, pattern] of cases) {
      const io = testIo(env);
      assert.equal(await runCli(argv, io), 2, argv.join(' '));
      assert.match(io.err() + io.out(), pattern, argv.join(' '));
      assert.doesNotMatch(io.err(), /\n\s+at /, `no stack trace: ${argv.join(' ')}`);
    }
  });

  it('--help exits 0', async () => {
    const io = testIo();
    assert.equal(await runCli(['serve', '--help'], io), 0);
    assert.match(io.out(), /--no-workers/);
  });

  it('exit 1 naming the store when it cannot be reached or opened', async () => {
    const unreachable = testIo();
    assert.equal(await runCli(['serve', '--tasks', TASKS, '--store', 'postgres://postgres:hunter2@127.0.0.1:1/test'], unreachable), 1);
    assert.match(unreachable.err(), /cannot reach the store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
    assert.doesNotMatch(unreachable.err(), /hunter2/);
    writeFileSync(join(dir, 'a-file'), '');
    const unopenable = testIo();
    assert.equal(await runCli(['serve', '--tasks', TASKS, '--store', `sqlite:${join(dir, 'a-file', 'sub', 'x.db')}`], unopenable), 1);
    assert.match(unopenable.err(), /cannot (open|reach) the store sqlite:/);
  });
});

httpSuite('offload serve', (s) => {
  const started = async (argv: string[], env: Record<string, string> = {}) => {
    const io = testIo(env);
    // No shedding: on a busy machine it would answer 503 to tests that are not about it.
    const exit = runCli(['serve', '--tasks', TASKS, '--store', cliStore(s.store), '--port', '0', '--no-shed-load', '--log-level', 'info', ...argv], io);
    const listening = await Promise.race([io.logLine('listening'), exit.then((code) => assert.fail(`exited ${code}: ${io.err()}`))]);
    return { io, exit, url: String(listening['url']), listening };
  };

  it('serves the API, runs the jobs in this process, and stops gracefully on a signal', async () => {
    const { io, exit, url, listening } = await started(['--concurrency', '4']);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(listening['tasks'], ['math.add', 'greet']);
    assert.equal(listening['workers'], true);
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'math.add', payload: { a: 2, b: 3 } }) });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const done = await fetch(`${url}/v1/jobs/${id}/result?wait=30s`);
    assert.equal(done.status, 200);
    assert.deepEqual(((await done.json()) as { result: unknown }).result, { sum: 5 });
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: { workers: { concurrency: number } } };
    assert.equal(ready.checks.workers.concurrency, 4);
    assert.match(io.out(), /"msg":"request completed"/);
    io.signal('SIGTERM');
    assert.equal(await exit, 0);
    await io.logLine('stopped');
    await assert.rejects(fetch(`${url}/healthz`));
  });

  it('--redact hides payload paths from the API and from the logs; the job keeps them', async () => {
    const { io, exit, url } = await started(['--redact', 'secret', '--redact', 'card.number,tags[*]', '--log-level', 'debug']);
    const payload = { name: 'ada', secret: 'hunter2-in-payload', card: { number: '4111-0000', kind: 'visa' }, tags: ['t-one', 't-two'] };
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'greet', payload }) });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const done = await fetch(`${url}/v1/jobs/${id}/result?wait=30s`);
    assert.equal(((await done.json()) as { result: unknown }).result, 'hello ada');
    const text = await (await fetch(`${url}/v1/jobs/${id}`)).text();
    const redacted = { name: 'ada', secret: '[redacted]', card: { number: '[redacted]', kind: 'visa' }, tags: ['[redacted]', '[redacted]'] };
    assert.deepEqual((JSON.parse(text) as { payload: unknown }).payload, redacted);
    const logged = await io.logLine('greeting');
    assert.deepEqual(logged['payload'], redacted, "the handler's log line of its payload");
    for (const secret of ['hunter2-in-payload', '4111-0000', 't-one']) {
      assert.ok(!text.includes(secret), `${secret} not in the job view`);
      assert.ok(!io.out().includes(secret), `${secret} not in the logs`);
    }
    assert.deepEqual((await s.client().jobs.get(id))?.payload, payload, 'the store keeps the payload as submitted');
    io.signal('SIGINT');
    assert.equal(await exit, 0);
  });

  it('--no-workers serves only; another process runs the jobs', async () => {
    const { io, exit, url } = await started(['--no-workers']);
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'greet', payload: { name: 'ada' } }) });
    const { id } = (await res.json()) as { id: string };
    assert.equal((await fetch(`${url}/v1/jobs/${id}/result`)).status, 202);
    assert.equal(((await (await fetch(`${url}/readyz`)).json()) as { checks: { workers: unknown } }).checks.workers, null);
    const greet = defineTask({ name: 'greet', handler: (p: unknown) => `hello ${String((p as { name?: string } | null)?.name)}` });
    const worker = s.client({ tasks: [greet] });
    await worker.start();
    const done = await fetch(`${url}/v1/jobs/${id}/result?wait=30s`);
    assert.equal(((await done.json()) as { result: unknown }).result, 'hello ada');
    await worker.stop();
    io.signal('SIGINT');
    assert.equal(await exit, 0);
  });

  it('takes the store from OFFLOAD_STORE, tokens from OFFLOAD_API_TOKENS, and bounds queues with --max-backlog', async () => {
    const io = testIo({ OFFLOAD_STORE: cliStore(s.store), OFFLOAD_API_TOKENS: 'ci:admin:cli-secret-0123456789' });
    const exit = runCli(['serve', '--tasks', TASKS, '--port', '0', '--no-workers', '--max-backlog', '2', '--no-request-log', '--no-shed-load', '--log-level', 'info'], io);
    const url = String((await io.logLine('listening'))['url']);
    const submit = (authorization?: string) =>
      fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ task: 'math.add', payload: { a: 1, b: 1 } }),
      });
    assert.equal((await submit()).status, 401);
    // The queue may already hold jobs from the other tests of this store: fill it to the bound.
    let status = 202;
    for (let i = 0; i < 5 && status === 202; i++) status = (await submit('Bearer cli-secret-0123456789')).status;
    assert.equal(status, 429);
    io.signal('SIGTERM');
    assert.equal(await exit, 0);
    assert.doesNotMatch(io.out(), /cli-secret/);
    assert.doesNotMatch(io.out(), /"msg":"request completed"/);
  });

  it('a second signal stops at once with 130; one right after the first is the same stop', async () => {
    const { io, exit } = await started([]);
    io.signal('SIGINT');
    // npm run and npx forward the terminal's Ctrl-C: the same stop arrives twice.
    io.signal('SIGINT');
    io.advance(1500);
    io.signal('SIGTERM');
    assert.equal(await exit, 130);
    assert.match(io.out(), /"msg":"second signal: stopping at once"/);
    assert.equal(io.out().match(/"msg":"stopping"/g)?.length, 1);
    // The graceful stop goes on behind it and still closes everything.
    await io.logLine('stopped');
  });

  it('exit 1 when the port is taken', async () => {
    const first = await started([]);
    const port = new URL(first.url).port;
    const io = testIo();
    assert.equal(await runCli(['serve', '--tasks', TASKS, '--store', cliStore(s.store), '--port', port], io), 1);
    assert.match(io.err(), /cannot serve on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    first.io.signal('SIGTERM');
    assert.equal(await first.exit, 0);
  });
});

describe('offload executable', () => {
  it('stops on SIGTERM with exit 0 after a graceful shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-bin-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--tasks', TASKS, '--store', `sqlite:${join(dir, 'db')}`, '--port', '0'], {
        cwd: ROOT,
        env: { ...process.env, OFFLOAD_STORE: '', OFFLOAD_API_TOKENS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /"url":"([^"]+)".*"msg":"listening"/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

