/**
 * Numbered migrations of the PostgreSQL store. Append only. `:schema` is replaced by the quoted
 * schema name before execution.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'jobs',
    sql: `
CREATE TABLE :schema.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task text NOT NULL,
  queue text NOT NULL,
  state text NOT NULL CHECK (state IN ('scheduled','available','running','retryable','completed','cancelled','discarded')),
  payload jsonb NOT NULL,
  priority smallint NOT NULL DEFAULT 0,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  timeout_ms integer,
  run_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempted_at timestamptz,
  finished_at timestamptz,
  lease_token text,
  lease_expires_at timestamptz,
  worker_id text,
  idempotency_key text,
  fingerprint text,
  progress jsonb,
  result jsonb,
  errors jsonb NOT NULL DEFAULT '[]',
  cancel_requested_at timestamptz,
  cancel_reason text
);
-- The idempotency guarantee is this index, not a lock (see the insert query).
CREATE UNIQUE INDEX jobs_idempotency ON :schema.jobs (task, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Claim order. Partial: finished rows, the bulk of a busy table, are not in it, so the claim scan
-- stays small however many completed jobs are retained.
CREATE INDEX jobs_claim ON :schema.jobs (queue, priority, run_at, id) WHERE state IN ('scheduled','available','retryable');
CREATE INDEX jobs_lease ON :schema.jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_state ON :schema.jobs (state, id);
CREATE INDEX jobs_finished ON :schema.jobs (state, finished_at) WHERE finished_at IS NOT NULL;
-- Most updates touch only non-indexed columns; free space lets them stay HOT (no index churn).
ALTER TABLE :schema.jobs SET (fillfactor = 80);
`,
  },
  {
    version: 2,
    name: 'deadlines, trace context, queues',
    sql: `
ALTER TABLE :schema.jobs ADD COLUMN expires_at timestamptz, ADD COLUMN trace_context jsonb;
-- The expirer's scan: only waiting jobs that have a deadline.
CREATE INDEX jobs_expiry ON :schema.jobs (expires_at) WHERE expires_at IS NOT NULL AND state IN ('scheduled','available','retryable');
-- Queues exist implicitly through their jobs; a row here only records a pause.
CREATE TABLE :schema.queues (name text PRIMARY KEY, paused_at timestamptz);
`,
  },
  {
    version: 3,
    name: 'idempotency key search',
    sql: `
-- Search by idempotency key across tasks (the unique index leads with task, so it cannot serve a
-- search without one), newest first: a backward range scan of (key, id), cursor pages included.
CREATE INDEX jobs_idempotency_search ON :schema.jobs (idempotency_key, id) WHERE idempotency_key IS NOT NULL;
`,
  },
  {
    version: 4,
    name: 'worker registry',
    sql: `
-- One row per worker process, written by that process: upserted on every registry heartbeat,
-- deleted on graceful stop, pruned once silent past the retention.
CREATE TABLE :schema.workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  version text NOT NULL,
  queues text[] NOT NULL,
  concurrency integer NOT NULL,
  running integer NOT NULL,
  heartbeat_ms integer NOT NULL,
  threads jsonb,
  loop_delay_p99_ms double precision,
  loop_utilization double precision,
  loop_overloaded boolean,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
-- The pruner's scan.
CREATE INDEX workers_heartbeat ON :schema.workers (heartbeat_at);
`,
  },
  {
    version: 5,
    name: 'job counts',
    sql: `
-- Jobs by queue and state without a GROUP BY over the whole table (queues.list() took ~0.2 s at a
-- million retained jobs, read every second by an open dashboard). Statement triggers append each
-- statement's net changes to job_count_deltas; reads sum job_counts and the deltas, and fold the
-- deltas into job_counts now and then (jobCounts, jobPrune).
-- Why deltas rather than counters updated in place: a counter row is locked until its writer
-- commits, so every claim and completion of every worker would queue on the (queue, 'running')
-- row behind the previous one's commit. Appending takes no lock that another writer waits on.
-- Triggers rather than the store's own statements: every write is counted, whatever path makes it.
CREATE TABLE :schema.job_counts (queue text NOT NULL, state text NOT NULL, n bigint NOT NULL, PRIMARY KEY (queue, state));
CREATE TABLE :schema.job_count_deltas (queue text NOT NULL, state text NOT NULL, n bigint NOT NULL);
CREATE FUNCTION :schema.job_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO :schema.job_count_deltas (queue, state, n) SELECT queue, state, count(*) FROM new_rows GROUP BY queue, state;
  RETURN NULL;
END $$;
CREATE FUNCTION :schema.job_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO :schema.job_count_deltas (queue, state, n)
    SELECT queue, state, sum(n) FROM (
      SELECT queue, state, -1 AS n FROM old_rows UNION ALL SELECT queue, state, 1 FROM new_rows) AS c
    GROUP BY queue, state HAVING sum(n) <> 0;
  RETURN NULL;
END $$;
CREATE FUNCTION :schema.job_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO :schema.job_count_deltas (queue, state, n) SELECT queue, state, -count(*) FROM old_rows GROUP BY queue, state;
  RETURN NULL;
END $$;
-- The triggers come before the first count: CREATE TRIGGER locks out writers until this
-- migration commits, so no write falls between the count and the triggers.
CREATE TRIGGER jobs_count_insert AFTER INSERT ON :schema.jobs REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.job_counts_inserted();
CREATE TRIGGER jobs_count_update AFTER UPDATE ON :schema.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.job_counts_updated();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON :schema.jobs REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.job_counts_deleted();
-- TRUNCATE fires no row or statement trigger of the others: it empties the counts with the table.
CREATE FUNCTION :schema.job_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM :schema.job_count_deltas;
  DELETE FROM :schema.job_counts;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_count_truncate AFTER TRUNCATE ON :schema.jobs FOR EACH STATEMENT EXECUTE FUNCTION :schema.job_counts_truncated();
INSERT INTO :schema.job_counts (queue, state, n) SELECT queue, state, count(*) FROM :schema.jobs GROUP BY queue, state;
`,
  },
  {
    version: 6,
    name: 'payloads, progress and results as json',
    sql: `
-- The store keeps these values and hands them back; it never looks inside them. json checks the
-- text and keeps it; jsonb builds a tree of it, which for a big value of many small elements asks
-- for more memory than PostgreSQL allows at once: a 100 MiB result of fifty million numbers
-- failed with "invalid memory alloc request size 1073741824", and with it every other completion
-- of its batch. json also costs less to write and to read back (no tree to build, none to print).
-- The change rewrites the table once, holding its lock meanwhile.
ALTER TABLE :schema.jobs ALTER COLUMN payload TYPE json USING payload::json,
  ALTER COLUMN progress TYPE json USING progress::json,
  ALTER COLUMN result TYPE json USING result::json;
`,
  },
];
