/**
 * Runs a service's `runOnce()` every `intervalMs`, never two rounds at once. The timer is
 * unreferenced: maintenance alone does not keep a process alive.
 */
import type { TypedEvents } from '../../observability/events.ts';

export class Periodic {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    private readonly events: TypedEvents,
  ) {}

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => void this.tick(), this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One round now, unless one is running. Failures become `error` events. */
  async tick(): Promise<void> {
    if (this.#running !== null) return this.#running;
    this.#running = this.round()
      .catch((err: unknown) => this.events.emit('error', { error: err as Error, component: this.name }))
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }
}
