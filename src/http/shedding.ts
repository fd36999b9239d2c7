/**
 * Load shedding at the door: while this process's event loop is overloaded (delay p99 over the
 * client's `loop.maxDelayMs`, see `offload.loop()`), requests get 503 with Retry-After in the
 * onRequest hook, before their body is read or parsed. Accepting work the process cannot serve
 * in time only makes every response late; refusing a few keeps the rest fast, and says so.
 *
 * `offload.loop()` is synchronous and reads numbers the loop monitor already holds, so the check
 * costs nothing measurable per request. Liveness, readiness and the OpenAPI document are never
 * shed: a probe must see the process alive (readiness reports the overload itself).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Offload } from '../index.ts';
import { sendProblem } from './problem.ts';

/** The loop monitor reports over a one-second window: that is how soon it can change its mind. */
const RETRY_AFTER_MS = 1000;

export function loadShedder(offload: Offload, exempt: ReadonlySet<string>): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  // Measuring starts with the first call: start it now, not at the first request.
  offload.loop();
  return async (request, reply) => {
    if (exempt.has(request.routeOptions.url ?? '')) return;
    const loop = offload.loop();
    if (!loop.overloaded) return;
    // Sent from here, not thrown: no Error (and no stack trace) per shed request.
    await sendProblem(reply, {
      status: 503,
      code: 'OFFLOAD_HTTP_LOOP_OVERLOADED',
      detail: `the server's event loop is overloaded (delay p99 ${loop.delayP99Ms} ms); retry later`,
      extensions: { retryAfterMs: RETRY_AFTER_MS, loop: { delayP99Ms: loop.delayP99Ms, utilization: loop.utilization } },
      headers: { 'retry-after': String(RETRY_AFTER_MS / 1000) },
    });
  };
}
