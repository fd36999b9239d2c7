/**
 * Entry point of one system's run: `system-runner.ts <system> <scenario,...> <full|quick> [cpu job JSON]`.
 * The CPU job (cpu-job.ts) is calibrated once by the orchestrator and given to every system, so all
 * run the same job.
 *
 * Each system runs in a process of its own: it loads only its own library, no other system's
 * garbage, timers or open pools are around while it is measured, and a system that hangs or crashes
 * is killed without losing the others' results. Scenarios run one after the other; one that fails is
 * reported and the next one still runs.
 */
import { FULL, QUICK } from './counts.ts';
import type { CpuJobSpec } from './cpu-job.ts';
import { isScenarioName, METRICS, scenarioRunsOn, type ScenarioName } from './measurement.ts';
import type { FromRunner } from './runner-protocol.ts';
import type { ScenarioContext } from './scenarios/context.ts';
import { enqueueScenario } from './scenarios/enqueue.ts';
import { latencyScenario } from './scenarios/latency.ts';
import { loopScenario } from './scenarios/loop.ts';
import { processScenario } from './scenarios/process.ts';
import { rssScenario } from './scenarios/rss.ts';
import { isSystemName, loadSystem } from './systems/system.ts';
import { captureWarnings } from './warnings.ts';

const SCENARIOS: Record<ScenarioName, (ctx: ScenarioContext) => Promise<void>> = {
  enqueue: enqueueScenario,
  process: processScenario,
  latency: latencyScenario,
  rss: rssScenario,
  loop: loopScenario,
};

// IPC sends are asynchronous: the last one must have left before process.exit, or it is lost.
let lastSend = Promise.resolve();
function send(message: FromRunner): void {
  lastSend = new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

const [name, scenarioList, mode, cpuJobJson] = process.argv.slice(2);
if (name === undefined || !isSystemName(name) || scenarioList === undefined || (mode !== 'full' && mode !== 'quick')) {
  throw new Error('usage: system-runner.ts <system> <scenario,...> <full|quick> [cpu job JSON]');
}
process.on('disconnect', () => process.exit(1));
captureWarnings(name, (message) => send({ type: 'warning', message }));

const system = await loadSystem(name);
send({ type: 'system', name, config: system.config, completion: system.completion });

const ctx: ScenarioContext = {
  system,
  counts: mode === 'quick' ? QUICK : FULL,
  cpuJob: cpuJobJson === undefined ? null : (JSON.parse(cpuJobJson) as CpuJobSpec),
  record(m) {
    const { label, unit } = METRICS[m.metric];
    console.log(`  [${name}] ${label}: ${format(m.value)} ${unit}${m.note === undefined ? '' : `  (${m.note})`}`);
    send({ type: 'measurement', measurement: { system: name, ...m } });
  },
  log: (line) => console.log(`  [${name}] ${line}`),
};

for (const scenario of scenarioList.split(',').filter(isScenarioName)) {
  if (!scenarioRunsOn(scenario, name)) {
    ctx.log(`${scenario}: not run on this system`);
    continue;
  }
  const t0 = performance.now();
  try {
    await SCENARIOS[scenario](ctx);
    ctx.log(`${scenario} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    const message = (err as Error).stack ?? String(err);
    console.error(`  [${name}] ${scenario} FAILED: ${message}`);
    send({ type: 'failure', scenario, message: (err as Error).message ?? String(err) });
  }
  send({ type: 'scenario-done', scenario });
}
await lastSend;
// Exit at once: a library's leftover timer must not hold the run up.
process.exit(0);

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}
