/**
 * Retry, cancel or delete every job that matches the Jobs page's filters, done by the server in
 * batches (POST /dashboard/jobs/bulk, one transaction per batch): first a count of the jobs the
 * action would touch for the confirmation, then the run with its progress streamed back after
 * every batch, and a Stop button (closing the stream stops the run after its current batch).
 * Jobs whose state does not allow the action are left alone by the server and not counted.
 */
import { useRef, useState } from 'preact/hooks';
import type { JobStateName } from '../../../src/http/dashboard/protocol.ts';
import { act, ApiError, postStream } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { count } from '../format.ts';

export type BulkAction = 'retry' | 'cancel' | 'delete';

export interface JobFilter {
  states: JobStateName[];
  task: string;
  queue: string;
  /** An idempotency key; '' for none. */
  key: string;
}

const VERB: Record<BulkAction, { label: string; doing: string; done: string }> = {
  retry: { label: 'Retry', doing: 'Retrying', done: 'retried' },
  cancel: { label: 'Cancel', doing: 'Cancelling', done: 'cancelled' },
  delete: { label: 'Delete', doing: 'Deleting', done: 'deleted' },
};
const SKIPPED: Record<BulkAction, string> = {
  retry: 'Running and completed jobs are not retried.',
  cancel: 'Final jobs are left alone; running ones are asked to stop.',
  delete: 'Running jobs are not deleted.',
};
const URL = '/dashboard/jobs/bulk';

interface Progress {
  action: BulkAction;
  total: number;
  changed: number;
  requested: number;
  error: string | null;
  finished: boolean;
  stoppedBy: 'done' | 'max' | 'signal' | 'stopped' | null;
}

export function filterQuery(f: JobFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.states.length > 0) q.set('state', f.states.join(','));
  if (f.task !== '') q.set('task', f.task);
  if (f.queue !== '') q.set('queue', f.queue);
  if (f.key !== '') q.set('idempotencyKey', f.key);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

export function describeFilter(f: JobFilter): string {
  const parts = [
    f.states.length > 0 ? `in state ${f.states.join(' or ')}` : 'in any state',
    f.task === '' ? null : `of task ${f.task}`,
    f.queue === '' ? null : `in queue ${f.queue}`,
    f.key === '' ? null : `with idempotency key ${f.key}`,
  ];
  return parts.filter((p) => p !== null).join(', ');
}

/** The filter as the bulk route takes it. */
function apiFilter(f: JobFilter): Record<string, unknown> {
  return {
    ...(f.states.length > 0 ? { state: f.states } : {}),
    ...(f.task === '' ? {} : { task: f.task }),
    ...(f.queue === '' ? {} : { queue: f.queue }),
    ...(f.key === '' ? {} : { idempotencyKey: f.key }),
  };
}

/** A bulk action needs a filter (the server refuses none): every state stands for "every job". */
const everyState = (f: JobFilter): JobFilter =>
  f.states.length === 0 && f.task === '' && f.queue === '' && f.key === '' ? { ...f, states: ['scheduled', 'available', 'running', 'retryable', 'completed', 'cancelled', 'discarded'] } : f;

