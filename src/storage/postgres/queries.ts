/**
 * Every SQL statement of the PostgreSQL store, one per driver method, built once per schema.
 * Parameters that carry JSON arrive as text and are cast `::text::json` (or `::jsonb`): postgres.js
 * would otherwise JSON-encode a string bound to a json parameter a second time.
 */
import { JOB_COLUMNS, JOB_SELECT } from './rows.ts';

/** A SQL string literal (for names that cannot be bind parameters, such as NOTIFY channels). */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The job columns of rows.ts as a select list qualified by `j.` (JOB_SELECT unqualified). */
const J_COLUMNS = JOB_COLUMNS.map((c) => `j.${c}`).join(', ');

export function pgQueries(schema: string, wakeChannel: string, cancelChannel: string) {
  const t = `${schema}.jobs`;
  const queues = `${schema}.queues`;
  const counts = `${schema}.job_counts`;
  const deltas = `${schema}.job_count_deltas`;
  return {
    // Times travel as ISO text (text[]::timestamptz[]): postgres.js types an array by its first
    // element and sends an array of Dates as a scalar timestamptz, which the cast then refuses.
    // Group commit: many enqueues in one statement. ORDER BY ord feeds rows to the identity
    // sequence in input order, so ids ascend in input order (the driver relies on it to match
    // returned rows to inputs). pg_notify inside RETURNING is deduplicated per (channel, payload)
    // by PostgreSQL within a transaction: one wake-up per queue, delivered at commit.
    // A row with a claim (token, lease_ms, worker_id; JobInsert.claim) is inserted `running`
    // under that lease when it is due and its queue is not paused, and wakes no one.
    insert: `INSERT INTO ${t} (task, queue, state, payload, priority, max_attempts, timeout_ms, run_at, idempotency_key, fingerprint, expires_at, trace_context,
        attempt, attempted_at, lease_token, lease_expires_at, worker_id)
      SELECT u.task, u.queue, CASE WHEN u.claimed THEN 'running' WHEN u.at > now() THEN 'scheduled' ELSE 'available' END, u.payload::json, u.priority,
             u.max_attempts, u.timeout_ms, u.at, u.idem, u.fp,
             COALESCE(u.expires_at, now() + u.ttl_ms * interval '1 millisecond'), u.trace::jsonb,
             CASE WHEN u.claimed THEN 1 ELSE 0 END, CASE WHEN u.claimed THEN now() END, CASE WHEN u.claimed THEN u.token END,
             CASE WHEN u.claimed THEN now() + u.lease_ms * interval '1 millisecond' END, CASE WHEN u.claimed THEN u.worker END
      FROM (SELECT v.*, v.token IS NOT NULL AND v.at <= now() AND (v.expires_at IS NULL OR v.expires_at > now())
                   AND NOT EXISTS (SELECT 1 FROM ${queues} pq WHERE pq.name = v.queue AND pq.paused_at IS NOT NULL) AS claimed
            FROM (SELECT *, COALESCE(run_at, now() + delay_ms * interval '1 millisecond') AS at
                  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[]::timestamptz[], $8::bigint[], $9::text[], $10::text[],
                              $11::text[]::timestamptz[], $12::bigint[], $13::text[], $14::text[], $15::bigint[], $16::text[])
                    WITH ORDINALITY AS x(task, queue, payload, priority, max_attempts, timeout_ms, run_at, delay_ms, idem, fp, expires_at, ttl_ms, trace,
                                         token, lease_ms, worker, ord)) v) u
      ORDER BY u.ord
      ON CONFLICT (task, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING ${JOB_SELECT}, CASE WHEN state <> 'running' THEN pg_notify(${lit(wakeChannel)}, queue) END AS _notified`,
    // By token alone: only a few rows are running, and this runs only after a failed insert.
    unclaim: `UPDATE ${t} SET state = 'available', attempt = attempt - 1, lease_token = NULL, lease_expires_at = NULL
      WHERE lease_token = $1 AND state = 'running' RETURNING id`,
    // A claim that may have committed without its answer reaching us (the connection dropped):
    // its leases, found by the claim's token prefix, go back as if never taken (the attempt
    // refunded), rather than wait for the rescuer and burn an attempt of jobs that never ran.
    releaseClaim: `UPDATE ${t} SET state = 'available', attempt = attempt - 1, lease_token = NULL, lease_expires_at = NULL
      WHERE state = 'running' AND worker_id = $2 AND starts_with(lease_token, $1) RETURNING id`,
    existing: `SELECT ${JOB_SELECT} FROM ${t} WHERE task = $1 AND idempotency_key = $2`,
    // SKIP LOCKED: concurrent claimers pass over rows another claimer has locked instead of
    // queueing behind it, so N workers claim N disjoint batches in parallel.
    // One index scan per queue (LATERAL, `queue = q.name`): with `queue = ANY($1)` the planner
    // cannot walk jobs_claim in (priority, run_at, id) order and sorted every due row instead:
    // 4.4 ms at 20k due rows against 0.07 ms this way. Rows locked by a queue's scan but cut by
    // the outer LIMIT are unlocked when the statement's transaction ends, at once.
    // Paused queues are dropped from the list before their scan; a job past its start deadline is
    // passed over here and ended by the expirer (jobExpire), so it never runs even between rounds.
    // Committed without waiting for its WAL flush (synchronous_commit off for this statement's
    // own transaction, set_config(..., true)): a claim lost in a server crash leaves its job as it
    // was (waiting, the attempt not counted) and the job runs again, at-least-once as after any
    // crash; the worker's later writes are refused by the fence. It can never undo a durable
    // write: WAL is flushed in order, so any later synchronous commit flushes the claim with it.
    // On the latency path (enqueue, claim, start) this leaves one flush instead of two. The CTE is
    // joined so that it runs.
    // The picks are leased by primary key (`id = ANY (ARRAY(...))`), not joined: with fresh
    // statistics on a table of some 20k rows (finished jobs are kept), the planner hash-joined the
    // picks against a sequential scan of the whole table, 4.4 ms a claim of 175 against 2.0 ms
    // (test/postgres-plans.test.ts).
    // Lease tokens: one random prefix per claim statement ($6, drawn by the driver), then the job
    // id, so every lease has a token of its own and one from an earlier claim of the same job never
    // matches again (as on SQLite). A gen_random_uuid() per row drew strong randomness per job:
    // ~1.8 us of server CPU each, a sixth of the claim's cost per job. Drawn by the driver, not the
    // server, so that a claim whose answer was lost can be found and handed back (releaseClaim).
    claim: `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
      picked AS (
        SELECT p.id FROM (SELECT u.name FROM unnest($1::text[]) AS u(name)
            WHERE NOT EXISTS (SELECT 1 FROM ${queues} pq WHERE pq.name = u.name AND pq.paused_at IS NOT NULL)) AS q,
          LATERAL (
          SELECT id, priority, run_at FROM ${t}
          WHERE state IN ('scheduled','available','retryable') AND queue = q.name AND run_at <= now() AND task = ANY($5::text[])
            AND (expires_at IS NULL OR expires_at > now())
          ORDER BY priority, run_at, id
          LIMIT $2
          FOR UPDATE SKIP LOCKED) AS p
        ORDER BY p.priority, p.run_at, p.id
        LIMIT $2)
      UPDATE ${t} j SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
        lease_token = $6::text || j.id, lease_expires_at = now() + $3 * interval '1 millisecond', worker_id = $4
      FROM relaxed WHERE j.id = ANY (ARRAY(SELECT id FROM picked))
      RETURNING ${J_COLUMNS}`,
    heartbeat: `UPDATE ${t} j SET lease_expires_at = now() + $3 * interval '1 millisecond'
      FROM unnest($1::bigint[], $2::text[]) AS l(id, token)
      WHERE j.id = l.id AND j.lease_token = l.token AND j.state = 'running'
      RETURNING j.id, j.lease_token, j.cancel_requested_at IS NOT NULL AS cancel_requested, j.cancel_reason`,
    cancelRequested: `SELECT id, cancel_reason FROM ${t} WHERE id = ANY($1::bigint[]) AND state = 'running' AND cancel_requested_at IS NOT NULL`,
    // Completions join only (id, token) from unnest; results, errors and cancel reasons are read
    // by position from their array parameters. Before table statistics exist the planner may run
    // the join as a nested loop over every running job with the unnest rescanned inside it; with a
    // big value in the unnest, its tuplestore spilled past work_mem and was re-read from temp files
    // once per running job: completing 3 jobs, one with a 33 MiB result, beside 303 running jobs
    // took 58 s against 2 s now, flat in the number running (test/postgres-plans.test.ts).
    completeOk: `UPDATE ${t} j SET state = 'completed', result = ($3::text[])[c.n]::json, finished_at = now(), lease_token = NULL, lease_expires_at = NULL
      FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS c(id, token, n)
      WHERE j.id = c.id AND j.lease_token = c.token AND j.state = 'running'
      RETURNING c.n::int`,
    completeOther: `UPDATE ${t} j SET state = c.state,
        attempt = j.attempt - c.refund,
        run_at = CASE WHEN c.delay_ms IS NULL THEN j.run_at ELSE now() + c.delay_ms * interval '1 millisecond' END,
        finished_at = CASE WHEN c.state IN ('completed','cancelled','discarded') THEN now() ELSE NULL END,
        errors = CASE WHEN ($6::text[])[c.n] IS NULL THEN j.errors
                      ELSE j.errors || jsonb_build_array(($6::text[])[c.n]::jsonb || jsonb_build_object('at', now())) END,
        cancel_reason = COALESCE(($7::text[])[c.n], j.cancel_reason),
        lease_token = NULL, lease_expires_at = NULL
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::bigint[])
        WITH ORDINALITY AS c(id, token, state, refund, delay_ms, n)
      WHERE j.id = c.id AND j.lease_token = c.token AND j.state = 'running'
      RETURNING c.n::int`,
    progress: `UPDATE ${t} SET progress = $3::text::json WHERE id = $1 AND lease_token = $2 AND state = 'running'`,
    get: `SELECT ${JOB_SELECT} FROM ${t} WHERE id = $1`,
    // One statement for both cases: a waiting job ends cancelled, a running one gets the request.
    // As two (waiting, then running), an outcome committed between them (running -> retryable)
    // slipped past both and the cancel did nothing. The row lock makes this one decide on the
    // row's latest state (SET and WHERE read the old row; RETURNING the new one).
    cancel: `UPDATE ${t} SET
        state = CASE WHEN state = ANY($3::text[]) THEN 'cancelled' ELSE state END,
        finished_at = CASE WHEN state = ANY($3::text[]) THEN now() ELSE finished_at END,
        cancel_reason = CASE WHEN state = ANY($3::text[]) THEN $2 ELSE COALESCE(cancel_reason, $2) END,
        cancel_requested_at = CASE WHEN state = ANY($3::text[]) THEN now() ELSE COALESCE(cancel_requested_at, now()) END
      WHERE id = $1 AND (state = ANY($3::text[]) OR state = 'running')
      RETURNING ${JOB_SELECT}, CASE WHEN state = 'running' THEN pg_notify(${lit(cancelChannel)}, id::text) END AS _notified`,
    // The deadline goes too: a redriven job is wanted now, and its old deadline would expire it again.
    retry: `UPDATE ${t} SET state = 'available', run_at = now(), attempt = 0, finished_at = NULL, cancel_requested_at = NULL,
        cancel_reason = NULL, lease_token = NULL, lease_expires_at = NULL, expires_at = NULL
      WHERE id = $1 AND state = ANY($2::text[]) RETURNING ${JOB_SELECT}, pg_notify(${lit(wakeChannel)}, queue) AS _notified`,
    delete: `DELETE FROM ${t} WHERE id = $1 AND state = ANY($2::text[])`,
    // SKIP LOCKED again: two rescuers (one per worker process) split the expired rows instead of
    // rescuing the same job twice.
    rescue: `UPDATE ${t} SET
        state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled' WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END,
        run_at = now(),
        finished_at = CASE WHEN cancel_requested_at IS NOT NULL OR attempt >= max_attempts THEN now() ELSE NULL END,
        errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'name', 'OffloadError',
          'code', 'OFFLOAD_LEASE_EXPIRED', 'message', 'the lease expired: the worker ' || COALESCE(worker_id, '?') || ' stopped heartbeating')),
        lease_token = NULL, lease_expires_at = NULL
      WHERE id IN (SELECT id FROM ${t} WHERE state = 'running' AND lease_expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, state`,
    prune: `DELETE FROM ${t} WHERE id IN (
        SELECT id FROM ${t} WHERE (state = 'completed' AND finished_at < now() - $1 * interval '1 millisecond')
          OR (state = 'cancelled' AND finished_at < now() - $2 * interval '1 millisecond')
          OR (state = 'discarded' AND finished_at < now() - $3 * interval '1 millisecond')
        LIMIT $4 FOR UPDATE SKIP LOCKED)`,
    // Counts kept by triggers (migration 5): the folded counts plus the deltas not folded yet,
    // read in one snapshot, so a fold running meanwhile neither hides nor doubles a change.
    counts: `SELECT queue, state, sum(n)::int AS count FROM (
        SELECT queue, state, n FROM ${counts} UNION ALL SELECT queue, state, n FROM ${deltas}) AS c
      GROUP BY queue, state HAVING sum(n) <> 0`,
    // Moves the deltas into job_counts. One fold at a time (the try-lock; a reader that misses it
    // sums the deltas instead): two folds upserting the same rows in different orders could deadlock.
    // A fold lost in a crash is lost whole (one statement), so it commits without its WAL flush.
    countsFold: `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
      mine AS (SELECT pg_try_advisory_xact_lock(hashtext('offload_counts:' || ${lit(schema)})) AS held FROM relaxed),
      moved AS (DELETE FROM ${deltas} WHERE (SELECT held FROM mine) RETURNING queue, state, n)
      INSERT INTO ${counts} AS k (queue, state, n) SELECT queue, state, sum(n) FROM moved GROUP BY queue, state
      ON CONFLICT (queue, state) DO UPDATE SET n = k.n + excluded.n`,
    // SKIP LOCKED: a job a claimer holds right now is being started (or passed over) by it.
    expire: `UPDATE ${t} SET state = 'cancelled', cancel_reason = 'expired', finished_at = now()
      WHERE id IN (SELECT id FROM ${t} WHERE expires_at IS NOT NULL AND expires_at <= now() AND state = ANY($1::text[])
        LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${JOB_SELECT}`,
    finishedRecently: `SELECT queue, count(*)::int AS count FROM ${t}
      WHERE state IN ('completed','cancelled','discarded') AND finished_at > now() - $1 * interval '1 millisecond' GROUP BY queue`,
    queuePause: `INSERT INTO ${queues} (name, paused_at) VALUES ($1, now())
      ON CONFLICT (name) DO UPDATE SET paused_at = COALESCE(${queues}.paused_at, excluded.paused_at) RETURNING name, paused_at`,
    // A resume is a wake-up: jobs may have piled up while the queue was paused.
    queueResume: `INSERT INTO ${queues} (name, paused_at) VALUES ($1, NULL)
      ON CONFLICT (name) DO UPDATE SET paused_at = NULL RETURNING name, paused_at, pg_notify(${lit(wakeChannel)}, name) AS _notified`,
    queueList: `SELECT name, paused_at FROM ${queues} ORDER BY name`,
    testLease: `UPDATE ${t} SET lease_expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1 AND state = 'running'`,
    testAge: `UPDATE ${t} SET created_at = created_at - $2 * interval '1 millisecond', run_at = run_at - $2 * interval '1 millisecond',
        finished_at = finished_at - $2 * interval '1 millisecond', attempted_at = attempted_at - $2 * interval '1 millisecond',
        expires_at = expires_at - $2 * interval '1 millisecond' WHERE id = $1`,
  };
}
