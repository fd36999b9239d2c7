/**
 * Entry point of the SQLite store thread. better-sqlite3 is synchronous: a query that waits on
 * the disk or on another process's write lock would block the event loop it runs on, so it runs
 * here and the caller's loop only exchanges messages.
 *
 * Group commit: when a message arrives, every request already queued behind it is drained
 * (receiveMessageOnPort) and consecutive writes run in one transaction, so a burst (a batch of
 * completions and the claim that follows it, say) costs one commit and one fsync instead of one
 * each: with synchronous=FULL a commit is ~0.5 ms here, a third of the store thread's time at
 * full speed before this. Answers are sent only after the commit, so nothing is acknowledged that
 * could still roll back. Reads break a group and run on their own (they need no write lock, and a
 * long read must not hold it), which also keeps requests in arrival order.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../errors.ts';
import { SqliteEngine } from './engine.ts';
import type { EngineMethod, StoreRequest, StoreResponse, StoreThreadData } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('offload: the SQLite store thread must be started as a worker_thread');
const { options } = workerData as StoreThreadData;

let engine: SqliteEngine | null = null;
let openError: unknown = null;

/**
 * Opens the database if it is not open yet. A failed open (the file's folder missing, a lock
 * that outlasted the busy timeout) fails the requests at hand and is tried again with the next
 * ones, so one bad moment does not leave the store unusable for the life of the process.
 */
function open(): SqliteEngine | null {
  if (engine !== null) return engine;
  try {
    engine = new SqliteEngine(options);
    openError = null;
  } catch (err) {
    openError = err;
  }
  return engine;
}
open();

const READS: ReadonlySet<string> = new Set<EngineMethod>(['jobGet', 'jobList', 'jobCounts', 'jobCancelRequested', 'jobFinishedRecently', 'queueList', 'workerList', 'jobCount']);

function handle(e: SqliteEngine, req: StoreRequest): StoreResponse {
  try {
    if (req.method === 'close') {
      e.close();
      return { id: req.id, ok: true, value: null };
    }
    const fn = e[req.method] as (p: unknown) => unknown;
    return { id: req.id, ok: true, value: fn.call(e, req.params) };
  } catch (err) {
    return { id: req.id, ok: false, error: serializeError(err) };
  }
}

/** Writes whose commit may skip its fsync (see SqliteEngine.relaxed): losing one only repeats work. */
const RELAXED: ReadonlySet<string> = new Set<EngineMethod>(['jobClaim']);

function runWrites(e: SqliteEngine, writes: StoreRequest[]): StoreResponse[] {
  if (writes.length === 0) return [];
  // A group with any other write commits with its fsync, the claims in it included.
  if (writes.every((w) => RELAXED.has(w.method))) return e.relaxed(() => runGroup(e, writes));
  return runGroup(e, writes);
}

function runGroup(e: SqliteEngine, writes: StoreRequest[]): StoreResponse[] {
  if (writes.length === 1) return [handle(e, writes[0]!)];
  try {
    return e.group(() => writes.map((req) => handle(e, req)));
  } catch {
    // The group's commit failed (disk full, say) and rolled every request back: run them one by
    // one so that each gets its own answer.
    return writes.map((req) => handle(e, req));
  }
}

port.on('message', (first: StoreRequest) => {
  const batch = [first];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) batch.push(m.message as StoreRequest);
  const e = open();
  if (e === null) {
    for (const req of batch) port.postMessage({ id: req.id, ok: false, error: serializeError(openError) } satisfies StoreResponse);
    return;
  }
  let writes: StoreRequest[] = [];
  const flush = () => {
    for (const res of runWrites(e, writes)) port.postMessage(res);
    writes = [];
  };
  for (const req of batch) {
    if (req.method === 'close' || READS.has(req.method)) {
      flush();
      port.postMessage(handle(e, req));
    } else {
      writes.push(req);
    }
  }
  flush();
});
