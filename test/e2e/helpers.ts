/** Helpers of the runtime suite: clients on a test store, and waiting on events (never on sleeps). */
import { after, before } from 'node:test';
import { createOffload, type Offload, type OffloadEventName, type OffloadEvents, type OffloadOptions } from '../../src/index.ts';
import type { Driver } from '../../src/storage/driver.ts';
import type { TestStore } from '../stores.ts';

export function client(store: TestStore, options: Omit<OffloadOptions, 'store'> = {}): Offload {
  return createOffload({ store: store.open(), logger: silent, ...options });
}

/**
 * The store's driver with some methods replaced (each override gets the real driver to call on);
 * every other method passes through. For a store that fails, or waits, on demand.
 */
export function overriding(d: Driver, overrides: { [K in keyof Driver]?: (real: Driver) => Driver[K] }): Driver {
  return new Proxy(d, {
    get(target, key) {
      const make = overrides[key as keyof Driver];
      if (make !== undefined) return make(target);
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Resolves with the first `event` whose payload satisfies `match`. */
export function nextEvent<E extends OffloadEventName>(o: Offload, event: E, match: (p: OffloadEvents[E]) => boolean = () => true): Promise<OffloadEvents[E]> {
  return new Promise((resolve) => {
    const off = o.on(event, (p) => {
      if (!match(p)) return;
      off();
      resolve(p);
    });
  });
}

/** A promise with its resolve function, for handlers that report to the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const noop = () => {};
export const silent = { debug: noop, info: noop, warn: noop, error: noop, child: () => silent };

/**
 * The life of a suite's store, called inside its `describe`: migrates before the first test;
 * after the last, closes every client passed to `use` and drops the store. `name` makes task and
 * queue names unique within the suite.
 */
export function storeLifecycle(store: TestStore): { use: (o: Offload) => Offload; name: (base: string) => string } {
  const open: Offload[] = [];
  const use = (o: Offload) => (open.push(o), o);
  let names = 0;
  before(async () => {
    await use(client(store)).migrate();
  });
  after(async () => {
    await Promise.all(open.map((o) => o.close({ graceMs: 0 })));
    await store.dispose();
  });
  return { use, name: (base) => `${base}.${++names}` };
}
