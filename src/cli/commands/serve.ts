/**
 * `offload serve`: the HTTP API, with workers in the same process by default.
 *
 * Start-up, each step refusing with a clear message:
 *   arguments      exit 2: a bad option, no tasks module, a non-loopback host without tokens;
 *   tasks module   exit 2: missing, failing to import, or exporting no task;
 *   store          exit 1: unreachable, or its migrations fail;
 *   listen         exit 1: the address is taken or not allowed.
 * Then it serves until SIGINT or SIGTERM: the server stops accepting and ends event streams and
 * long-polls, workers get `--grace-ms` to finish their jobs (the rest are released, not charged),
 * the store is closed, exit 0. A second signal stops at once (exit 130); one arriving within
 * a second of the first is taken as the same stop, since a Ctrl-C under `npm run` or `npx`
 * reaches the process twice (from the terminal and forwarded by npm).
 */
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { createHttpServer, isLoopbackHost, parseApiTokens, type ApiToken, type HttpServer } from '../../http/index.ts';
import { createOffload, isOffloadError, redactPayloadPaths, type Offload, type OffloadOptions } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg, logLevelArg, type LogLevelName } from '../options.ts';
import { DEFAULT_STORE, openStore, redactStoreSpec } from '../store-spec.ts';
import { loadTasks } from '../task-module.ts';
import { FatalError, UsageError } from '../usage-error.ts';

/** A stop signal this soon after the first is the same one delivered twice (see the header). */
const DUPLICATE_SIGNAL_MS = 1000;

interface ServeFlags {
  tasks?: string;
  store?: string;
  port: number;
  host: string;
  workers: boolean;
  concurrency: number;
  threads?: number;
  maxBacklog?: number;
  graceMs: number;
  bodyLimit: number;
  logLevel: LogLevelName;
  requestLog: boolean;
  shedLoad: boolean;
  redact: string[];
}

export function serveCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('serve')
    .description('serve the HTTP API (and, unless --no-workers, run the tasks in this process)')
    .option('--tasks <module>', 'ES module exporting the tasks (env OFFLOAD_TASKS)')
    .option('--store <spec>', `sqlite:PATH or postgres://... (env OFFLOAD_STORE; default ${DEFAULT_STORE})`)
    .option('--port <n>', 'TCP port; 0 picks a free one', intArg(0, 65_535), 3000)
    .option('--host <address>', 'address to listen on; other than loopback needs OFFLOAD_API_TOKENS', '127.0.0.1')
    .option('--no-workers', 'serve the API only; other processes run the jobs')
    .option('--concurrency <n>', 'jobs run at once by this process', intArg(1, 10_000), 10)
    .option('--threads <n>', 'worker threads for kind: thread tasks (default: one per core)', intArg(1, 1024))
    .option('--max-backlog <n>', 'bound every queue (any a submit names): submits beyond this many waiting jobs get 429', intArg(1, 1_000_000_000))
    .option('--grace-ms <ms>', 'on stop, time running jobs get to finish', intArg(0, 86_400_000), 10_000)
    .option('--body-limit <bytes>', 'largest request body', intArg(1024, 256 * 2 ** 20), 2 ** 20)
    .option('--no-shed-load', 'serve through an event-loop overload instead of answering 503')
    .option('--no-request-log', "do not log each request's start and end (for heavy load)")
    .option(
      '--redact <path>',
      "a payload path shown as [redacted] by the API, the dashboard and the logs (pino's syntax: password, card.number, users[*].email); repeatable, or comma-separated",
      (value: string, previous: string[]) => [...previous, ...value.split(',').map((p) => p.trim()).filter((p) => p !== '')],
      [],
    )
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent').argParser(logLevelArg).default('info'))
    .action(async (flags: ServeFlags) => finish(await serve(flags, io)));
}

function tokensFrom(io: CliIo): ApiToken[] {
  const text = io.env['OFFLOAD_API_TOKENS'];
  if (text === undefined || text.trim() === '') return [];
  try {
    return parseApiTokens(text);
  } catch (err) {
    throw new UsageError(`OFFLOAD_API_TOKENS: ${(err as Error).message}`);
  }
}

