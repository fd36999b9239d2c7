import type { JobStateName } from '../../../src/http/dashboard/protocol.ts';

/** A job state as a coloured label; the word is always there, colour only adds to it. */
export function StateBadge({ state }: { state: JobStateName }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}
