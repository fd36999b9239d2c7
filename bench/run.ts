/**
 * `npm run bench`: offload (SQLite and PostgreSQL stores) side by side with BullMQ, graphile-worker
 * and pg-boss, on this machine's loopback databases. Prints a table and the offload-vs-peer ratios,
 * and writes everything, environment included, to bench/results/latest.json.
 *
 * Shape: this orchestrator runs each system in a child process of its own (system-runner.ts), one
 * after the other so they never compete for the 2 cores, and kills a system that overruns its time
 * limit, so the suite always stops by itself. A benchmark, not a test: nothing here asserts on
 * timing; the exit code is non-zero only when a scenario failed to run.
 *
 * See bench/README.md for what each scenario measures and how to read the numbers.
 */
import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseBenchArgs, USAGE, type BenchArgs } from './args.ts';
import { buildPackage } from './build.ts';
import { FULL, LOOP_JOB_MS, QUICK } from './counts.ts';
import { calibrateCpuJob, type CpuJobSpec } from './cpu-job.ts';
import { environmentFacts } from './environment.ts';
import { dropLeftovers } from './leftovers.ts';
import { measureLoopFloor, type LoopFloor } from './loop-floor.ts';
import { scenarioRunsOn, type Measurement } from './measurement.ts';
import { computeRatios } from './ratios.ts';
import { renderLoopFloor, renderRatios, renderTable, renderTargets } from './report.ts';
import type { FromRunner } from './runner-protocol.ts';
import { FROM_SOURCE_ENV } from './systems/offload-build-mode.ts';
import type { SystemName } from './systems/system.ts';
import { checkTargets } from './targets.ts';

/**
 * Per-system hard limits. Full runs take 1-3 minutes per system (pg-boss's poll-bound runs are
 * capped), so 5 minutes means "hung", and the suite's worst case stays bounded.
 */
const SYSTEM_LIMIT_MS = { full: 5 * 60_000, quick: 2 * 60_000 };

interface SystemOutcome {
  config: string;
  completion: string;
  failures: Array<{ scenario: string; message: string }>;
  warnings: string[];
  elapsedS: number;
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const mode = args.quick ? 'quick' : 'full';
  const startedAt = new Date();
  console.log(`offload benchmark (${mode}): ${args.systems.join(', ')}; scenarios ${args.scenarios.join(', ')}`);

  if (args.systems.some((s) => s.startsWith('offload-')) && process.env[FROM_SOURCE_ENV] !== '1') buildPackage();
  const dropped = await dropLeftovers(args.systems);
  if (dropped.length > 0) console.log(`removed leftovers of earlier runs: ${dropped.join(', ')}`);
  const environment = await environmentFacts(args.systems);
  // Once, here, before any system runs (nothing else is busy in this suite then): every system gets the same job.
  let cpuJob: CpuJobSpec | null = null;
  const loopFloors: LoopFloorResult[] = [];
  if (args.scenarios.includes('loop')) {
    cpuJob = calibrateCpuJob(LOOP_JOB_MS);
    console.log(`CPU job for the loop scenario: ${cpuJob.rounds} SHA-256 rounds = ${cpuJob.ms.toFixed(1)} ms on a free core (median of the last 5 timed runs here: ${cpuJob.medianMs.toFixed(1)} ms)`);
    loopFloors.push(await loopFloor('before', cpuJob, args));
  }

  const measurements: Measurement[] = [];
  const outcomes: Partial<Record<SystemName, SystemOutcome>> = {};
  progress.total = args.systems.reduce((n, system) => n + args.scenarios.filter((s) => scenarioRunsOn(s, system)).length, 0);
  for (const system of args.systems) {
    console.log(`\n${system}`);
    outcomes[system] = await runSystem(system, args, mode, cpuJob, measurements);
  }

  // Again after the systems: the machine may have got busier or quieter meanwhile.
  if (cpuJob !== null) loopFloors.push(await loopFloor('after', cpuJob, args));

  const ratios = computeRatios(measurements);
  const targets = checkTargets(measurements);
  const failures = Object.entries(outcomes).flatMap(([system, o]) => o.failures.map((f) => `${system} / ${f.scenario}: ${f.message}`));
  const finishedAt = new Date();

