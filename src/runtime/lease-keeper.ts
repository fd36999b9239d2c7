/**
 * Keeps the leases of this worker's running jobs alive and tells their handlers when to stop.
 *
 * Two loops, both skipping a tick while their previous call is still in flight:
 * - heartbeat (every `heartbeatMs`, a third of the lease): one batched write extends every lease
 *   still held. A lease missing from the answer was lost (expired and rescued, or reclaimed):
 *   its handler is aborted with OFFLOAD_LEASE_LOST and its outcome will be refused by the fence.
 * - cancel check (every `cancelCheckMs`, default 500): one read finds cancel requests for our
 *   jobs, so a cancel made from any process aborts the handler within about half a second.
 *   PostgreSQL also pushes cancel requests by NOTIFY; the read is the fallback that is always right.
 */
import { OffloadError } from '../errors.ts';
import type { Driver } from '../storage/driver.ts';
import type { TypedEvents } from '../observability/events.ts';

interface Held {
  id: string;
  abort: (reason: OffloadError) => void;
}

export interface LeaseKeeperOptions {
  leaseMs: number;
  heartbeatMs: number;
  cancelCheckMs: number;
}

export class LeaseKeeper {
  readonly #driver: Driver;
  readonly #o: LeaseKeeperOptions;
  readonly #events: TypedEvents;
  /**
   * By lease token, not job id: after a lost lease this process may claim the same job again
   * while the first attempt's handler is still running, and both must stay reachable (the old one
   * to be aborted, the new one to be kept alive).
   */
  readonly #held = new Map<string, Held>();
  #timers: NodeJS.Timeout[] = [];
  #beating = false;
  #checking = false;
  #unlisten: (() => Promise<void>) | null = null;

  constructor(driver: Driver, options: LeaseKeeperOptions, events: TypedEvents) {
    this.#driver = driver;
    this.#o = options;
    this.#events = events;
  }

  get size(): number {
    return this.#held.size;
  }

  add(id: string, token: string, abort: (reason: OffloadError) => void): void {
    this.#held.set(token, { id, abort });
  }

  remove(token: string): void {
    this.#held.delete(token);
  }

  async start(): Promise<void> {
    if (this.#timers.length > 0) return;
    this.#timers = [
      setInterval(() => void this.heartbeatOnce(), this.#o.heartbeatMs).unref(),
      setInterval(() => void this.cancelCheckOnce(), this.#o.cancelCheckMs).unref(),
    ];
    if (this.#driver.onCancelRequested !== undefined) {
      try {
        this.#unlisten = await this.#driver.onCancelRequested((id) => {
          if ([...this.#held.values()].some((h) => h.id === id)) void this.cancelCheckOnce();
        });
      } catch (err) {
        // The periodic check alone finds every request (within cancelCheckMs); LISTEN only makes it sooner.
        this.#events.emit('error', { error: err as Error, component: 'lease-keeper (listen)' });
      }
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const un = this.#unlisten;
    this.#unlisten = null;
    if (un !== null) await un().catch(() => {});
  }

  /** One heartbeat round. Never rejects: failures are reported as `error` events. */
  async heartbeatOnce(): Promise<void> {
    if (this.#beating || this.#held.size === 0) return;
    this.#beating = true;
    const sent = [...this.#held].map(([token, h]) => ({ id: h.id, token }));
    try {
      const held = await this.#driver.jobHeartbeatMany({ leases: sent, leaseMs: this.#o.leaseMs });
      const kept = new Map(held.map((h) => [h.token, h]));
      for (const s of sent) {
        const h = this.#held.get(s.token);
        // Finished while the heartbeat was in flight: not ours to judge.
        if (h === undefined) continue;
        const k = kept.get(s.token);
        if (k === undefined) h.abort(new OffloadError('OFFLOAD_LEASE_LOST', `job ${s.id}: the lease was lost (expired or taken over)`));
        else if (k.cancelRequested) h.abort(cancelled(s.id, k.cancelReason));
      }
    } catch (err) {
      this.#events.emit('error', { error: err as Error, component: 'lease-keeper' });
    } finally {
      this.#beating = false;
    }
  }

  /** One cancel-request check. Never rejects. */
  async cancelCheckOnce(): Promise<void> {
    if (this.#checking || this.#held.size === 0) return;
    this.#checking = true;
    try {
      const requests = await this.#driver.jobCancelRequested({ ids: [...new Set([...this.#held.values()].map((h) => h.id))] });
      const reasons = new Map(requests.map((r) => [r.id, r.reason]));
      for (const h of this.#held.values()) if (reasons.has(h.id)) h.abort(cancelled(h.id, reasons.get(h.id) ?? null));
    } catch (err) {
      this.#events.emit('error', { error: err as Error, component: 'lease-keeper' });
    } finally {
      this.#checking = false;
    }
  }
}

/**
 * The abort reason of a job whose cancellation was requested. It carries the request's reason
 * (`details.reason`, see cancelReasonOf), so that the job:cancelled event tells what the store keeps.
 */
export function cancelled(id: string, reason: string | null): OffloadError {
  return new OffloadError('OFFLOAD_CANCELLED', reason === null ? `job ${id} was cancelled` : `job ${id} was cancelled: ${reason}`, { details: { reason } });
}

/** The request's reason carried by an OFFLOAD_CANCELLED abort (see cancelled), or null. */
export function cancelReasonOf(err: OffloadError): string | null {
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : null;
}