export function BulkActions({ filter, empty, onDone }: { filter: JobFilter; empty: boolean; onDone: () => void }) {
  const [asking, setAsking] = useState<{ action: BulkAction; count: number; capped: boolean } | null>(null);
  const [counting, setCounting] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const stopRef = useRef<AbortController | null>(null);

  const ask = async (action: BulkAction) => {
    setCounting(true);
    try {
      const r = await act<{ count: number; capped: boolean }>('POST', URL, { action, filter: apiFilter(everyState(filter)), dryRun: true });
      setAsking({ action, count: r?.count ?? 0, capped: r?.capped ?? false });
    } catch (err) {
      setProgress({ action, total: 0, changed: 0, requested: 0, error: err instanceof ApiError ? err.message : String(err), finished: true, stoppedBy: null });
    } finally {
      setCounting(false);
    }
  };

  const run = async (action: BulkAction, total: number) => {
    const stop = new AbortController();
    stopRef.current = stop;
    let p: Progress = { action, total, changed: 0, requested: 0, error: null, finished: false, stoppedBy: null };
    const update = (change: Partial<Progress>) => {
      p = { ...p, ...change };
      setProgress(p);
    };
    update({});
    try {
      await postStream(URL, { action, filter: apiFilter(everyState(filter)), ...(action === 'cancel' ? { reason: 'cancelled from the dashboard' } : {}) }, (event, data) => {
        const d = data as { changed?: number; requested?: number; stoppedBy?: Progress['stoppedBy']; detail?: string };
        if (event === 'progress') update({ changed: d.changed ?? 0, requested: d.requested ?? 0 });
        else if (event === 'done') update({ changed: d.changed ?? 0, requested: d.requested ?? 0, stoppedBy: d.stoppedBy ?? 'done' });
        else if (event === 'error') update({ error: d.detail ?? 'the run failed' });
      }, stop.signal);
    } catch (err) {
      if (stop.signal.aborted) update({ stoppedBy: 'stopped' });
      else update({ error: err instanceof Error ? err.message : String(err) });
    }
    update({ finished: true });
    stopRef.current = null;
    onDone();
  };

  const running = progress !== null && !progress.finished;
  const v = progress === null ? null : VERB[progress.action];
  if (empty && progress === null) return null;
  return (
    <section class="bulk" aria-label="Act on every matching job">
      <span class="bulk-label">Every matching job:</span>
      {(['retry', 'cancel', 'delete'] as const).map((a) => (
        <button key={a} type="button" class={a === 'delete' ? 'danger' : ''} disabled={running || counting || empty} onClick={() => void ask(a)} id={`bulk-${a}`}>
          {VERB[a].label} all…
        </button>
      ))}
      {asking === null ? null : (
        <ConfirmDialog
          title={`${VERB[asking.action].label} every job ${describeFilter(filter)}?`}
          confirmLabel={`${VERB[asking.action].label} ${asking.capped ? 'at least ' : ''}${count(asking.count)} ${asking.count === 1 ? 'job' : 'jobs'}`}
          danger={asking.action !== 'retry'}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const a = asking;
            setAsking(null);
            void run(a.action, a.count);
          }}
        >
          <p>
            {asking.capped ? 'At least ' : ''}
            {count(asking.count)} {asking.count === 1 ? 'job matches' : 'jobs match'} and can be {VERB[asking.action].done}
            {asking.capped ? ' (a run stops at 100 000; run it again for the rest)' : ''}. {SKIPPED[asking.action]} The server works in batches; jobs enqueued after the start are left alone.
          </p>
          {asking.action === 'delete' ? <p class="warn-text">Deleting cannot be undone.</p> : null}
        </ConfirmDialog>
      )}
      {progress === null || v === null ? null : (
        <div class="bulk-progress" role="status" aria-live="polite" id="bulk-progress">
          <progress {...(progress.total > 0 ? { max: progress.total, value: Math.min(progress.total, progress.changed + progress.requested) } : progress.finished ? { max: 1, value: 1 } : {})} />
          <span>
            {progress.finished ? (progress.error !== null && progress.stoppedBy === null ? 'Failed: ' : progress.stoppedBy === 'stopped' || progress.stoppedBy === 'signal' ? 'Stopped: ' : progress.stoppedBy === 'max' ? 'Stopped at the limit: ' : 'Done: ') : `${v.doing}… `}
            {count(progress.changed)} {v.done}
            {progress.action === 'cancel' ? `, ${count(progress.requested)} running asked to stop` : ''}
            {progress.error === null ? '' : ` (${progress.error})`}
          </span>
          {running ? (
            <button type="button" onClick={() => stopRef.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      )}
    </section>
  );
}
