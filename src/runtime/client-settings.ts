/**
 * The settings of a client, resolved and validated once from `createOffload()`'s options: every
 * number checked against its range, every default applied, so the runtime never re-checks.
 */
import { availableParallelism } from 'node:os';
import { checkKeys, intOption, NAME_PATTERN, stringOption } from '../core/options.ts';
import { OffloadError } from '../errors.ts';
import { DEFAULT_LOOP_HEALTH, type LoopHealthOptions } from './loop-health.ts';
import type { Retention } from './maintenance/pruner.ts';
import type { ThreadPoolOptions } from './threads/pool.ts';

const HOUR = 3_600_000;

export interface ClientSettings {
  leaseMs: number;
  heartbeatMs: number;
  cancelCheckMs: number;
  pollMs: number;
  rescueIntervalMs: number;
  pruneIntervalMs: number;
  expireIntervalMs: number;
  threads: Omit<ThreadPoolOptions, 'typescript'>;
  admissionRefreshMs: number;
  retention: Retention;
  maxPayloadBytes: number;
  maxResultBytes: number;
  maxProgressBytes: number;
}

/** `o`: the options, keys already checked. `notify`: the store pushes wake-ups (polls can be rarer). */
export function resolveSettings(o: Record<string, unknown>, notify: boolean): ClientSettings {
  const leaseMs = intOption(o['leaseMs'], 'createOffload(): leaseMs', 100, 86_400_000, 15_000);
  const r = checkKeys(o['retention'], ['completedMs', 'cancelledMs', 'discardedMs'], 'createOffload(): retention');
return {
    leaseMs,
    heartbeatMs: intOption(o['heartbeatMs'], 'createOffload(): heartbeatMs', 10, leaseMs - 1, Math.floor(leaseMs / 3)),
    cancelCheckMs: intOption(o['cancelCheckMs'], 'createOffload(): cancelCheckMs', 10, 60_000, 500),
    pollMs: intOption(o['pollMs'], 'createOffload(): pollMs', 10, 60_000, notify ? 1000 : 200),
    rescueIntervalMs: intOption(o['rescueIntervalMs'], 'createOffload(): rescueIntervalMs', 10, 3_600_000, 5000),
    pruneIntervalMs: intOption(o['pruneIntervalMs'], 'createOffload(): pruneIntervalMs', 10, 86_400_000, 60_000),
    expireIntervalMs: intOption(o['expireIntervalMs'], 'createOffload(): expireIntervalMs', 10, 3_600_000, 1000),
    threads: threadOptions(o['threads']),
    admissionRefreshMs: intOption(o['admissionRefreshMs'], 'createOffload(): admissionRefreshMs', 0, 60_000, 250),
    retention: {
      completedMs: intOption(r['completedMs'], 'createOffload(): retention.completedMs', 0, 2 ** 40, 24 * HOUR),
      cancelledMs: intOption(r['cancelledMs'], 'createOffload(): retention.cancelledMs', 0, 2 ** 40, 24 * HOUR),
      discardedMs: intOption(r['discardedMs'], 'createOffload(): retention.discardedMs', 0, 2 ** 40, 7 * 24 * HOUR),
    },
    maxPayloadBytes: intOption(o['maxPayloadBytes'], 'createOffload(): maxPayloadBytes', 16, 256 * 2 ** 20, 2 ** 20),
    maxResultBytes: intOption(o['maxResultBytes'], 'createOffload(): maxResultBytes', 16, 256 * 2 ** 20, 2 ** 20),
    maxProgressBytes: intOption(o['maxProgressBytes'], 'createOffload(): maxProgressBytes', 16, 16 * 2 ** 20, 64 * 2 ** 10),
  };
}

/** The key of `queues` whose settings hold for every queue not named. */
export const ANY_QUEUE = '*';

export function queueLimits(value: unknown): Map<string, number> {
  const limits = new Map<string, number>();
  if (value === undefined) return limits;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'createOffload(): queues must be an object of queue name -> { maxBacklog }');
  }
  for (const [name, settings] of Object.entries(value)) {
    // '*': the settings of every queue not named (no queue name can be '*').
    if (name !== ANY_QUEUE) stringOption(name, 'createOffload(): queues: a queue name', '', NAME_PATTERN);
    const s = checkKeys(settings, ['maxBacklog'], `createOffload(): queues.${name}`);
    if (s['maxBacklog'] !== undefined) limits.set(name, intOption(s['maxBacklog'], `createOffload(): queues.${name}.maxBacklog`, 1, 1_000_000_000, 0));
  }
  return limits;
}

export function loopHealthOptions(value: unknown): LoopHealthOptions | null {
  if (value === false) return null;
  const o = checkKeys(value, ['maxDelayMs', 'resumeDelayMs', 'blockedMs'], 'createOffload(): loop');
  const maxDelayMs = intOption(o['maxDelayMs'], 'createOffload(): loop.maxDelayMs', 1, 60_000, DEFAULT_LOOP_HEALTH.maxDelayMs);
  const options: LoopHealthOptions = {
    ...DEFAULT_LOOP_HEALTH,
    maxDelayMs,
    resumeDelayMs: intOption(o['resumeDelayMs'], 'createOffload(): loop.resumeDelayMs', 0, maxDelayMs, Math.floor(maxDelayMs / 2)),
    blockedMs: intOption(o['blockedMs'], 'createOffload(): loop.blockedMs', 20, 600_000, DEFAULT_LOOP_HEALTH.blockedMs),
  };
  return options;
}

function threadOptions(value: unknown): ClientSettings['threads'] {
  const o = checkKeys(value, ['size', 'maxMemoryMb', 'maxJobsPerThread', 'terminateGraceMs'], 'createOffload(): threads');
  return {
    size: intOption(o['size'], 'createOffload(): threads.size', 1, 1024, availableParallelism()),
    maxMemoryMb: o['maxMemoryMb'] === undefined ? null : intOption(o['maxMemoryMb'], 'createOffload(): threads.maxMemoryMb', 8, 1_048_576, 0),
    maxJobsPerThread: intOption(o['maxJobsPerThread'], 'createOffload(): threads.maxJobsPerThread', 1, 1_000_000_000, 10_000),
    terminateGraceMs: intOption(o['terminateGraceMs'], 'createOffload(): threads.terminateGraceMs', 0, 600_000, 1000),
  };
}
