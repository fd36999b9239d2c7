/**
 * Workers: this server's own workers in full (loop, threads), and every worker id found on
 * running jobs, with host and pid from the id. offload keeps no registry of worker processes
 * yet, so an idle worker of another process does not show, and there is no heartbeat age.
 */
import { useEffect, useState } from 'preact/hooks';
import type { WorkersView } from '../../../src/http/dashboard/protocol.ts';
import { ApiError, getJson } from '../api.ts';
import { EmptyState } from '../components/empty-state.tsx';
import { Notice } from '../components/notice.tsx';
import { count, ms, percent } from '../format.ts';
import { href } from '../router.ts';
import { useStats } from '../stats.tsx';

/** Read every other sample: it lists running jobs, up to 10 000. */
const EVERY_SAMPLES = 2;

export function WorkersPage() {
  const { samples, current } = useStats();
  const [view, setView] = useState<WorkersView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = Math.floor(samples.length / EVERY_SAMPLES);

  useEffect(() => {
    let live = true;
    getJson<WorkersView>('/dashboard/workers').then(
      (v) => {
        if (!live) return;
        setView(v);
        setError(null);
      },
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [tick]);

  // The stream is fresher than the last read for this process's own figures.
  const self = view?.self ?? null;
  const loop = current?.loop ?? self?.loop ?? null;
  const threads = current?.threads ?? self?.threads ?? null;
  const workers = current?.workers ?? self;

  return (
    <>
      <h1>Workers</h1>
      <Notice>
        offload keeps no registry of worker processes yet: this page shows this server's own workers, and other workers only through the running jobs they hold. An idle
        worker in another process does not appear.
      </Notice>
      {error === null ? null : <Notice kind="error">Could not read the workers: {error}</Notice>}

      <section class="panel" aria-labelledby="self-title" id="self-worker">
        <h2 id="self-title">This server</h2>
        {self === null || workers === null ? (
          <EmptyState title="This server runs no workers">
            <p>
              It serves the dashboard and the API only. Start workers in this process with <code>await offload.start({'{'} concurrency: 10 {'}'})</code>, or run
              them elsewhere: every process with the same store and tasks claims jobs.
            </p>
          </EmptyState>
        ) : (
          <dl class="facts">
            <dt>Worker id</dt>
            <dd class="mono">{self.id}</dd>
            <dt>Host</dt>
            <dd class="mono">{self.host}</dd>
            <dt>PID</dt>
            <dd class="mono">{self.pid}</dd>
            <dt>Running</dt>
            <dd>
              {count(workers.running)} of {count(workers.concurrency)} slots
            </dd>
            <dt>Claiming</dt>
            <dd>{workers.claiming ? 'yes' : workers.pausedBy === 'loop' ? 'no: the event loop is overloaded' : 'no'}</dd>
            <dt>Event-loop delay</dt>
            <dd>{loop === null ? '–' : `p50 ${ms(loop.delayP50Ms)} · p99 ${ms(loop.delayP99Ms)} · max ${ms(loop.delayMaxMs)}`}</dd>
            <dt>Event-loop busy</dt>
            <dd>{loop === null ? '–' : percent(loop.utilization)}</dd>
            <dt>Threads</dt>
            <dd>
              {threads === null
                ? 'no thread pool (no thread task has run)'
                : `${threads.busy} busy of ${threads.size} (${threads.threads} started), ${threads.queued} queued, ${threads.retired} retired`}
            </dd>
          </dl>
        )}
      </section>

      <section class="panel" aria-labelledby="seen-title">
        <h2 id="seen-title">Workers holding running jobs</h2>
        {view === null ? (
          <p class="muted">Loading…</p>
        ) : view.seen.length === 0 ? (
          <EmptyState title="No job is running">
            <p>A worker shows here while it holds a running job. Nothing runs now{current?.queues.some((q) => q.waiting > 0) === true ? ', though jobs wait: see why on a job of the Jobs page' : ''}.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table class="workers">
              <thead>
                <tr>
                  <th scope="col">Worker id</th>
                  <th scope="col">Host</th>
                  <th scope="col" class="num">PID</th>
                  <th scope="col" class="num">Running jobs</th>
                  <th scope="col">Some of them</th>
                </tr>
              </thead>
              <tbody>
                {view.seen.map((w) => (
                  <tr key={w.id} data-worker={w.id}>
                    <th scope="row" class="mono">
                      {w.id}
                      {w.self ? <span class="badge active">this server</span> : null}
                    </th>
                    <td class="mono">{w.host}</td>
                    <td class="num mono">{w.pid ?? '–'}</td>
                    <td class="num">{count(w.runningJobs)}</td>
                    <td>
                      {w.jobIds.map((id) => (
                        <a key={id} href={href(`/jobs/${id}`)} class="job-chip">
                          #{id}
                        </a>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {view?.truncated === true ? <p class="muted small">Read the newest {count(view.runningScanned)} running jobs only.</p> : null}
      </section>
    </>
  );
}
