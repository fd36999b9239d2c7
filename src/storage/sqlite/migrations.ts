/**
 * Numbered migrations of the SQLite store. Append only: a shipped migration never changes.
 * Times are integers of milliseconds since the epoch (the host clock is the database clock).
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'jobs',
    sql: `
CREATE TABLE offload_jobs (
  -- AUTOINCREMENT: ids are never reused after pruning, so a job id stays unambiguous.
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task TEXT NOT NULL,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled','available','running','retryable','completed','cancelled','discarded')),
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  timeout_ms INTEGER,
  run_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  attempted_at INTEGER,
  finished_at INTEGER,
  lease_token TEXT,
  lease_expires_at INTEGER,
  worker_id TEXT,
  idempotency_key TEXT,
  fingerprint TEXT,
  progress TEXT,
  result TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  cancel_requested_at INTEGER,
  cancel_reason TEXT
);
-- The idempotency guarantee is this index, not a lock: a second insert with the key fails the
-- uniqueness check inside the database, whatever process it comes from.
CREATE UNIQUE INDEX offload_jobs_idempotency ON offload_jobs (task, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Claim order. Partial: finished rows (the bulk of a busy table) are not in it.
CREATE INDEX offload_jobs_claim ON offload_jobs (queue, priority, run_at, id) WHERE state IN ('scheduled','available','retryable');
CREATE INDEX offload_jobs_lease ON offload_jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX offload_jobs_state ON offload_jobs (state, id);
CREATE INDEX offload_jobs_finished ON offload_jobs (state, finished_at) WHERE finished_at IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'deadlines, trace context, queues',
    sql: `
ALTER TABLE offload_jobs ADD COLUMN expires_at INTEGER;
ALTER TABLE offload_jobs ADD COLUMN trace_context TEXT;
-- The expirer's scan: only waiting jobs that have a deadline.
CREATE INDEX offload_jobs_expiry ON offload_jobs (expires_at) WHERE expires_at IS NOT NULL AND state IN ('scheduled','available','retryable');
-- Queues exist implicitly through their jobs; a row here only records a pause.
CREATE TABLE offload_queues (name TEXT PRIMARY KEY, paused_at INTEGER) WITHOUT ROWID;
`,
  },
  {
    version: 3,
    name: 'idempotency key search',
    sql: `
-- Search by idempotency key across tasks (the unique index leads with task, so it cannot serve a
-- search without one), newest first: a backward range scan of (key, id), cursor pages included.
CREATE INDEX offload_jobs_idempotency_search ON offload_jobs (idempotency_key, id) WHERE idempotency_key IS NOT NULL;
`,
  },
  {
    version: 4,
    name: 'worker registry',
    sql: `
-- One row per worker process, written by that process: upserted on every registry heartbeat,
-- deleted on graceful stop, pruned once silent past the retention. queues and threads are JSON.
CREATE TABLE offload_workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  version TEXT NOT NULL,
  queues TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  running INTEGER NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  threads TEXT,
  loop_delay_p99_ms REAL,
  loop_utilization REAL,
  loop_overloaded INTEGER,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
-- The pruner's scan.
CREATE INDEX offload_workers_heartbeat ON offload_workers (heartbeat_at);
`,
  },
  {
    version: 5,
    name: 'job counts',
    sql: `
-- Jobs by queue and state, kept by triggers, so that counting them (queues.list(), the
-- dashboard, metrics) reads a few rows instead of the whole table: at a million retained jobs,
-- the GROUP BY of queues.list() held the store thread ~0.4 s per read. Triggers rather than the store's own
-- statements: every write is counted, whatever path makes it. A row whose count falls to 0 stays.
CREATE TABLE offload_job_counts (queue TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (queue, state)) WITHOUT ROWID;
INSERT INTO offload_job_counts (queue, state, n) SELECT queue, state, COUNT(*) FROM offload_jobs GROUP BY queue, state;
CREATE TRIGGER offload_jobs_count_insert AFTER INSERT ON offload_jobs BEGIN
  INSERT INTO offload_job_counts (queue, state, n) VALUES (new.queue, new.state, 1) ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER offload_jobs_count_update AFTER UPDATE OF state, queue ON offload_jobs
  WHEN old.state IS NOT new.state OR old.queue IS NOT new.queue BEGIN
  UPDATE offload_job_counts SET n = n - 1 WHERE queue = old.queue AND state = old.state;
  INSERT INTO offload_job_counts (queue, state, n) VALUES (new.queue, new.state, 1) ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER offload_jobs_count_delete AFTER DELETE ON offload_jobs BEGIN
  UPDATE offload_job_counts SET n = n - 1 WHERE queue = old.queue AND state = old.state;
END;
`,
  },
];
