/**
 * Entry point of the SQLite store thread. better-sqlite3 is synchronous: a query that waits on
 * the disk or on another process's write lock would block the event loop it runs on, so it runs
 * here and the caller's loop only exchanges messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../errors.ts';
import { SqliteEngine } from './engine.ts';
import type { StoreRequest, StoreResponse, StoreThreadData } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('offload: the SQLite store thread must be started as a worker_thread');
const { options } = workerData as StoreThreadData;

let engine: SqliteEngine | null = null;
let openError: unknown = null;
try {
  engine = new SqliteEngine(options);
} catch (err) {
  openError = err;
}

port.on('message', (req: StoreRequest) => {
  let res: StoreResponse;
  try {
    if (engine === null) throw openError;
    if (req.method === 'close') {
      engine.close();
      res = { id: req.id, ok: true, value: null };
    } else {
      const fn = engine[req.method] as (p: unknown) => unknown;
      res = { id: req.id, ok: true, value: fn.call(engine, req.params) };
    }
  } catch (err) {
    res = { id: req.id, ok: false, error: serializeError(err) };
  }
  port.postMessage(res);
});
