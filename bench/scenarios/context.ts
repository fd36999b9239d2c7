/**
 * What every scenario gets, and the fresh-state discipline they all follow: each measurement runs on
 * state made for it (a new SQLite file, schema or queue name) and dropped afterwards, so no run
 * inherits another's rows, dead tuples or warm indexes.
 */
import type { Counts } from '../counts.ts';
import { BULK_SIZE } from '../counts.ts';
import type { CpuJobSpec } from '../cpu-job.ts';
import type { Measurement } from '../measurement.ts';
import { openClient, type BenchClient, type BenchSystem, type JobKind, type Payload, type StateRef } from '../systems/system.ts';

export interface ScenarioContext {
  system: BenchSystem;
  counts: Counts;
  /** The loop scenario's CPU job, calibrated once by the orchestrator; null when that scenario is not run. */
  cpuJob: CpuJobSpec | null;
  record(m: Omit<Measurement, 'system'>): void;
  log(line: string): void;
}

export async function withState<T>(system: BenchSystem, fn: (client: BenchClient, state: StateRef) => Promise<T>, job: JobKind = 'noop'): Promise<T> {
  const state = await system.create();
  try {
    const client = await openClient(system, state, job);
    try {
      return await fn(client, state);
    } finally {
      await client.close();
    }
  } finally {
    await system.destroy(state);
  }
}

export function payloads(first: number, count: number): Payload[] {
  return Array.from({ length: count }, (_, k) => ({ i: first + k }));
}

/** Enqueues `total` jobs through the batch API, BULK_SIZE per call: the fastest way to fill a queue, untimed. */
export async function fill(client: BenchClient, total: number, first = 0): Promise<void> {
  for (let k = 0; k < total; k += BULK_SIZE) await client.enqueueBulk(payloads(first + k, Math.min(BULK_SIZE, total - k)));
}

export function perSecond(jobs: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (jobs * 1000) / elapsedMs : 0;
}
