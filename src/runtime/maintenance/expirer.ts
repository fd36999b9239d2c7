/**
 * The expirer ends waiting jobs whose start deadline (`expiresAt`) has passed: `cancelled` with
 * reason `expired`, so stale work is shed instead of done late. Claims already pass such jobs
 * over (see the drivers' claim queries), so a job is never run late even between rounds; this
 * round only makes the outcome visible and frees the claim index of dead rows.
 */
import { sourcesOf } from '../../core/state-machine.ts';
import type { TypedEvents } from '../../observability/events.ts';
import type { Driver } from '../../storage/driver.ts';
import type { Job } from '../../types.ts';

const FROM = sourcesOf('cancelled', 'expire');

export class Expirer {
  constructor(
    private readonly driver: Driver,
    private readonly events: TypedEvents,
    private readonly batch = 1000,
  ) {}

  /** Expires every waiting job past its deadline now; resolves with them. */
  async runOnce(): Promise<Job[]> {
    const all: Job[] = [];
    for (;;) {
      const jobs = await this.driver.jobExpire({ from: FROM, limit: this.batch });
      for (const job of jobs) this.events.emit('job:expired', { job });
      all.push(...jobs);
      if (jobs.length < this.batch) return all;
    }
  }
}
