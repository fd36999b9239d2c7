/**
 * Queues: depth by state, drain rate, estimated wait and the bound of each queue, live from the
 * stats stream; pause and resume. A pause is stored: every worker process obeys it.
 */
import { useState } from 'preact/hooks';
import type { QueueJson } from '../../../src/http/dashboard/protocol.ts';
import { act, apiPath, ApiError, canAct } from '../api.ts';
import { EmptyState } from '../components/empty-state.tsx';
import { Notice } from '../components/notice.tsx';
import { count, ms, rate } from '../format.ts';
import { href } from '../router.ts';
import { useStats } from '../stats.tsx';

export function QueuesPage() {
  const { current } = useStats();
  const [pending, setPending] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  // The answer of an action shows at once, until the stream agrees, or until reads 3 s newer than
  // the action still disagree (someone else acted). Both times are the server's.
  const [overrides, setOverrides] = useState<Record<string, { paused: boolean; readAt: number }>>({});
  const readAt = current?.readAt ?? 0;
  const queues = (current?.queues ?? []).map((q) => {
    const o = overrides[q.name];
    return o === undefined || o.paused === q.paused || readAt - o.readAt > 3000 ? q : { ...q, paused: o.paused };
  });
  const admin = canAct();

  const toggle = async (q: QueueJson) => {
    const action = q.paused ? 'resume' : 'pause';
    setPending(q.name);
    setMessage(null);
    try {
      const updated = await act<QueueJson>('POST', apiPath(`/v1/queues/${encodeURIComponent(q.name)}/${action}`));
      if (updated !== null) setOverrides((prev) => ({ ...prev, [q.name]: { paused: updated.paused, readAt } }));
      setMessage({ kind: 'info', text: action === 'pause' ? `Queue ${q.name} is paused: no worker claims from it; running jobs finish.` : `Queue ${q.name} is resumed.` });
    } catch (err) {
      setMessage({ kind: 'error', text: `Could not ${action} ${q.name}: ${err instanceof ApiError ? err.message : String(err)}` });
    } finally {
      setPending(null);
    }
  };

  return (
    <>
      <h1>Queues</h1>
      <div aria-live="polite">{message === null ? null : <Notice kind={message.kind === 'error' ? 'error' : 'info'}>{message.text}</Notice>}</div>
      {current === null ? (
        <p class="muted">Loading…</p>
      ) : queues.length === 0 ? (
        <EmptyState title="No queues yet">
          <p>
            A queue appears when a job is enqueued to it (<code>await offload.enqueue(task, payload, {'{'} queue: 'emails' {'}'})</code>, or{' '}
            <code>POST /v1/jobs</code>), or when a client's tasks name it. Jobs without a queue go to <code>default</code>.
          </p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="queues">
            <caption class="visually-hidden">Queues, with jobs by state</caption>
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Waiting</th>
                <th scope="col" class="num">Available</th>
                <th scope="col" class="num">Scheduled</th>
                <th scope="col" class="num">Retryable</th>
                <th scope="col" class="num">Running</th>
                <th scope="col" class="num">Completed</th>
                <th scope="col" class="num">Discarded</th>
                <th scope="col" class="num">Drain</th>
                <th scope="col" class="num">Est. wait</th>
                <th scope="col" class="num">Max backlog</th>
                <th scope="col"><span class="visually-hidden">Action</span></th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.name} data-queue={q.name}>
                  <th scope="row">
                    <a href={href('/jobs', { queue: q.name })}>{q.name}</a>
                  </th>
                  <td>{q.paused ? <span class="badge paused">paused</span> : <span class="badge active">active</span>}</td>
                  <td class="num">{count(q.waiting)}</td>
                  <td class="num">{count(q.counts.available)}</td>
                  <td class="num">{count(q.counts.scheduled)}</td>
                  <td class="num">{count(q.counts.retryable)}</td>
                  <td class="num">{count(q.counts.running)}</td>
                  <td class="num">{count(q.counts.completed)}</td>
                  <td class="num">{q.counts.discarded > 0 ? <a href={href('/jobs', { queue: q.name, state: 'discarded' })}>{count(q.counts.discarded)}</a> : '0'}</td>
                  <td class="num">{rate(q.drainPerSec)}/s</td>
                  <td class="num">{q.waiting === 0 ? '–' : q.estimatedWaitMs === null ? 'not draining' : ms(q.estimatedWaitMs)}</td>
                  <td class="num">{q.maxBacklog === null ? 'none' : count(q.maxBacklog)}</td>
                  <td>
                    <button
                      type="button"
                      class={q.paused ? 'primary' : ''}
                      disabled={!admin || pending === q.name}
                      title={admin ? undefined : 'needs a token with the admin scope'}
                      aria-label={`${q.paused ? 'Resume' : 'Pause'} queue ${q.name}`}
                      onClick={() => void toggle(q)}
                    >
                      {pending === q.name ? '…' : q.paused ? 'Resume' : 'Pause'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted small">
        Drain: jobs of the queue that reached a final state per second over the last 10 s, in every process. Estimated wait: waiting ÷ drain. A paused queue
        still takes enqueues; its jobs wait.
      </p>
    </>
  );
}
