/**
 * What the store thread does with the requests it drained at once (see ./thread.ts): group commit.
 * Consecutive writes run in one transaction, each request inside it as a savepoint, so a burst (a
 * batch of completions and the claim that follows it, say) costs one commit and one fsync instead
 * of one each: with synchronous=FULL a commit is ~0.5 ms here, a third of the store thread's time
 * at full speed before this. Answers are sent only after the commit, so nothing is acknowledged
 * that could still roll back. Reads break a group and run on their own (they need no write lock,
 * and a long read must not hold it), which also keeps requests in arrival order.
 */
import { serializeError } from '../../errors.ts';
import type { SqliteEngine } from './engine.ts';
import type { EngineMethod, StoreRequest, StoreResponse } from './protocol.ts';

const READS: ReadonlySet<string> = new Set<EngineMethod>(['jobGet', 'jobList', 'jobCounts', 'jobCancelRequested', 'jobFinishedRecently', 'queueList', 'workerList', 'jobCount']);

/** Writes whose commit may skip its fsync (see SqliteEngine.relaxed): losing one only repeats work. */
const RELAXED: ReadonlySet<string> = new Set<EngineMethod>(['jobClaim']);

/** Runs `batch` in arrival order and hands each answer to `send` as soon as it is final. */
export function runBatch(e: SqliteEngine, batch: readonly StoreRequest[], send: (res: StoreResponse) => void): void {
  let writes: StoreRequest[] = [];
  const flush = () => {
    for (const res of runWrites(e, writes)) send(res);
    writes = [];
  };
  for (const req of batch) {
    if (req.method === 'close' || READS.has(req.method)) {
      flush();
      send(handle(e, req));
    } else {
      writes.push(req);
    }
  }
  flush();
}

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

function runWrites(e: SqliteEngine, writes: StoreRequest[]): StoreResponse[] {
  if (writes.length === 0) return [];
  // A group with any other write commits with its fsync, the claims in it included.
  if (writes.every((w) => RELAXED.has(w.method))) return e.relaxed(() => runGroup(e, writes));
  return runGroup(e, writes);
}

/** Thrown inside a group whose transaction SQLite has rolled back: the group is over. */
class GroupLost extends Error {}

function runGroup(e: SqliteEngine, writes: StoreRequest[]): StoreResponse[] {
  if (writes.length === 1) return [handle(e, writes[0]!)];
  try {
    return e.group(() =>
      writes.map((req) => {
        const res = handle(e, req);
        // Most failures roll back the request's savepoint only. Some (a full disk, an I/O error)
        // make SQLite roll back the whole transaction: the requests before this one are undone,
        // and the ones after it would each commit on their own, outside the group, and then run
        // a second time below. Stop here instead, with nothing committed.
        if (!e.inTransaction) throw new GroupLost();
        return res;
      }),
    );
  } catch {
    // The group failed as a whole (its commit, or a request that took the transaction with it)
    // and nothing of it is in the file: run the requests one by one so that each gets its own answer.
    return writes.map((req) => handle(e, req));
  }
}
