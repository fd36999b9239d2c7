/**
 * Retry, cancel or delete every job that matches the Jobs page's filters: confirmed first, then
 * done page by page (100 jobs a page, 4 requests at a time) through the same API calls as one job,
 * with progress and a Stop button. Pages are read by cursor (job id), so jobs that leave the
 * filter as they are acted on (a retried discarded job) do not shift the next page.
 *
 * Jobs whose state does not allow the action are counted as skipped without a request; the API
 * still decides for the rest (a job that changed state meanwhile answers 409: skipped too).
 */
import { useRef, useState } from 'preact/hooks';
import type { JobJson, JobPageJson, JobStateName } from '../../../src/http/dashboard/protocol.ts';
import { act, apiPath, ApiError, getJson } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { count } from '../format.ts';

export type BulkAction = 'retry' | 'cancel' | 'delete';

export interface JobFilter {
  states: JobStateName[];
  task: string;
  queue: string;
}

const ALLOWED: Record<BulkAction, ReadonlySet<JobStateName>> = {
  retry: new Set(['scheduled', 'available', 'retryable', 'cancelled', 'discarded']),
  cancel: new Set(['scheduled', 'available', 'retryable', 'running']),
  delete: new Set(['scheduled', 'available', 'retryable', 'completed', 'cancelled', 'discarded']),
};
const VERB: Record<BulkAction, { label: string; doing: string; done: string }> = {
  retry: { label: 'Retry', doing: 'Retrying', done: 'retried' },
  cancel: { label: 'Cancel', doing: 'Cancelling', done: 'cancelled' },
  delete: { label: 'Delete', doing: 'Deleting', done: 'deleted' },
};
const PAGE = 100;
const PARALLEL = 4;

interface Progress {
  action: BulkAction;
  done: number;
  skipped: number;
  failed: number;
  lastError: string | null;
  finished: boolean;
  stopped: boolean;
}

export function filterQuery(f: JobFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.states.length > 0) q.set('state', f.states.join(','));
  if (f.task !== '') q.set('task', f.task);
  if (f.queue !== '') q.set('queue', f.queue);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

export function describeFilter(f: JobFilter): string {
  const parts = [f.states.length > 0 ? `in state ${f.states.join(' or ')}` : 'in any state', f.task === '' ? null : `of task ${f.task}`, f.queue === '' ? null : `in queue ${f.queue}`];
  return parts.filter((p) => p !== null).join(', ');
}

async function one(action: BulkAction, job: JobJson): Promise<void> {
  const path = apiPath(`/v1/jobs/${job.id}${action === 'delete' ? '' : `/${action}`}`);
  await act(action === 'delete' ? 'DELETE' : 'POST', path, action === 'cancel' ? { reason: 'cancelled from the dashboard' } : undefined);
}

/**
 * Acts on every job matching `filter`, page by page; reports after each group of requests.
 * Stops between groups once `shouldStop()` says so.
 */
async function runBulk(action: BulkAction, filter: JobFilter, report: (p: Progress) => void, shouldStop: () => boolean): Promise<void> {
  let p: Progress = { action, done: 0, skipped: 0, failed: 0, lastError: null, finished: false, stopped: false };
  const update = (change: Partial<Progress>) => {
    p = { ...p, ...change };
    report(p);
  };
  update({});
  let cursor: string | null = null;
  try {
    do {
      const page: JobPageJson = await getJson<JobPageJson>(apiPath(`/v1/jobs?${filterQuery(filter, { limit: String(PAGE), ...(cursor === null ? {} : { cursor }) })}`));
      const eligible = page.jobs.filter((j) => ALLOWED[action].has(j.state));
      update({ skipped: p.skipped + page.jobs.length - eligible.length });
      for (let i = 0; i < eligible.length && !shouldStop(); i += PARALLEL) {
        const results = await Promise.allSettled(eligible.slice(i, i + PARALLEL).map((j) => one(action, j)));
        let done = 0;
        let skipped = 0;
        let failed = 0;
        let lastError = p.lastError;
        for (const r of results) {
          if (r.status === 'fulfilled') done++;
          else if (r.reason instanceof ApiError && (r.reason.status === 409 || r.reason.status === 404)) skipped++;
          else {
            failed++;
            lastError = r.reason instanceof Error ? r.reason.message : String(r.reason);
          }
        }
        update({ done: p.done + done, skipped: p.skipped + skipped, failed: p.failed + failed, lastError });
      }
      cursor = page.nextCursor;
    } while (cursor !== null && !shouldStop());
  } catch (err) {
    update({ lastError: err instanceof Error ? err.message : String(err), failed: p.failed + 1 });
  }
  update({ finished: true, stopped: shouldStop() });
}

export function BulkActions({ filter, estimate, empty, onDone }: { filter: JobFilter; estimate: number | null; empty: boolean; onDone: () => void }) {
  const [asking, setAsking] = useState<BulkAction | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const stopRef = useRef(false);

  const run = async (action: BulkAction) => {
    stopRef.current = false;
    await runBulk(action, filter, setProgress, () => stopRef.current);
    onDone();
  };

  const running = progress !== null && !progress.finished;
  const v = progress === null ? null : VERB[progress.action];
  if (empty && progress === null) return null;
  return (
    <section class="bulk" aria-label="Act on every matching job">
      <span class="bulk-label">Every matching job:</span>
      {(['retry', 'cancel', 'delete'] as const).map((a) => (
        <button key={a} type="button" class={a === 'delete' ? 'danger' : ''} disabled={running || empty} onClick={() => setAsking(a)} id={`bulk-${a}`}>
          {VERB[a].label} all…
        </button>
      ))}
      {asking === null ? null : (
        <ConfirmDialog
          title={`${VERB[asking].label} every job ${describeFilter(filter)}?`}
          confirmLabel={`${VERB[asking].label} ${estimate === null ? 'all matching jobs' : `about ${count(estimate)} jobs`}`}
          danger={asking !== 'retry'}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const a = asking;
            setAsking(null);
            void run(a);
          }}
        >
          <p>
            {estimate === null ? 'How many match is known only as it goes (the count needs every page).' : `About ${count(estimate)} jobs match now, from the queue counts.`} Jobs whose state does not allow it are
            skipped{asking === 'retry' ? ' (running and completed jobs cannot be retried)' : asking === 'cancel' ? ' (final jobs cannot be cancelled; running ones are asked to stop)' : ' (running jobs cannot be deleted)'}.
          </p>
          {asking === 'delete' ? <p class="warn-text">Deleting cannot be undone.</p> : null}
        </ConfirmDialog>
      )}
      {progress === null || v === null ? null : (
        <div class="bulk-progress" role="status" aria-live="polite" id="bulk-progress">
          <progress {...(estimate !== null && estimate > 0 ? { max: estimate, value: Math.min(estimate, progress.done + progress.skipped) } : progress.finished ? { max: 1, value: 1 } : {})} />
          <span>
            {progress.finished ? (progress.stopped ? 'Stopped: ' : 'Done: ') : `${v.doing}… `}
            {count(progress.done)} {v.done}, {count(progress.skipped)} skipped, {count(progress.failed)} failed
            {progress.lastError === null ? '' : ` (last error: ${progress.lastError})`}
          </span>
          {running ? (
            <button type="button" onClick={() => {
                stopRef.current = true;
              }}>
              Stop
            </button>
          ) : null}
        </div>
      )}
    </section>
  );
}
