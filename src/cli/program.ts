/**
 * The `offload` command line: one commander program, one file per command under commands/.
 * A command reports its exit code through `finish`; usage mistakes exit 2 with a message (and
 * no stack trace), environment failures exit 1.
 */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.ts';
import { devCommand } from './commands/dev.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { jobsCommand } from './commands/jobs.ts';
import { migrateCommand } from './commands/migrate.ts';
import { queuesCommand } from './commands/queues.ts';
import { workersCommand } from './commands/workers.ts';
import { serveCommand } from './commands/serve.ts';
import { statsCommand } from './commands/stats.ts';
import { workerCommand } from './commands/worker.ts';
import type { CliIo } from './io.ts';
import { FatalError, UsageError } from './usage-error.ts';

/** Every command, each made by one file of commands/. */
const COMMANDS: ReadonlyArray<(io: CliIo, finish: (code: number) => void) => Command> = [
  devCommand,
  serveCommand,
  workerCommand,
  migrateCommand,
  enqueueCommand,
  jobsCommand,
  queuesCommand,
  workersCommand,
  statsCommand,
  benchCommand,
];

/**
 * Runs the command line and resolves with the exit code.
 * @example
 * process.exit(await runCli(process.argv.slice(2), processIo()))
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = new Command('offload')
    .description('durable background jobs: the HTTP API and workers')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for the options)');
  // addCommand, unlike command(), does not pass the program's settings on: copy them, down to
  // subcommands (`jobs list`), which took their parent's settings before it was added here.
  const inherit = (cmd: Command, from: Command): Command => {
    cmd.copyInheritedSettings(from);
    for (const sub of cmd.commands) inherit(sub, cmd);
    return cmd;
  };
  for (const make of COMMANDS) program.addCommand(inherit(make(io, (c) => (code = c)), program));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Asked-for help is not an error; anything else commander refused (no command given
      // included) is a usage mistake, and commander has already said what.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError || err instanceof FatalError) {
      io.stderr.write(`offload: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`offload: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
