/**
 * Entry point of the SQLite store thread. better-sqlite3 is synchronous: a query that waits on
 * the disk or on another process's write lock would block the event loop it runs on, so it runs
 * here and the caller's loop only exchanges messages.
 *
 * When a message arrives, every request already queued behind it is drained
 * (receiveMessageOnPort) and the batch runs with group commit (./store-batch.ts).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../errors.ts';
import { SqliteEngine } from './engine.ts';
import type { StoreRequest, StoreResponse, StoreThreadData } from './protocol.ts';
import { runBatch } from './store-batch.ts';

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

port.on('message', (first: StoreRequest) => {
  const batch = [first];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) batch.push(m.message as StoreRequest);
  const e = open();
  if (e === null) {
    for (const req of batch) port.postMessage({ id: req.id, ok: false, error: serializeError(openError) } satisfies StoreResponse);
    return;
  }
  runBatch(e, batch, (res) => port.postMessage(res));
});
