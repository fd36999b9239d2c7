/**
 * Jobs: filter by state, task and queue, find jobs by id or idempotency key, page through with
 * cursors (the API reads a page by id, so page 1000 costs what page 1 does), and act on every
 * matching job (done by the server in batches, bulk-actions.tsx).
 * Filters and cursor live in the URL, so a filtered list can be linked and the back button works.
 */
import { useEffect, useState } from 'preact/hooks';
import type { JobPageJson, JobStateName } from '../../../src/http/dashboard/protocol.ts';
import { JOB_STATE_NAMES } from '../../../src/http/dashboard/protocol.ts';
import { apiPath, ApiError, canAct, getJson } from '../api.ts';
import { EmptyState } from '../components/empty-state.tsx';
import { Notice } from '../components/notice.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { relativeTime } from '../format.ts';
import { href, navigate } from '../router.ts';
import { useStats } from '../stats.tsx';
import { BulkActions, describeFilter, filterQuery, type JobFilter } from './bulk-actions.tsx';

const PAGE_SIZE = 50;

function filterOf(params: URLSearchParams): JobFilter {
  const states = (params.get('state') ?? '').split(',').filter((s): s is JobStateName => (JOB_STATE_NAMES as readonly string[]).includes(s));
  return { states, task: params.get('task') ?? '', queue: params.get('queue') ?? '', key: params.get('idempotencyKey') ?? '' };
}

