/**
 * Harness of the HTTP suites: a client and a server per test on the suite's store, torn down
 * together; requests through Fastify's inject (real routing, hooks and parsers, no socket), or
 * over a real socket where the socket is the point (event streams, oversized chunked bodies).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Offload, OffloadOptions } from '../../src/index.ts';
import type { HttpServerOptions } from '../../src/http/index.ts';
import { serverSuite, type Served } from '../server-suite.ts';
import { STORES, type TestStore } from '../stores.ts';

export type Api = Served;

export interface ApiOptions {
  offload?: Omit<OffloadOptions, 'store'>;
  http?: Omit<HttpServerOptions, 'offload'>;
  /** Receives the server's log lines (pino JSON). */
  logTo?: Writable;
}

export interface SuiteContext {
  store: TestStore;
  /** A new client and server on the suite's store, closed after the suite. */
  api(options?: ApiOptions): Api;
  /** A second client on the same store, as another process would have. */
  client(options?: Omit<OffloadOptions, 'store'>): Offload;
  /** A name not used before in this suite (tasks, queues), so tests sharing a store do not meet. */
  unique(base: string): string;
}

/** Declares the tests of `declare` once per store, as `<title>: sqlite` and `<title>: postgres`. */
export function httpSuite(title: string, declare: (s: SuiteContext) => void): void {
  // The loop monitor is off unless a test turns it on: on a busy machine (suites run in parallel
  // on 2 cores) it would shed requests of tests that are not about shedding.
  serverSuite(STORES, title, false, ({ store, client, unique, serve }) =>
    declare({
      store,
      client,
      unique,
      api(options = {}) {
        const logger = options.logTo === undefined ? false : pino({ level: 'debug' }, options.logTo);
        return serve(options.offload, { logger, ...options.http });
      },
    }),
  );
}

/** The JSON body of a response, typed by the caller. */
// oxlint-disable-next-line typescript/no-unnecessary-type-parameters -- the caller names the JSON shape it expects; parsing cannot check it
export function body<T = Record<string, unknown>>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

/** A problem body's fields the suites assert on. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  instance: string;
  errors?: Array<{ in: string; pointer: string; message: string }>;
  [extension: string]: unknown;
}

/** A writable that keeps what pino writes, one JSON object per line; `line(msg)` waits for one. */
export function logSink(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string; line: (msg: string) => Promise<Record<string, unknown>> } {
  let text = '';
  const waiters: Array<{ msg: string; resolve: (l: Record<string, unknown>) => void }> = [];
  const lines = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const found = lines().find((l) => l['msg'] === waiters[i]!.msg);
      if (found !== undefined) waiters.splice(i, 1)[0]!.resolve(found);
    }
  };
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      settle();
      done();
    },
  });
  return {
    stream,
    text: () => text,
    lines,
    line: (msg) =>
      new Promise((resolve) => {
        waiters.push({ msg, resolve });
        settle();
      }),
  };
}
