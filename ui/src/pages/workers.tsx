/**
 * Workers: every worker process in the store's registry (GET /v1/workers through the dashboard's
 * API proxy), this server's own marked, stale ones flagged; then this server's workers live from
 * the stats stream (claiming or held back by the loop, fresher than the last heartbeat).
 *
 * The figures of a registry row are those of the worker's last heartbeat, and its age is the
 * database clock's, so a page on a machine with a wrong clock still shows the truth.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RegistryWorkerJson } from '../../../src/http/dashboard/protocol.ts';
import { ApiError, apiPath, getJson } from '../api.ts';
import { EmptyState } from '../components/empty-state.tsx';
import { Notice } from '../components/notice.tsx';
import { count, ms, percent } from '../format.ts';
import { useStats } from '../stats.tsx';

function Threads({ t }: { t: RegistryWorkerJson['threads'] }) {
  if (t === null) return <span class="muted">none</span>;
  return (
    <>
      {t.busy} busy of {t.size}
      {t.queued > 0 ? `, ${t.queued} queued` : ''}
    </>
  );
}

function Loop({ l }: { l: RegistryWorkerJson['loop'] }) {
  if (l === null) return <span class="muted">not measured</span>;
  return (
    <>
      p99 {ms(l.delayP99Ms)} · busy {percent(l.utilization)}
      {l.overloaded ? <span class="badge overloaded">overloaded</span> : null}
    </>
  );
}

function WorkerRow({ w, self }: { w: RegistryWorkerJson; self: boolean }) {
  return (
    <tr data-worker={w.id} class={w.stale ? 'stale' : undefined}>
      <th scope="row" class="mono">
        {w.id}
        {self ? <span class="badge active">this server</span> : null}
      </th>
      <td class="mono">{w.host}</td>
      <td class="num mono">{w.pid}</td>
      <td class="heartbeat" title={`Last heartbeat ${w.heartbeatAt}; one every ${ms(w.heartbeatMs)}`}>
        {w.stale ? (
          <span class="badge stale" title={`No heartbeat for over three periods (${ms(3 * w.heartbeatMs)}): killed, hung, or cut off from the store`}>
            stale
          </span>
        ) : null}
        {ms(w.heartbeatAgeMs)} ago
      </td>
      <td class="num">
        {count(w.running)} / {count(w.concurrency)}
      </td>
      <td>
        <Threads t={w.threads} />
      </td>
      <td>
        <Loop l={w.loop} />
      </td>
      <td class="mono">{w.queues.join(', ')}</td>
      <td class="mono small">{w.version}</td>
    </tr>
  );
}

export function WorkersPage() {
  const { samples, current } = useStats();
  const [workers, setWorkers] = useState<RegistryWorkerJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Read again with every sample of the stream (the time of the newest one): the table is small.
  const tick = samples.at(-1)?.t ?? 0;

  useEffect(() => {
    let live = true;
    getJson<{ workers: RegistryWorkerJson[] }>(apiPath('/v1/workers')).then(
      (v) => {
        if (!live) return;
        setWorkers(v.workers);
        setError(null);
      },
      (err: unknown) => live && setError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err)),
    );
    return () => {
      live = false;
    };
  }, [tick]);

  const selfId = current?.workers?.id ?? null;
  const mine = current?.workers ?? null;
  const threads = current?.threads ?? null;
  const stale = workers?.filter((w) => w.stale).length ?? 0;

  return (
    <>
      <h1>Workers</h1>
      {error === null ? null : <Notice kind="error">Could not read the workers: {error}</Notice>}

      <section class="panel" aria-labelledby="registry-title" id="registry">
        <h2 id="registry-title">Worker processes</h2>
        {workers === null ? (
          <p class="muted">Loading…</p>
        ) : workers.length === 0 ? (
          <EmptyState title="No worker process is running">
            <p>
              Jobs wait until a worker claims them. Start one with <code>offload worker --tasks ./tasks.js</code> (same <code>--store</code> as this server), or in
              your own process with <code>await offload.start({'{'} concurrency: 10 {'}'})</code>. Every worker registers here when it starts and leaves when it
              stops.
            </p>
          </EmptyState>
        ) : (
          <>
            <p class="muted small" id="registry-summary">
              {count(workers.length)} {workers.length === 1 ? 'process' : 'processes'}
              {stale > 0 ? `, ${count(stale)} stale: no heartbeat for over three periods (killed, hung or cut off from the store); removed an hour after their last heartbeat` : ''}.
            </p>
            <div class="table-wrap">
              <table class="workers">
                <thead>
                  <tr>
                    <th scope="col">Worker id</th>
                    <th scope="col">Host</th>
                    <th scope="col" class="num">PID</th>
                    <th scope="col">Heartbeat</th>
                    <th scope="col" class="num">Running / slots</th>
                    <th scope="col">Threads</th>
                    <th scope="col">Event loop</th>
                    <th scope="col">Queues</th>
                    <th scope="col">Version</th>
                  </tr>
                </thead>
                <tbody>
                  {workers.map((w) => (
                    <WorkerRow key={w.id} w={w} self={w.id === selfId} />
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>

      <section class="panel" aria-labelledby="self-title" id="self-worker">
        <h2 id="self-title">This server, live</h2>
        {mine === null ? (
          <p class="muted">
            This server runs no workers: it serves the dashboard and the API. The processes above claim the jobs.
          </p>
        ) : (
          <dl class="facts">
            <dt>Worker id</dt>
            <dd class="mono">{mine.id}</dd>
            <dt>Running</dt>
            <dd>
              {count(mine.running)} of {count(mine.concurrency)} slots
            </dd>
            <dt>Claiming</dt>
            <dd>{mine.claiming ? 'yes' : mine.pausedBy === 'loop' ? 'no: the event loop is overloaded' : 'no'}</dd>
            <dt>Event-loop delay</dt>
            <dd>{current === null ? '–' : `p50 ${ms(current.loop.delayP50Ms)} · p99 ${ms(current.loop.delayP99Ms)} · max ${ms(current.loop.delayMaxMs)}`}</dd>
            <dt>Threads</dt>
            <dd>
              {threads === null
                ? 'no thread pool (no thread task is registered)'
                : `${threads.busy} busy of ${threads.size} (${threads.threads} started), ${threads.queued} queued, ${threads.retired} retired`}
            </dd>
          </dl>
        )}
      </section>
    </>
  );
}
