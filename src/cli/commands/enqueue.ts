/**
 * `offload enqueue <task> [payload]`: stores one job, as `offload.enqueue()` does. The tasks
 * module is required: it gives the task's schema (the payload is validated before anything is
 * stored), its queue, priority and retry policy.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { EnqueueOptions } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg } from '../options.ts';
import { loadTasks } from '../task-module.ts';
import { UsageError } from '../usage-error.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';
import { json, relative } from './table.ts';

interface EnqueueFlags extends StoreFlags {
  tasks?: string;
  payloadFile?: string;
  queue?: string;
  priority?: number;
  delayMs?: number;
  ttlMs?: number;
  idempotencyKey?: string;
  json?: boolean;
}

export function enqueueCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('enqueue')
    .description('store one job of a task; prints its id')
    .argument('<task>', 'task name, as exported by the tasks module')
    .argument('[payload]', 'the payload as JSON (default {})')
    .option('--tasks <module>', 'ES module exporting the tasks (env OFFLOAD_TASKS)')
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--payload-file <path>', 'read the payload (JSON) from a file instead')
    .option('--queue <name>', "another queue than the task's")
    .option('--priority <n>', 'lower runs first', intArg(-32_768, 32_767))
    .option('--delay-ms <ms>', 'run no earlier than this many ms from now', intArg(0, 315_360_000_000))
    .option('--ttl-ms <ms>', 'never run it if it has not started within this many ms', intArg(1, 315_360_000_000))
    .option('--idempotency-key <key>', 'a repeat with the same key and payload returns the first job')
    .option('--json', 'print { job, created } as JSON')
    .addHelpText('after', `${EXIT_CODES_HELP}\n\nExample:\n  offload enqueue images.resize '{"url":"https://example.com/a.png","width":200}' --tasks ./tasks.ts`)
    .action((task: string, payloadText: string | undefined, flags: EnqueueFlags) =>
      runCommand(io, finish, async () => {
        const payload = await payloadOf(payloadText, flags.payloadFile, io.cwd);
        const tasksPath = flags.tasks ?? io.env['OFFLOAD_TASKS'];
        if (tasksPath === undefined || tasksPath === '') throw new UsageError('enqueue needs --tasks <module> (or OFFLOAD_TASKS): the module that exports your tasks');
        const tasks = await loadTasks(tasksPath, io.cwd);
        if (!tasks.some((t) => t.name === task)) throw new UsageError(`no task named '${task}' in ${tasksPath}; tasks: ${tasks.map((t) => t.name).join(', ')}`);
        const options: EnqueueOptions = {
          ...(flags.queue === undefined ? {} : { queue: flags.queue }),
          ...(flags.priority === undefined ? {} : { priority: flags.priority }),
          ...(flags.delayMs === undefined ? {} : { delayMs: flags.delayMs }),
          ...(flags.ttlMs === undefined ? {} : { ttlMs: flags.ttlMs }),
          ...(flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey }),
        };
        const { offload } = await connect(flags, io, { tasks });
        try {
          const { job, created } = await offload.enqueue(task, payload, options);
          if (flags.json) io.stdout.write(json({ job, created }));
          else if (created) io.stdout.write(`enqueued job ${job.id} (${job.task}, queue ${job.queue}, runs ${relative(job.runAt, io.now())})\n`);
          else io.stdout.write(`job ${job.id} already exists for idempotency key '${job.idempotencyKey}' (${job.state}); nothing enqueued\n`);
          return EXIT.ok;
        } finally {
          await offload.close();
        }
      }),
    );
}

async function payloadOf(text: string | undefined, file: string | undefined, cwd: string): Promise<unknown> {
  if (text !== undefined && file !== undefined) throw new UsageError('give the payload as an argument or with --payload-file, not both');
  let source = text ?? '{}';
  let where = 'the payload';
  if (file !== undefined) {
    const path = resolve(cwd, file);
    where = path;
    try {
      source = await readFile(path, 'utf8');
    } catch (err) {
      throw new UsageError(`--payload-file: cannot read ${path}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (err) {
    throw new UsageError(`${where} is not JSON: ${(err as Error).message}`);
  }
}