export function JobsPage({ params }: { params: URLSearchParams }) {
  const filter = filterOf(params);
  const cursor = params.get('cursor');
  const query = filterQuery(filter);
  const { current } = useStats();
  // The page read for a query and cursor: rows of another filter are never shown under this one.
  const key = `${query}|${cursor ?? ''}`;
  const [loaded, setLoaded] = useState<{ key: string; page: JobPageJson; readAt: number } | null>(null);
  const page = loaded?.key === key ? loaded.page : null;
  const readAt = loaded?.readAt ?? 0;
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [draft, setDraft] = useState<JobFilter>(filter);
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | null>(null);

  useEffect(() => setDraft(filterOf(new URLSearchParams(query))), [query]);

  useEffect(() => {
    let live = true;
    setError(null);
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE_SIZE));
    if (cursor !== null) q.set('cursor', cursor);
    getJson<JobPageJson>(apiPath(`/v1/jobs?${q.toString()}`)).then(
      (p) => {
        if (live) setLoaded({ key: `${query}|${cursor ?? ''}`, page: p, readAt: Date.now() });
      },
      (err: unknown) => {
        if (!live) return;
        setLoaded(null);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
    return () => {
      live = false;
    };
  }, [query, cursor, reload]);

  const apply = (e: Event) => {
    e.preventDefault();
    navigate(href('/jobs', { state: draft.states, task: draft.task.trim(), queue: draft.queue, idempotencyKey: filter.key === '' ? undefined : filter.key }));
  };
  // An id (`1042`, `#1042`) or an idempotency key. A number may be either: a key in use wins, as
  // the list it opens links nothing away (the job with that id is one click from the list).
  const go = async (e: Event) => {
    e.preventDefault();
    const text = search.trim();
    if (text === '') {
      setSearchError('Type a job id (e.g. 1042) or an idempotency key.');
      return;
    }
    if (text.length > 512) {
      setSearchError('Idempotency keys have at most 512 characters.');
      return;
    }
    setSearchError(null);
    const id = /^#?([0-9]{1,18})$/.exec(text)?.[1];
    if (id !== undefined && !text.startsWith('#')) {
      try {
        const byKey = await getJson<JobPageJson>(apiPath(`/v1/jobs?${new URLSearchParams({ idempotencyKey: text, limit: '1' }).toString()}`));
        if (byKey.jobs.length === 0) return navigate(href(`/jobs/${id}`));
      } catch {
        return navigate(href(`/jobs/${id}`));
      }
    } else if (id !== undefined) {
      return navigate(href(`/jobs/${id}`));
    }
    navigate(href('/jobs', { idempotencyKey: text }));
  };

  const filtered = filter.states.length > 0 || filter.task !== '' || filter.queue !== '' || filter.key !== '';
  const queues = current?.queues ?? [];

  return (
    <>
      <h1>Jobs</h1>
      <div class="jobs-tools">
        <form class="filters" onSubmit={apply} aria-label="Filter jobs">
          <fieldset class="states">
            <legend>State</legend>
            {JOB_STATE_NAMES.map((s) => (
              <label key={s} class="check">
                <input
                  type="checkbox"
                  name="state"
                  value={s}
                  checked={draft.states.includes(s)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setDraft((d) => ({ ...d, states: on ? [...d.states, s] : d.states.filter((x) => x !== s) }));
                  }}
                />
                {s}
              </label>
            ))}
          </fieldset>
          <label>
            Task
            <input id="filter-task" type="text" value={draft.task} placeholder="any" spellcheck={false} onInput={(e) => setDraft((d) => ({ ...d, task: e.currentTarget.value }))} />
          </label>
          <label>
            Queue
            <select id="filter-queue" value={draft.queue} onChange={(e) => setDraft((d) => ({ ...d, queue: e.currentTarget.value }))}>
              <option value="">any</option>
              {[...new Set([...queues.map((q) => q.name), ...(draft.queue === '' ? [] : [draft.queue])])].map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary" id="filter-apply">
            Apply
          </button>
          {filtered ? <a href={href('/jobs')}>Clear</a> : null}
        </form>
        <form class="search" onSubmit={(e) => void go(e)} role="search" aria-label="Find a job by id or idempotency key">
          <label>
            Job id or idempotency key
            <input id="job-search" type="search" maxLength={512} value={search} placeholder="e.g. 1042 or order-77  (/)" spellcheck={false} onInput={(e) => setSearch(e.currentTarget.value)} aria-describedby={searchError === null ? undefined : 'job-search-error'} />
          </label>
          <button type="submit">Go</button>
          {searchError === null ? null : (
            <span id="job-search-error" class="field-error" role="alert">
              {searchError}
            </span>
          )}
        </form>
      </div>

      {/* Kept while the list is empty, so the progress of an action that emptied it stays in view. */}
      {filter.key === '' ? null : (
        <p class="filter-key" id="filter-key">
          Jobs with idempotency key <code>{filter.key}</code>, of any task.{' '}
          <a href={href('/jobs', { state: filter.states, task: filter.task, queue: filter.queue })}>Show all keys</a>
        </p>
      )}
      {canAct() && page !== null ? <BulkActions filter={filter} empty={page.jobs.length === 0} onDone={() => setReload((n) => n + 1)} /> : null}
      {error === null ? null : <Notice kind="error">Could not list jobs: {error}</Notice>}

      {page === null ? (
        error === null ? <p class="muted">Loading…</p> : null
      ) : page.jobs.length === 0 ? (
        filtered ? (
          <EmptyState title="No job matches">
            <p>No job {describeFilter(filter)}{cursor === null ? '' : ' on this page'}. Completed and cancelled jobs are pruned after their retention (24 h by default), discarded ones after 7 days.</p>
            <p>
              <a href={href('/jobs')}>Clear the filters</a>
            </p>
          </EmptyState>
        ) : (
          <EmptyState title="No jobs yet">
            <p>
              Jobs show here once enqueued: <code>await offload.enqueue(task, payload)</code> in your code, or <code>POST /v1/jobs</code> with{' '}
              <code>{'{"task": "...", "payload": {...}}'}</code>.
            </p>
          </EmptyState>
        )
      ) : (
        <>
          <div class="table-wrap">
            <table class="jobs" data-query={query}>
              <caption class="visually-hidden">Jobs {describeFilter(filter)}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Task</th>
                  <th scope="col">Queue</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">Attempt</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {page.jobs.map((j) => {
                  const last = j.errors.at(-1);
                  return (
                    <tr key={j.id} data-job-id={j.id}>
                      <th scope="row">
                        <a href={href(`/jobs/${j.id}`)}>#{j.id}</a>
                      </th>
                      <td class="mono">{j.task}</td>
                      <td>{j.queue}</td>
                      <td>
                        <StateBadge state={j.state} />
                      </td>
                      <td class="num">
                        {j.attempt}/{j.maxAttempts}
                      </td>
                      <td title={j.createdAt}>{relativeTime(Date.parse(j.createdAt), readAt)}</td>
                      <td class="error-cell">{last === undefined ? '' : `${last.name}: ${last.message}`}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            {cursor === null ? null : <a href={href('/jobs', { state: filter.states, task: filter.task, queue: filter.queue, idempotencyKey: filter.key || undefined })}>« Newest</a>}
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Refresh
            </button>
            {page.nextCursor === null ? (
              <span class="muted">End of the list</span>
            ) : (
              <a id="next-page" href={href('/jobs', { state: filter.states, task: filter.task, queue: filter.queue, idempotencyKey: filter.key || undefined, cursor: page.nextCursor })}>
                Older »
              </a>
            )}
          </nav>
        </>
      )}
    </>
  );
}
