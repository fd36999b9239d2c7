#!/usr/bin/env node
/**
 * The `offload` executable (package.json "bin"). Everything is in program.ts; this file only
 * binds it to the real process and exits with the code it reports, so a handle left open by a
 * library cannot keep a stopped server alive.
 */
import { processIo } from './io.ts';
import { runCli } from './program.ts';

process.exit(await runCli(process.argv.slice(2), processIo()));
