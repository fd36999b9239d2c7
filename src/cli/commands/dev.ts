/**
 * `offload dev`: everything in one process for development. An embedded SQLite file under
 * `.offload/`, the bundled example tasks (or the user's `--tasks` module), the HTTP API and
 * workers. It prints the URLs and one line per job outcome. Ctrl-C stops gracefully.
 *
 * The store is `--store` or `sqlite:.offload/dev.db`. `OFFLOAD_STORE` is deliberately not read:
 * a variable exported for production must never point a dev session at production jobs.
 *
 * Start-up refuses with a clear message: bad arguments or tasks module (exit 2), a store that
 * cannot be opened, or a port that is taken (exit 1, with a hint).
 */
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { createHttpServer, type HttpServer } from '../../http/index.ts';
import type { Offload, TaskDefinition } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg, logLevelArg, type LogLevelName } from '../options.ts';
import { redactStoreSpec } from '../store-spec.ts';
import { loadTasks } from '../task-module.ts';
import { FatalError } from '../usage-error.ts';
import { connect } from './connect.ts';
import { flaky, hashPassword, wait } from './dev-tasks.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { duration } from './table.ts';
import { untilStopped } from './until-stopped.ts';

export const DEV_STORE = 'sqlite:.offload/dev.db';

interface DevFlags {
  tasks?: string;
  store?: string;
  port: number;
  concurrency: number;
  threads?: number;
  graceMs: number;
  quiet?: boolean;
  logLevel: LogLevelName;
}

export function devCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('dev')
    .description('develop locally: SQLite under .offload/, the HTTP API and workers in one process')
    .option('--tasks <module>', 'ES module exporting your tasks (default: the bundled examples)')
    .option('--store <spec>', `sqlite:PATH or postgres://... (default ${DEV_STORE}; OFFLOAD_STORE is not read)`)
    .option('--port <n>', 'TCP port on 127.0.0.1; 0 picks a free one', intArg(0, 65_535), 3000)
    .option('--concurrency <n>', 'jobs run at once', intArg(1, 10_000), 10)
    .option('--threads <n>', 'worker threads for kind: thread tasks (default: one per core)', intArg(1, 1024))
    .option('--grace-ms <ms>', 'on Ctrl-C, time running jobs get to finish', intArg(0, 86_400_000), 5000)
    .option('--quiet', 'no line per job outcome')
    .addOption(new Option('--log-level <level>', 'level of the runtime and server logs on stderr').argParser(logLevelArg).default('error'))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: DevFlags) => finish(await dev(flags, io)));
}

async function dev(flags: DevFlags, io: CliIo): Promise<number> {
  const tasks: Array<TaskDefinition<any, any, any>> = flags.tasks === undefined ? [hashPassword, wait, flaky] : await loadTasks(flags.tasks, io.cwd);
  const spec = flags.store ?? DEV_STORE;
  const log = pino({ level: flags.logLevel, base: { name: 'offload', pid: process.pid } }, io.stderr);
  const { offload } = await connect({ store: spec }, io, {
    tasks,
    logger: log.child({ component: 'runtime' }),
    ...(flags.threads === undefined ? {} : { threads: { size: flags.threads } }),
  });
  let server: HttpServer | null = null;
  let url: string;
  try {
    server = createHttpServer({ offload, tokens: [], logger: log.child({ component: 'http' }) });
    await offload.start({ concurrency: flags.concurrency });
    url = await server.listen({ host: '127.0.0.1', port: flags.port });
  } catch (err) {
    await server?.close();
    await offload.close({ graceMs: 0 });
    const taken = (err as { code?: unknown }).code === 'EADDRINUSE';
    throw new FatalError(`cannot serve on 127.0.0.1:${flags.port}: ${(err as Error).message}${taken ? ' (another process uses it: try --port 0)' : ''}`, { cause: err });
  }
  const offFeed = flags.quiet ? () => {} : feed(offload, io);
  const srv = server;
  // Listening for the stop signals before the banner says we are up: a signal sent as soon as
  // the banner is read must find them.
  const stopped = untilStopped(io, log, async () => {
    io.stdout.write(`stopping: running jobs get ${duration(flags.graceMs)} to finish\n`);
    offFeed();
    await srv.close();
    await offload.close({ graceMs: flags.graceMs });
    io.stdout.write('stopped\n');
  });
  io.stdout.write(banner(url, spec, tasks, flags, server.fastify.hasRoute({ method: 'GET', url: '/metrics' })));
  return stopped;
}

function banner(url: string, spec: string, tasks: ReadonlyArray<TaskDefinition<any, any, any>>, flags: DevFlags, metrics: boolean): string {
  const lines = [
    `offload dev: ${url}`,
    `  dashboard  ${url}/`,
    `  API        ${url}/v1/jobs`,
    `  queues     ${url}/v1/queues`,
    `  OpenAPI    ${url}/openapi.json`,
    `  ready      ${url}/readyz`,
    ...(metrics ? [`  metrics    ${url}/metrics`] : []),
    `  store      ${redactStoreSpec(spec)}`,
    `  tasks      ${tasks.map((t) => (t.kind === 'thread' ? `${t.name} (thread)` : t.name)).join(', ')}`,
    `  workers    ${flags.concurrency} at once`,
  ];
  const example = flags.tasks === undefined ? { task: 'examples.flaky', payload: { failures: 2 } } : { task: tasks[0]!.name, payload: {} };
  lines.push(
    '',
    'try:',
    `  curl -s -X POST ${url}/v1/jobs -H 'content-type: application/json' -d '${JSON.stringify(example)}'`,
    `  offload jobs list --store ${redactStoreSpec(spec)}`,
    '',
    'Ctrl-C stops (running jobs get their grace period, then are released)',
    '',
  );
  return lines.join('\n');
}

/** One line per job outcome; returns the unsubscribe function. */
function feed(offload: Offload, io: CliIo): () => void {
  const say = (line: string) => io.stdout.write(`${new Date(io.now()).toISOString().slice(11, 23)}  ${line}\n`);
  const offs = [
    offload.on('job:completed', ({ job, durationMs }) => say(`ok      job ${job.id} ${job.task} completed in ${duration(durationMs)} (attempt ${job.attempt})`)),
    offload.on('job:failed', ({ job, error, nextState, delayMs }) =>
      say(`failed  job ${job.id} ${job.task} attempt ${job.attempt}/${job.maxAttempts}: ${error.message}; ${nextState === 'retryable' ? `retry in ${duration(delayMs)}` : 'discarded'}`),
    ),
    offload.on('job:cancelled', ({ job, reason }) => say(`cancel  job ${job.id} ${job.task}: ${reason}`)),
    offload.on('job:snoozed', ({ job, delayMs }) => say(`snooze  job ${job.id} ${job.task} for ${duration(delayMs)}`)),
    offload.on('job:expired', ({ job }) => say(`expired job ${job.id} ${job.task}: not started before its deadline`)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