async function serve(flags: ServeFlags, io: CliIo): Promise<number> {
  const tasksPath = flags.tasks ?? io.env['OFFLOAD_TASKS'];
  if (tasksPath === undefined || tasksPath === '') throw new UsageError('serve needs --tasks <module> (or OFFLOAD_TASKS): the module that exports your tasks');
  const tokens = tokensFrom(io);
  if (tokens.length === 0 && !isLoopbackHost(flags.host)) {
    throw new UsageError(`refusing to serve on ${flags.host} without API tokens: set OFFLOAD_API_TOKENS (name:scopes:secret;...) or use --host 127.0.0.1`);
  }
  const storeSpec = flags.store ?? io.env['OFFLOAD_STORE'] ?? DEFAULT_STORE;
  const tasks = await loadTasks(tasksPath, io.cwd);
  let redaction: ReturnType<typeof redactPayloadPaths> | undefined;
  try {
    redaction = flags.redact.length === 0 ? undefined : redactPayloadPaths(flags.redact);
  } catch (err) {
    throw new UsageError(`--redact: ${(err as Error).message}`);
  }
  const log = pino({ level: flags.logLevel, base: { name: 'offload', pid: process.pid }, ...(redaction === undefined ? {} : { redact: redaction }) }, io.stdout);

  // Every queue, not only the tasks' own: a submit may name any queue, and an unnamed one would
  // take jobs without bound.
  const queues: OffloadOptions['queues'] = flags.maxBacklog === undefined ? undefined : { '*': { maxBacklog: flags.maxBacklog } };
  let offload: Offload;
  try {
    offload = createOffload({
      store: openStore(storeSpec, io.cwd),
      tasks,
      logger: log.child({ component: 'runtime' }),
      ...(queues === undefined ? {} : { queues }),
      ...(flags.threads === undefined ? {} : { threads: { size: flags.threads } }),
    });
  } catch (err) {
    if (isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS')) throw new UsageError(err.message);
    throw err;
  }
  let server: HttpServer;
  try {
    // No I/O yet: made here so that a bad token configuration is a usage error, before the store.
    server = createHttpServer({
      offload,
      tokens,
      bodyLimitBytes: flags.bodyLimit,
      logRequests: flags.requestLog,
      shedLoad: flags.shedLoad,
      logger: log.child({ component: 'http' }),
      ...(flags.redact.length === 0 ? {} : { redact: flags.redact }),
    });
  } catch (err) {
    await offload.close({ graceMs: 0 });
    if (isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS')) throw new UsageError(`OFFLOAD_API_TOKENS: ${err.message}`);
    throw err;
  }
  try {
    await offload.migrate();
  } catch (err) {
    await offload.close({ graceMs: 0 }).catch(() => {});
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new FatalError(`cannot reach the store ${redactStoreSpec(storeSpec)}: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`);
  }

  let url: string;
  try {
    if (flags.workers) await offload.start({ concurrency: flags.concurrency });
    url = await server.listen({ host: flags.host, port: flags.port });
  } catch (err) {
    await server.close();
    await offload.close({ graceMs: 0 });
    throw new FatalError(`cannot serve on ${flags.host}:${flags.port}: ${(err as Error).message}`);
  }
  log.info(
    { url, store: redactStoreSpec(storeSpec), workers: flags.workers, concurrency: flags.workers ? flags.concurrency : 0, tasks: tasks.map((t) => t.name), auth: tokens.length > 0 },
    'listening',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    let firstAt = 0;
    const off = io.onStopSignal((signal) => {
      if (stopping && io.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      if (stopping) {
        log.warn({ signal }, 'second signal: stopping at once');
        off();
        resolve(130);
        return;
      }
      stopping = true;
      firstAt = io.now();
      log.info({ signal, graceMs: flags.graceMs }, 'stopping');
      void (async () => {
        await server.close();
        await offload.close({ graceMs: flags.graceMs });
        log.info('stopped');
        off();
        resolve(0);
      })().catch((err: unknown) => {
        log.error({ err }, 'stopping failed');
        off();
        resolve(1);
      });
    });
  });
}
