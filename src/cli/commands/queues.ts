/**
 * `offload queues list|pause|resume`: every queue's depth by state, drain rate and estimated wait;
 * pausing stops every process from claiming a queue's jobs (running jobs finish) until resumed.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { QueueStats } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';
import { duration, json, table } from './table.ts';

// The rule of queue names (see core/options.ts), checked here so a typo is exit 2, not a new queue.
const QUEUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

function queueArg(value: string): string {
  if (!QUEUE.test(value)) throw new InvalidArgumentError(`a queue name is 1 to 200 letters, digits and ._:- (starting with a letter or digit), got '${value}'`);
  return value;
}

export function queuesCommand(io: CliIo, finish: (code: number) => void): Command {
  const queues = new Command('queues').description('list, pause and resume queues').addHelpText('after', EXIT_CODES_HELP);
  const sub = (name: string) => queues.command(name).option('--store <spec>', STORE_OPTION_HELP).addHelpText('after', EXIT_CODES_HELP);

  sub('list')
    .description('every queue: paused, jobs by state, drain rate over the last 10 s, estimated wait')
    .option('--json', 'print the queues as JSON')
    .action((flags: StoreFlags & { json?: boolean }) =>
      runCommand(io, finish, async () => {
        const { offload } = await connect(flags, io);
        try {
          const list = await offload.queues.list();
          io.stdout.write(flags.json ? json(list) : queuesText(list));
          return EXIT.ok;
        } finally {
          await offload.close();
        }
      }),
    );

  for (const [name, verb] of [
    ['pause', 'stop every process from claiming the queue\'s jobs (running jobs finish)'],
    ['resume', 'let workers claim the queue\'s jobs again'],
  ] as const) {
    sub(name)
      .description(verb)
      .argument('<queue>', 'queue name', queueArg)
      .option('--json', 'print the queue as JSON')
      .action((queue: string, flags: StoreFlags & { json?: boolean }) =>
        runCommand(io, finish, async () => {
          const { offload } = await connect(flags, io);
          try {
            const q = name === 'pause' ? await offload.queues.pause(queue) : await offload.queues.resume(queue);
            io.stdout.write(flags.json ? json(q) : `queue ${q.name} is ${q.paused ? 'paused' : 'running'} (${q.waiting} waiting, ${q.counts.running} running)\n`);
            return EXIT.ok;
          } finally {
            await offload.close();
          }
        }),
      );
  }
  return queues;
}

/** The queue table: also what `offload stats` shows at the top of each frame. */
export function queuesText(list: readonly QueueStats[]): string {
  if (list.length === 0) return 'no queues\n';
  const rows = list.map((q) => [
    q.name,
    q.paused ? 'paused' : '',
    String(q.counts.scheduled),
    String(q.counts.available),
    String(q.counts.running),
    String(q.counts.retryable),
    String(q.counts.completed),
    String(q.counts.cancelled),
    String(q.counts.discarded),
    q.drainPerSec.toFixed(1),
    q.estimatedWaitMs === null ? 'stalled' : duration(q.estimatedWaitMs),
    q.maxBacklog === null ? '' : String(q.maxBacklog),
  ]);
  return table(['QUEUE', '', 'SCHEDULED', 'AVAILABLE', 'RUNNING', 'RETRYABLE', 'COMPLETED', 'CANCELLED', 'DISCARDED', 'DRAIN/S', 'EST. WAIT', 'MAX BACKLOG'], rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
}