  console.log(`\nResults (${mode}; jobs/s higher is better, ms and MB lower is better)\n`);
  console.log(renderTable(args.systems, measurements));
  console.log('\nRatios, offload / peer, this run:\n');
  console.log(renderRatios(ratios));
  const floors = loopFloors.flatMap((f) => ('error' in f ? [] : [renderLoopFloor(f, f.when)]));
  if (floors.length > 0) console.log(`\n${floors.join('\n')}`);
  if (targets.length > 0) console.log(`\nTargets (reported, not asserted):\n\n${renderTargets(targets)}`);
  console.log('\nConfigurations:');
  for (const [system, o] of Object.entries(outcomes)) console.log(`  ${system}: ${o.config} (completion counted: ${o.completion})`);
  console.log(`\nEnvironment: ${JSON.stringify(environment)}`);
  const warnings = Object.entries(outcomes).flatMap(([system, o]) => o.warnings.map((w) => `${system}: ${w}`));
  if (warnings.length > 0) console.log(`\nWarnings raised by the systems under test:\n  ${warnings.join('\n  ')}`);
  if (failures.length > 0) console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);

  // BENCH_RESULTS_DIR: elsewhere than bench/results/ (the CLI's tests use it to leave a user's results alone).
  const dir = process.env['BENCH_RESULTS_DIR'] === undefined ? new URL('./results/', import.meta.url) : pathToFileURL(`${process.env['BENCH_RESULTS_DIR']}/`);
  const out = new URL('./latest.json', dir);
  await mkdir(dir, { recursive: true });
  const durationS = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  const report = { mode, args, startedAt, finishedAt, durationS, environment, loadAverageAtEnd: loadavg().map((l) => l.toFixed(2)).join(' '), cpuJob, loopFloors, systems: outcomes, measurements, ratios, targets, failures };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${out.pathname} (${report.durationS.toFixed(0)} s in all)`);
  return failures.length > 0 ? 1 : 0;
}

/** What run.ts tells a parent that forked it with IPC (`offload bench`). */
export interface BenchProgress {
  type: 'progress';
  done: number;
  total: number;
  label: string;
}

const progress = { done: 0, total: 0 };

type LoopFloorResult = ({ when: 'before' | 'after' } & LoopFloor) | { when: 'before' | 'after'; error: string };

/** The loop floor (loop-floor.ts) in a process of its own; a failure is reported, not fatal. */
async function loopFloor(when: 'before' | 'after', cpuJob: CpuJobSpec, args: BenchArgs): Promise<LoopFloorResult> {
  const counts = args.quick ? QUICK : FULL;
  try {
    const floor = await measureLoopFloor(cpuJob, counts.loopWarmupMs, counts.loopWindowMs);
    console.log(renderLoopFloor(floor, when));
    return { when, ...floor };
  } catch (err) {
    console.error(`loop floor (${when}) not measured: ${(err as Error).message}`);
    return { when, error: (err as Error).message };
  }
}

/** Runs one system's scenarios in a child process; its measurements are appended as they arrive. */
function runSystem(system: SystemName, args: BenchArgs, mode: 'full' | 'quick', cpuJob: CpuJobSpec | null, measurements: Measurement[]): Promise<SystemOutcome> {
  const outcome: SystemOutcome = { config: '?', completion: '?', failures: [], warnings: [], elapsedS: 0 };
  const t0 = performance.now();
  // execArgv is inherited: the runner runs under the same `--import tsx`.
  const argv = [system, args.scenarios.join(','), mode, ...(cpuJob === null ? [] : [JSON.stringify(cpuJob)])];
  const child = fork(new URL('./system-runner.ts', import.meta.url), argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (msg: FromRunner) => {
    if (msg.type === 'system') {
      outcome.config = msg.config;
      outcome.completion = msg.completion === 'durable' ? 'after the completion is written' : 'when the handler returns, then until the store shows none unfinished';
    } else if (msg.type === 'measurement') {
      measurements.push(msg.measurement);
    } else if (msg.type === 'warning') {
      outcome.warnings.push(msg.message);
    } else if (msg.type === 'scenario-done') {
      progress.done++;
      // Run under `offload bench` (forked with IPC): tell it, for its progress bar.
      process.send?.({ type: 'progress', done: progress.done, total: progress.total, label: `${system}: ${msg.scenario}` } satisfies BenchProgress);
    } else {
      outcome.failures.push({ scenario: msg.scenario, message: msg.message });
    }
  });
  const limitMs = SYSTEM_LIMIT_MS[mode];
  const timer = setTimeout(() => {
    outcome.failures.push({ scenario: 'all', message: `killed after its ${limitMs / 1000} s limit` });
    // Its worker children see the IPC channel close and exit on their own.
    child.kill('SIGKILL');
  }, limitMs);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) outcome.failures.push({ scenario: 'all', message: `runner exited with code ${code}` });
      outcome.elapsedS = (performance.now() - t0) / 1000;
      resolve(outcome);
    });
  });
}

process.exitCode = await main();
