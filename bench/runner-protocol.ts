/**
 * What a system runner (system-runner.ts, one child process per system) tells the orchestrator
 * (run.ts) over IPC. Measurements are sent as they are taken, so a runner that dies or is killed
 * midway still leaves what it measured.
 */
import type { Measurement, ScenarioName } from './measurement.ts';
import type { SystemName } from './systems/system.ts';

export type FromRunner =
  | { type: 'system'; name: SystemName; config: string; completion: 'durable' | 'handler' }
  | { type: 'measurement'; measurement: Measurement }
  | { type: 'failure'; scenario: ScenarioName; message: string }
  /** A scenario ended (measured or failed): progress for whoever watches the run. */
  | { type: 'scenario-done'; scenario: ScenarioName }
  /** A process warning the system raised while measured (see warnings.ts). */
  | { type: 'warning'; message: string };
