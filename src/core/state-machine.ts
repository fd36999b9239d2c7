/**
 * The job state machine: the one table every transition is checked against. Drivers receive the
 * allowed source states from here (see `sourcesOf`) and guard their UPDATEs with them, so a stale
 * caller can never move a job along an edge this table does not have.
 */
import { OffloadError } from '../errors.ts';
import type { JobState } from '../types.ts';

/** Why an edge exists; the same words as docs/state-machine.md. */
export type TransitionReason =
  | 'claim'
  | 'complete'
  | 'fail-retry'
  | 'fail-discard'
  | 'snooze'
  | 'cancel'
  | 'release'
  | 'rescue-retry'
  | 'rescue-discard'
  | 'retry'
  | 'expire';

/** from -> to -> reasons. A missing entry is a forbidden transition. */
const TABLE: Readonly<Record<JobState, Partial<Record<JobState, readonly TransitionReason[]>>>> = {
  scheduled: { running: ['claim'], cancelled: ['cancel', 'expire'], available: ['retry'] },
  available: { running: ['claim'], cancelled: ['cancel', 'expire'] },
  retryable: { running: ['claim'], cancelled: ['cancel', 'expire'], available: ['retry'] },
  running: {
    completed: ['complete'],
    retryable: ['fail-retry', 'rescue-retry'],
    discarded: ['fail-discard', 'rescue-discard'],
    cancelled: ['cancel'],
    scheduled: ['snooze'],
    available: ['release'],
  },
  completed: {},
  cancelled: { available: ['retry'] },
  discarded: { available: ['retry'] },
};

/** Jobs waiting to run; a claim takes them once `run_at` has passed. */
export const WAITING_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable'];
/** Final states: nothing runs again unless `retry` redrives it; the pruner deletes them. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'cancelled', 'discarded'];

export function canTransition(from: JobState, to: JobState, reason?: TransitionReason): boolean {
  const reasons = TABLE[from][to];
  if (reasons === undefined) return false;
  return reason === undefined || reasons.includes(reason);
}

/** Throws OFFLOAD_INVALID_STATE unless `from -> to` is an edge of the table. */
export function assertTransition(from: JobState, to: JobState, reason?: TransitionReason): void {
  if (!canTransition(from, to, reason)) {
    throw new OffloadError('OFFLOAD_INVALID_STATE', `a job cannot go from '${from}' to '${to}'${reason ? ` (${reason})` : ''}`, {
      details: { from, to, reason },
    });
  }
}

/** Every state from which `reason` may lead to `to`: what a driver's guarded UPDATE accepts. */
export function sourcesOf(to: JobState, reason: TransitionReason): JobState[] {
  return (Object.keys(TABLE) as JobState[]).filter((from) => TABLE[from][to]?.includes(reason) === true);
}

/** The table itself, for docs and tests. */
export function transitionTable(): ReadonlyArray<{ from: JobState; to: JobState; reasons: readonly TransitionReason[] }> {
  const rows: Array<{ from: JobState; to: JobState; reasons: readonly TransitionReason[] }> = [];
  for (const from of Object.keys(TABLE) as JobState[]) {
    for (const [to, reasons] of Object.entries(TABLE[from]) as Array<[JobState, readonly TransitionReason[]]>) {
      rows.push({ from, to, reasons });
    }
  }
  return rows;
}
