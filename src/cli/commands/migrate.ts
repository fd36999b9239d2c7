/**
 * `offload migrate`: applies the store's migrations (creating the tables on first use). Every
 * client also migrates on first use; this command lets a deploy do it once, before any worker
 * or server starts, and fail there if the store is unreachable.
 */
import { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { redactStoreSpec } from '../store-spec.ts';
import { connect, STORE_OPTION_HELP, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';

export function migrateCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('migrate')
    .description("apply the store's migrations (idempotent; every client also migrates on first use)")
    .option('--store <spec>', STORE_OPTION_HELP)
    .addHelpText('after', EXIT_CODES_HELP)
    .action((flags: StoreFlags) =>
      runCommand(io, finish, async () => {
        const { offload, spec } = await connect(flags, io);
        await offload.close();
        io.stdout.write(`migrations applied: ${redactStoreSpec(spec)}\n`);
        return EXIT.ok;
      }),
    );
}
