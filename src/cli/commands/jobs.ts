/**
 * `offload jobs list|show|retry|cancel|delete`: read and control jobs in the store, as the jobs
 * API does (`offload.jobs`). Read commands take `--json` (the Job objects of the public API);
 * exit codes are in exit-codes.ts (3: no such job, 4: refused in its state).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Job, JobState, Offload } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg } from '../options.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';
import { json, relative, table } from './table.ts';

// Written as a record so that a new state fails the type check here instead of being unlistable.
export const STATES = Object.keys({
  scheduled: 1,
  available: 1,
  running: 1,
  retryable: 1,
  completed: 1,
  cancelled: 1,
  discarded: 1,
} satisfies Record<JobState, 1>) as JobState[];

const ID = /^[1-9][0-9]{0,18}$/;

/** A job id argument: decimal digits, as the store's ids are. */
export function jobIdArg(value: string): string {
  if (!ID.test(value)) throw new InvalidArgumentError(`a job id is a positive integer, got '${value}'`);
  return value;
}

function statesArg(value: string): JobState[] {
  const states = value.split(',').map((s) => s.trim());
  for (const s of states) if (!STATES.includes(s as JobState)) throw new InvalidArgumentError(`unknown state '${s}'; states: ${STATES.join(', ')}`);
  return states as JobState[];
}

interface ListFlags extends StoreFlags {
  state?: JobState[];
  task?: string;
  queue?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

type Finish = (code: number) => void;

/** Connects, runs `fn` with the client, always closes it. */
async function withClient<T>(flags: StoreFlags, io: CliIo, fn: (o: Offload) => Promise<T>): Promise<T> {
  const { offload } = await connect(flags, io);
  try {
    return await fn(offload);
  } finally {
    await offload.close();
  }
}

export function jobsCommand(io: CliIo, finish: Finish): Command {
  const jobs = new Command('jobs').description('list, show, retry, cancel and delete jobs').addHelpText('after', EXIT_CODES_HELP);
  const sub = (name: string) => jobs.command(name).option('--store <spec>', STORE_OPTION_HELP).addHelpText('after', EXIT_CODES_HELP);

  sub('list')
    .description('jobs, newest first')
    .option('--state <states>', `only these states, comma-separated (${STATES.join(', ')})`, statesArg)
    .option('--task <name>', 'only this task')
    .option('--queue <name>', 'only this queue')
    .option('--limit <n>', 'page size', intArg(1, 1000), 50)
    .option('--cursor <id>', 'the next page, from a previous list', jobIdArg)
    .option('--json', 'print { jobs, nextCursor } as JSON')
    .action((flags: ListFlags) =>
      runCommand(io, finish, () =>
        withClient(flags, io, async (o) => {
          const page = await o.jobs.list({
            limit: flags.limit,
            ...(flags.state === undefined ? {} : { state: flags.state }),
            ...(flags.task === undefined ? {} : { task: flags.task }),
            ...(flags.queue === undefined ? {} : { queue: flags.queue }),
            ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
          });
          if (flags.json) io.stdout.write(json(page));
          else io.stdout.write(listText(page.jobs, page.nextCursor, io.now()));
          return EXIT.ok;
        }),
      ),
    );

  sub('show')
    .description('one job: state, times, payload, result, progress and every failed attempt')
    .argument('<id>', 'job id', jobIdArg)
    .option('--json', 'print the job as JSON')
    .action((id: string, flags: StoreFlags & { json?: boolean }) =>
      runCommand(io, finish, () =>
        withClient(flags, io, async (o) => {
          const job = await o.jobs.get(id);
          if (job === null) {
            io.stderr.write(`offload: no job with id '${id}'\n`);
            return EXIT.notFound;
          }
          io.stdout.write(flags.json ? json(job) : showText(job, io.now()));
          return EXIT.ok;
        }),
      ),
    );

  sub('retry')
    .description('run a scheduled, retryable, cancelled or discarded job again now, with a fresh attempt budget')
    .argument('<id>', 'job id', jobIdArg)
    .option('--json', 'print the job as JSON')
    .action((id: string, flags: StoreFlags & { json?: boolean }) =>
      runCommand(io, finish, () =>
        withClient(flags, io, async (o) => {
          const job = await o.jobs.retry(id);
          io.stdout.write(flags.json ? json(job) : `job ${job.id} (${job.task}) is ${job.state} again, with ${job.maxAttempts} attempts\n`);
          return EXIT.ok;
        }),
      ),
    );

  sub('cancel')
    .description('cancel a waiting job at once, or ask the worker running it to stop')
    .argument('<id>', 'job id', jobIdArg)
    .option('--reason <text>', 'stored with the job', 'cancelled from the command line')
    .option('--json', 'print the job as JSON')
    .action((id: string, flags: StoreFlags & { reason: string; json?: boolean }) =>
      runCommand(io, finish, () =>
        withClient(flags, io, async (o) => {
          const job = await o.jobs.cancel(id, flags.reason);
          const text =
            job.state === 'running'
              ? `job ${job.id} is running: cancel requested; the worker holding it aborts its signal and ends it cancelled\n`
              : `job ${job.id} (${job.task}) is cancelled\n`;
          io.stdout.write(flags.json ? json(job) : text);
          return EXIT.ok;
        }),
      ),
    );

  sub('delete')
    .description('delete a job that is not running')
    .argument('<id>', 'job id', jobIdArg)
    .action((id: string, flags: StoreFlags) =>
      runCommand(io, finish, () =>
        withClient(flags, io, async (o) => {
          await o.jobs.delete(id);
          io.stdout.write(`job ${id} deleted\n`);
          return EXIT.ok;
        }),
      ),
    );

  return jobs;
}

function listText(jobs: Job[], nextCursor: string | null, now: number): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = jobs.map((j) => [
    j.id,
    j.state,
    j.task,
    j.queue,
    `${j.attempt}/${j.maxAttempts}`,
    j.finishedAt !== null ? `finished ${relative(j.finishedAt, now)}` : j.state === 'running' ? `started ${relative(j.attemptedAt, now)}` : `due ${relative(j.runAt, now)}`,
    oneLine(j.errors.at(-1)?.message ?? ''),
  ]);
  const more = nextCursor === null ? '' : `more: add --cursor ${nextCursor}\n`;
  return table(['ID', 'STATE', 'TASK', 'QUEUE', 'ATTEMPT', 'WHEN', 'LAST ERROR'], rows, new Set([0])) + more;
}

