/**
 * One job: why it waits (for a waiting job), its figures, timeline, attempts with their errors
 * and stacks, payload, progress and result; retry, cancel and delete. Read again each second
 * while it is not final, so a retry is seen running and completing.
 */
import { useEffect, useState } from 'preact/hooks';
import type { JobInsight } from '../../../src/http/dashboard/protocol.ts';
import { act, apiPath, ApiError, canAct, getJson } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { JsonBlock } from '../components/json-block.tsx';
import { Notice } from '../components/notice.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { dateTime, ms, relativeTime } from '../format.ts';
import { href, navigate } from '../router.ts';
import { useStats } from '../stats.tsx';

const FINAL = new Set(['completed', 'cancelled', 'discarded']);
type Action = 'retry' | 'cancel' | 'delete';

export function JobPage({ id }: { id: string }) {
  const { samples } = useStats();
  const [insight, setInsight] = useState<JobInsight | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [asking, setAsking] = useState<Action | null>(null);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);
  const final = insight !== null && FINAL.has(insight.job.state);
  // A new sample each second: read again while the job can still change.
  const tick = final ? -1 : samples.at(-1)?.t ?? 0;

  useEffect(() => {
    setInsight(null);
    setError(null);
    setMessage(null);
  }, [id]);

  useEffect(() => {
    let live = true;
    getJson<JobInsight>(`/dashboard/jobs/${encodeURIComponent(id)}`).then(
      (i) => {
        if (!live) return;
        setInsight(i);
        setError(null);
      },
      (err: unknown) => live && setError(err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err))),
    );
    return () => {
      live = false;
    };
  }, [id, tick, reload]);

  const run = async (action: Action) => {
    setAsking(null);
    setBusy(true);
    setMessage(null);
    try {
      if (action === 'delete') {
        await act('DELETE', apiPath(`/v1/jobs/${id}`));
        navigate(href('/jobs'));
        return;
      }
      await act('POST', apiPath(`/v1/jobs/${id}/${action}`), action === 'cancel' ? { reason: 'cancelled from the dashboard' } : undefined);
      setMessage({ kind: 'info', text: action === 'retry' ? `Job #${id} is available again with a fresh attempt budget.` : `Job #${id}: cancel requested.` });
      setReload((n) => n + 1);
    } catch (err) {
      setMessage({ kind: 'error', text: `Could not ${action} job #${id}: ${err instanceof ApiError ? err.message : String(err)}` });
    } finally {
      setBusy(false);
    }
  };

  if (error !== null && insight === null) {
    return (
      <>
        <h1>Job #{id}</h1>
        {error.status === 404 ? (
          <EmptyState title="No such job">
            <p>{error.message}. It may have been deleted, or pruned after its retention (completed and cancelled jobs: 24 h by default; discarded: 7 days).</p>
            <p>
              <a href={href('/jobs')}>All jobs</a>
            </p>
          </EmptyState>
        ) : (
          <Notice kind="error">Could not read the job: {error.message}</Notice>
        )}
      </>
    );
  }
  if (insight === null) return <p class="muted">Loading job #{id}…</p>;

  const { job, wait, timeline, stacks, nowMs } = insight;
  const admin = canAct();
  const canRetry = job.state !== 'running' && job.state !== 'completed';
  const canCancel = !FINAL.has(job.state);
  const canDelete = job.state !== 'running';
  const stackOf = (attempt: number) => stacks.find((s) => s.attempt === attempt)?.stack ?? null;

  return (
    <>
      <div class="job-head">
        <h1>
          Job #{job.id} <StateBadge state={job.state} />
        </h1>
        <div class="job-actions" aria-label="Actions">
          <button type="button" class="primary" id="job-retry" disabled={!admin || !canRetry || busy} onClick={() => setAsking('retry')}>
            Retry
          </button>
          <button type="button" id="job-cancel" disabled={!admin || !canCancel || busy} onClick={() => setAsking('cancel')}>
            Cancel
          </button>
          <button type="button" class="danger" id="job-delete" disabled={!admin || !canDelete || busy} onClick={() => setAsking('delete')}>
            Delete
          </button>
        </div>
      </div>
      <p class="job-sub">
        Task <span class="mono" id="job-task">{job.task}</span> · queue <a href={href('/jobs', { queue: job.queue })}>{job.queue}</a> · attempt {job.attempt} of {job.maxAttempts}
      </p>
      <div aria-live="polite">{message === null ? null : <Notice kind={message.kind}>{message.text}</Notice>}</div>

      {asking === null ? null : (
        <ConfirmDialog
          title={asking === 'retry' ? `Retry job #${job.id}?` : asking === 'cancel' ? `Cancel job #${job.id}?` : `Delete job #${job.id}?`}
          confirmLabel={asking === 'retry' ? 'Retry now' : asking === 'cancel' ? 'Cancel the job' : 'Delete'}
          danger={asking !== 'retry'}
          onCancel={() => setAsking(null)}
          onConfirm={() => void run(asking)}
        >
          <p>
            {asking === 'retry'
              ? 'It becomes available now, with its attempts counted from zero again. Its past errors stay on the job.'
              : asking === 'cancel'
                ? job.state === 'running'
                  ? 'It is running: its signal is aborted and it ends cancelled once its handler stops.'
                  : 'It ends cancelled at once and never runs.'
                : 'The job and its history are removed. This cannot be undone.'}
          </p>
        </ConfirmDialog>
      )}

      {wait.length === 0 ? null : (
        <section class="panel wait" aria-labelledby="wait-title" id="wait-reasons">
          <h2 id="wait-title">Why is it still waiting?</h2>
          <ul>
            {wait.map((r) => (
              <li key={r.code} class={`wait-${r.code}`} data-code={r.code}>
                <strong>{r.title}</strong>
                <span>{r.detail}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <div class="job-grid">
        <section class="panel" aria-labelledby="facts-title">
          <h2 id="facts-title">Facts</h2>
          <dl class="facts">
            <dt>Created</dt>
            <dd title={job.createdAt}>{dateTime(job.createdAt)}</dd>
            <dt>Due</dt>
            <dd title={job.runAt}>
              {dateTime(job.runAt)} ({relativeTime(Date.parse(job.runAt), nowMs)})
            </dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Idempotency key</dt>
            <dd class="mono">{job.idempotencyKey ?? '–'}</dd>
            <dt>Worker</dt>
            <dd class="mono">{job.workerId ?? '–'}</dd>
            <dt>Latest attempt started</dt>
            <dd>{dateTime(job.attemptedAt)}</dd>
            <dt>Finished</dt>
            <dd>{dateTime(job.finishedAt)}</dd>
            <dt>Wait</dt>
            <dd>{ms(job.waitMs)}</dd>
            <dt>Run</dt>
            <dd>{ms(job.runMs)}</dd>
            <dt>Timeout</dt>
            <dd>{job.timeoutMs === null ? 'none' : ms(job.timeoutMs)}</dd>
            <dt>Start deadline</dt>
            <dd>{dateTime(job.expiresAt)}</dd>
            {job.cancelReason === null ? null : (
              <>
                <dt>Cancel reason</dt>
                <dd id="job-cancel-reason">{job.cancelReason}</dd>
              </>
            )}
          </dl>
        </section>
        <section class="panel" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <ol class="timeline">
            {timeline.map((e, i) => (
              <li key={i} class={`tl-${e.kind}${e.past ? '' : ' tl-future'}`}>
                <time dateTime={new Date(e.atMs).toISOString()} title={new Date(e.atMs).toISOString()}>
                  {relativeTime(e.atMs, nowMs)}
                </time>
                <span>{e.label}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>

      <section class="panel" aria-labelledby="attempts-title" id="attempts">
        <h2 id="attempts-title">Failed attempts</h2>
        {job.errors.length === 0 ? (
          <p class="muted">None{job.state === 'completed' ? ': it completed at the first attempt that ran to the end' : ' so far'}.</p>
        ) : (
          <ol class="attempts">
            {job.errors.map((e) => {
              const stack = stackOf(e.attempt);
              return (
                <li key={e.attempt} class="attempt">
                  <div class="attempt-head">
                    Attempt {e.attempt} · <time dateTime={e.at}>{dateTime(e.at)}</time> · <span class="mono">{e.name}</span>
                    {e.code === null ? null : <span class="mono"> ({e.code})</span>}
                  </div>
                  <pre class="error-message">{e.message}</pre>
                  {stack === null ? null : (
                    <details>
                      <summary>Stack</summary>
                      <pre class="stack">{stack}</pre>
                    </details>
                  )}
                </li>
              );
            })}
          </ol>
        )}
      </section>

      <div class="job-grid">
        <section class="panel" aria-labelledby="payload-title">
          <h2 id="payload-title">Payload</h2>
          <JsonBlock value={job.payload} label="Payload" />
        </section>
        <section class="panel" aria-labelledby="progress-title">
          <h2 id="progress-title">Progress</h2>
          <JsonBlock value={job.progress} label="Progress" />
          <h2 id="result-title">Result</h2>
          <JsonBlock value={job.result} label="Result" />
        </section>
      </div>
    </>
  );
}
