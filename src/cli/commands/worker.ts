/**
 * `offload worker`: runs the tasks of a module in this process until SIGINT or SIGTERM, without
 * an HTTP API. Start as many as the work needs, on one machine or many (PostgreSQL). Optionally
 * serves `GET /metrics` for Prometheus on `--metrics-port`.
 *
 * Start-up refuses with a clear message: bad arguments or tasks module (exit 2), a store that
 * cannot be reached (exit 1), a metrics port that cannot be bound (exit 1). On a signal, claiming
 * stops at once, running jobs get `--grace-ms` to finish (the rest are released, not charged), the
 * store is closed, exit 0; a second signal stops at once (exit 130).
 */
import { createServer, type Server } from 'node:http';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { isOffloadError, type Offload } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg, logLevelArg, type LogLevelName } from '../options.ts';
import { redactStoreSpec } from '../store-spec.ts';
import { loadTasks } from '../task-module.ts';
import { FatalError, UsageError } from '../usage-error.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { untilStopped } from './until-stopped.ts';

interface WorkerFlags extends StoreFlags {
  tasks?: string;
  concurrency: number;
  queues?: string[];
  threads?: number;
  graceMs: number;
  metricsPort?: number;
  metricsHost: string;
  logLevel: LogLevelName;
}

function queuesArg(value: string): string[] {
  const queues = value.split(',').map((q) => q.trim());
  if (queues.some((q) => q === '')) throw new InvalidArgumentError(`expected queue names separated by commas, got '${value}'`);
  return queues;
}

export function workerCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('worker')
    .description('run the tasks of a module in this process until stopped (no HTTP API)')
    .option('--tasks <module>', 'ES module exporting the tasks (env OFFLOAD_TASKS)')
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--concurrency <n>', 'jobs run at once by this process', intArg(1, 10_000), 10)
    .option('--queues <names>', "queues to work, comma-separated (default: the tasks' queues)", queuesArg)
    .option('--threads <n>', 'worker threads for kind: thread tasks (default: one per core)', intArg(1, 1024))
    .option('--grace-ms <ms>', 'on stop, time running jobs get to finish', intArg(0, 86_400_000), 10_000)
    .option('--metrics-port <n>', 'serve GET /metrics (Prometheus) on this port; 0 picks a free one', intArg(0, 65_535))
    .option('--metrics-host <address>', 'address of the metrics endpoint', '127.0.0.1')
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent').argParser(logLevelArg).default('info'))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: WorkerFlags) => finish(await work(flags, io)));
}

async function work(flags: WorkerFlags, io: CliIo): Promise<number> {
  const tasksPath = flags.tasks ?? io.env['OFFLOAD_TASKS'];
  if (tasksPath === undefined || tasksPath === '') throw new UsageError('worker needs --tasks <module> (or OFFLOAD_TASKS): the module that exports your tasks');
  const tasks = await loadTasks(tasksPath, io.cwd);
  const log = pino({ level: flags.logLevel, base: { name: 'offload', pid: process.pid } }, io.stdout);
  const { offload, spec } = await connect(flags, io, {
    tasks,
    logger: log.child({ component: 'runtime' }),
    ...(flags.threads === undefined ? {} : { threads: { size: flags.threads } }),
  });
  let metrics: { server: Server; url: string } | null = null;
  try {
    if (flags.metricsPort !== undefined) metrics = await serveMetrics(offload, flags.metricsHost, flags.metricsPort);
    await offload.start({ concurrency: flags.concurrency, ...(flags.queues === undefined ? {} : { queues: flags.queues }) });
  } catch (err) {
    metrics?.server.close();
    await offload.close({ graceMs: 0 });
    if (err instanceof FatalError) throw err;
    if (isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS')) throw new UsageError(err.message);
    throw new FatalError(`cannot start the workers: ${(err as Error).message}`, { cause: err });
  }
  // Listening for the stop signals before the line that says we are up: a signal sent as soon as
  // it is read must find them.
  const stopped = untilStopped(io, log, async (signal) => {
    log.info({ signal, graceMs: flags.graceMs }, 'stopping');
    metrics?.server.close();
    await offload.close({ graceMs: flags.graceMs });
    log.info({}, 'stopped');
  });
  log.info(
    {
      workerId: offload.workerId,
      store: redactStoreSpec(spec),
      concurrency: flags.concurrency,
      queues: flags.queues ?? [...new Set(tasks.map((t) => t.queue))],
      tasks: tasks.map((t) => t.name),
      metrics: metrics === null ? null : `${metrics.url}/metrics`,
    },
    'worker started',
  );
  return stopped;
}

/** GET /metrics on its own small server: a worker has no HTTP API to mount it on. */
async function serveMetrics(offload: Offload, host: string, port: number): Promise<{ server: Server; url: string }> {
  const metrics = offload.metrics();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    throw new FatalError(`cannot serve metrics on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const address = server.address() as { port: number };
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
}