function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function jsonOrDash(v: unknown): string {
  return v === null || v === undefined ? '-' : JSON.stringify(v);
}

function showText(j: Job, now: number): string {
  const at = (d: Date | null) => (d === null ? '-' : `${d.toISOString()} (${relative(d, now)})`);
  const fields: Array<[string, string]> = [
    ['task', j.task],
    ['queue', `${j.queue} (priority ${j.priority})`],
    ['attempt', `${j.attempt} of ${j.maxAttempts}`],
    ['created', at(j.createdAt)],
    ['run at', at(j.runAt)],
    ['attempted', at(j.attemptedAt)],
    ['finished', at(j.finishedAt)],
  ];
  if (j.expiresAt !== null) fields.push(['expires', at(j.expiresAt)]);
  if (j.timeoutMs !== null) fields.push(['timeout', `${j.timeoutMs} ms`]);
  if (j.idempotencyKey !== null) fields.push(['idempotency key', j.idempotencyKey]);
  if (j.workerId !== null) fields.push(['worker', j.workerId]);
  if (j.leaseExpiresAt !== null) fields.push(['lease expires', at(j.leaseExpiresAt)]);
  if (j.cancelRequestedAt !== null) fields.push(['cancel requested', at(j.cancelRequestedAt)]);
  if (j.cancelReason !== null) fields.push(['cancel reason', j.cancelReason]);
  fields.push(['payload', jsonOrDash(j.payload)], ['progress', jsonOrDash(j.progress)], ['result', jsonOrDash(j.result)]);
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = [`job ${j.id}  ${j.state}`, ...fields.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (j.errors.length > 0) {
    lines.push(`  errors (${j.errors.length})`);
    for (const e of j.errors) lines.push(`    attempt ${e.attempt}  ${new Date(e.at).toISOString()}  ${e.name}${e.code === undefined ? '' : ` [${e.code}]`}: ${oneLine(e.message, 200)}`);
  }
  return `${lines.join('\n')}\n`;
}
