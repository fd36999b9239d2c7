/**
 * `offload bench`: runs the benchmark suite of a checkout (bench/run.ts: offload side by side with
 * BullMQ, graphile-worker and pg-boss) with a progress bar, then prints its report.
 *
 * The suite lives in the source repository, not in the published package: from an installed
 * package the command says so and exits 1. The suite runs in a child process (forked with IPC,
 * under tsx); it reports each finished scenario, and its own output goes to a log file while the
 * bar is drawn, then its report (from "Results" on) is printed. Without a terminal, or with
 * --verbose, the suite's output is passed through as it comes, with a progress line per scenario.
 */
import { fork } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { FatalError } from '../usage-error.ts';
import { runCommand } from './exit-codes.ts';

const RUN = new URL('../../../bench/run.ts', import.meta.url);
const WIDTH = 30;

interface BenchFlags {
  quick?: boolean;
  only?: string;
  scenario?: string;
  verbose?: boolean;
}

interface Progress {
  type: 'progress';
  done: number;
  total: number;
  label: string;
}

export function benchCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('bench')
    .description('run the benchmarks of a source checkout (offload side by side with its peers) with a progress bar')
    .option('--quick', 'small counts: checks that everything runs (about two minutes); numbers are noisy')
    .option('--only <systems>', 'systems, comma-separated: offload-sqlite, offload-postgres, bullmq, graphile-worker, pg-boss')
    .option('--scenario <names>', 'scenarios, comma-separated: enqueue, process, latency, rss, loop')
    .option('--verbose', "pass the suite's own output through as it runs")
    .addHelpText('after', '\nResults are also written to bench/results/latest.json. Exit codes: 0 done, 1 a scenario failed or no suite here, 2 bad arguments.')
    .action((flags: BenchFlags) => runCommand(io, finish, () => runBench(flags, io)));
}

function runBench(flags: BenchFlags, io: CliIo): Promise<number> {
  const script = fileURLToPath(RUN);
  if (!existsSync(script)) {
    throw new FatalError('the benchmarks are part of the source repository (bench/), not of the installed package: run `offload bench` (or `npm run bench`) in a checkout of offload');
  }
  const args = [...(flags.quick === true ? ['--quick'] : []), ...(flags.only === undefined ? [] : [`--only=${flags.only}`]), ...(flags.scenario === undefined ? [] : [`--scenario=${flags.scenario}`])];
  const bar = flags.verbose !== true && (io.stderr as { isTTY?: boolean }).isTTY === true;
  const logDir = io.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('../../../bench/results/', import.meta.url));
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, 'run.log');
  const log = createWriteStream(logPath);
  const child = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...io.env } });
  let output = '';
  const onOut = (chunk: Buffer) => {
    const text = chunk.toString();
    log.write(text);
    if (bar) output += text;
    else io.stdout.write(text);
  };
  child.stdout!.on('data', onOut);
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    // Errors are shown at once, bar or not: a usage error ends the run before any progress.
    io.stderr.write(chunk);
  });
  const started = io.now();
  child.on('message', (m: Progress) => {
    if (m.type !== 'progress') return;
    if (bar) {
      const filled = m.total === 0 ? WIDTH : Math.round((m.done / m.total) * WIDTH);
      const elapsed = Math.round((io.now() - started) / 1000);
      io.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${m.done}/${m.total}  ${elapsed} s  ${m.label}`);
    } else {
      io.stdout.write(`progress ${m.done}/${m.total}: ${m.label}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new FatalError(`could not start the benchmark suite: ${err.message}`, { cause: err })));
    child.on('exit', (code, signal) => {
      log.end();
      if (bar) {
        io.stderr.write('\n');
        const at = output.indexOf('\nResults');
        io.stdout.write(at >= 0 ? output.slice(at + 1) : output);
        io.stdout.write(`\n(the whole run's output: ${logPath})\n`);
      }
      resolve(signal !== null ? 1 : (code ?? 1));
    });
  });
}
