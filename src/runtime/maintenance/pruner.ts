/**
 * The pruner deletes final jobs past their retention, in batches so that no single statement
 * holds locks for long.
 */
import type { Driver } from '../../storage/driver.ts';
import type { TypedEvents } from '../../observability/events.ts';

export interface Retention {
  completedMs: number;
  cancelledMs: number;
  discardedMs: number;
}

export class Pruner {
  constructor(
    private readonly driver: Driver,
    private readonly retention: Retention,
    private readonly events: TypedEvents,
    private readonly batch = 5000,
  ) {}

  /** Prunes everything due now; resolves with the number of jobs deleted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.driver.jobPrune({ ...this.retention, limit: this.batch });
      total += n;
      if (n < this.batch) break;
    }
    if (total > 0) this.events.emit('jobs:pruned', { count: total });
    return total;
  }
}
