/**
 * The life of a suite that serves HTTP on a test store, shared by the HTTP and dashboard
 * harnesses: declared once per store, as `<title>: sqlite` and `<title>: postgres`; the clients and
 * servers it makes are closed after the suite, then the store is dropped.
 */
import { after, describe } from 'node:test';
import { createOffload, type Offload, type OffloadOptions } from '../src/index.ts';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../src/http/index.ts';
import { silent } from './e2e/helpers.ts';
import type { TestStore } from './stores.ts';

export interface Served {
  offload: Offload;
  server: HttpServer;
  inject: HttpServer['fastify']['inject'];
}

export interface ServerSuiteParts {
  store: TestStore;
  /** A client on the suite's store, as another process would have one. */
  client: (options?: Omit<OffloadOptions, 'store'>) => Offload;
  /** A new client and a server on it (createHttpServer), both closed after the suite. */
  serve: (offload: Omit<OffloadOptions, 'store'> | undefined, http: Omit<HttpServerOptions, 'offload'>) => Served;
  /** A name not used before in this suite (tasks, queues), so tests sharing a store do not meet. */
  unique: (base: string) => string;
}

/** `loop`: the loop option every client of the suite gets unless a test passes its own. */
export function serverSuite(
  stores: ReadonlyArray<() => TestStore>,
  title: string,
  loop: NonNullable<OffloadOptions['loop']>,
  declare: (parts: ServerSuiteParts) => void,
): void {
  for (const make of stores) {
    const store = make();
    describe(`${title}: ${store.name}`, () => {
      const servers: HttpServer[] = [];
      const clients: Offload[] = [];
      let n = 0;
      after(async () => {
        await Promise.all(servers.map((s) => s.close()));
        await Promise.all(clients.map((c) => c.close({ graceMs: 0 })));
        await store.dispose();
      });
      const client = (options: Omit<OffloadOptions, 'store'> = {}) => {
        const c = createOffload({ store: store.open(), logger: silent, loop, ...options });
        clients.push(c);
        return c;
      };
      declare({
        store,
        client,
        unique: (base) => `${base}.${++n}`,
        serve(offloadOptions, http) {
          const offload = client(offloadOptions);
          const server = createHttpServer({ offload, ...http });
          servers.push(server);
          return { offload, server, inject: server.fastify.inject.bind(server.fastify) };
        },
      });
    });
  }
}
