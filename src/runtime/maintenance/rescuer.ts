/**
 * The rescuer returns jobs whose lease expired (their worker died or hung) to `retryable`, or to
 * `discarded` when their attempts are used up, or to `cancelled` when a cancel was requested.
 * Recovery time after a crash is at most leaseMs + intervalMs (defaults 15 s + 5 s = 20 s).
 */
import type { Driver } from '../../storage/driver.ts';
import type { TypedEvents } from '../../observability/events.ts';

export class Rescuer {
  constructor(
    private readonly driver: Driver,
    private readonly events: TypedEvents,
    private readonly batch = 1000,
  ) {}

  /** Rescues every expired lease now; resolves with what it did. */
  async runOnce(): Promise<{ retried: string[]; discarded: string[]; cancelled: string[] }> {
    const total = { retried: [] as string[], discarded: [] as string[], cancelled: [] as string[] };
    for (;;) {
      const r = await this.driver.jobRescueExpired({ limit: this.batch });
      total.retried.push(...r.retried);
      total.discarded.push(...r.discarded);
      total.cancelled.push(...r.cancelled);
      if (r.retried.length + r.discarded.length + r.cancelled.length < this.batch) break;
    }
    if (total.retried.length + total.discarded.length + total.cancelled.length > 0) this.events.emit('jobs:rescued', total);
    return total;
  }
}
