/**
 * Command line of `npm run bench -- [--quick] [--only=<system,...>] [--scenario=<name,...>]`.
 * Unknown options and names are refused with the list of valid ones, rather than silently running
 * something other than what was asked.
 */
import { parseArgs } from 'node:util';
import { SCENARIO_NAMES, isScenarioName, scenarioRunsOn, type ScenarioName } from './measurement.ts';
import { SYSTEM_NAMES, isSystemName, type SystemName } from './systems/system.ts';

export interface BenchArgs {
  quick: boolean;
  systems: SystemName[];
  scenarios: ScenarioName[];
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only=<system,...>] [--scenario=<name,...>]
  --quick       smaller counts: checks that everything runs (about two minutes); numbers are noisy
  --only        systems: ${SYSTEM_NAMES.join(', ')}
  --scenario    scenarios: ${SCENARIO_NAMES.join(', ')} (loop runs on offload-sqlite and bullmq only)
Databases: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_REDIS_URL (default redis://127.0.0.1:6379); loopback only.`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const scenarios = list(values.scenario, SCENARIO_NAMES, isScenarioName, '--scenario');
  const runsAny = (system: SystemName) => scenarios.some((s) => scenarioRunsOn(s, system));
  const systems = list(values.only, SYSTEM_NAMES, isSystemName, '--only');
  // Without --only, a system none of the scenarios runs on is left out (--scenario=loop starts two
  // systems, not five); named in --only, it is an error rather than a run that measures nothing.
  const idle = systems.filter((s) => !runsAny(s));
  if (values.only !== undefined && idle.length > 0) throw new Error(`--only: ${idle.join(', ')} runs none of the scenarios ${scenarios.join(', ')}`);
  return { quick: values.quick, help: values.help, systems: systems.filter(runsAny), scenarios };
}

function list<T extends string>(raw: string | undefined, all: readonly T[], is: (v: string) => v is T, option: string): T[] {
  if (raw === undefined) return [...all];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = names.filter((n) => !is(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`${option}: unknown ${unknown.length > 0 ? `'${unknown.join("', '")}'` : 'empty list'}; choose from ${all.join(', ')}`);
  }
  // In the canonical order, whatever order they were given in, so tables always read the same.
  return all.filter((n) => names.includes(n));
}
