/**
 * `offload workers`: every worker process registered in the store (the worker registry), with its
 * host, pid, heartbeat age, running jobs of its slots, threads, loop delay and queues. A process
 * silent for three of its heartbeats is marked stale: killed, hung, or cut off from the store.
 */
import { Command } from 'commander';
import type { WorkerInfo } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';
import { duration, json, table } from './table.ts';

export function workersCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('workers')
    .description('every registered worker process: host, pid, heartbeat age (stale ones marked), running jobs, threads, loop delay')
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--json', 'print the workers as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((flags: StoreFlags & { json?: boolean }) =>
      runCommand(io, finish, async () => {
        const { offload } = await connect(flags, io);
        try {
          const list = await offload.workers.list();
          io.stdout.write(flags.json ? json(list) : workersText(list));
          return EXIT.ok;
        } finally {
          await offload.close();
        }
      }),
    );
}

export function workersText(list: readonly WorkerInfo[]): string {
  if (list.length === 0) return 'no worker process is registered (start one with `offload worker --tasks <module>` or `offload.start()`)\n';
  const rows = list.map((w) => [
    w.id,
    w.host,
    String(w.pid),
    `${duration(w.heartbeatAgeMs)}${w.stale ? ' STALE' : ''}`,
    `${w.running}/${w.concurrency}`,
    w.threads === null ? '-' : `${w.threads.busy}/${w.threads.size}`,
    w.loop === null ? '-' : `${w.loop.delayP99Ms.toFixed(1)} ms${w.loop.overloaded ? ' OVERLOADED' : ''}`,
    w.queues.join(','),
    w.version,
  ]);
  return table(['WORKER', 'HOST', 'PID', 'HEARTBEAT AGE', 'RUNNING', 'THREADS', 'LOOP P99', 'QUEUES', 'VERSION'], rows, new Set([2]));
}
