/**
 * GET /dashboard/stats: Server-Sent Events of the dashboard's stats (stats-recorder.ts).
 *
 *   history          first: `StatsHistoryEvent`, the kept samples (15 min) and the latest picture.
 *   sample           every second: `StatsSampleEvent`.
 *   session-expired  the session ended while the page was open; the stream ends with it.
 *
 * The stream does not extend the session: an open page counts as use only when someone acts on it.
 */
import type { FastifyInstance } from 'fastify';
import { SseStream } from '../sse.ts';
import type { DashboardAccess } from './access.ts';
import type { StatsRecorder } from './stats-recorder.ts';

/** Enough for the history event (about 900 samples of 300 bytes) and a slow reader's backlog. */
const MAX_BUFFERED_BYTES = 4 << 20;
/** How long a new stream waits for a fresh read of the store before it starts with the last one. */
const FRESH_READ_WAIT_MS = 1000;

/** Resolves when `p` does or after `ms`, whichever comes first. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function statsRoutes(fastify: FastifyInstance, deps: { access: DashboardAccess; recorder: StatsRecorder; closing: AbortSignal; keepAliveMs: number }): void {
  const { access, recorder, closing } = deps;
  fastify.get('/dashboard/stats', { onRequest: access.require('read') }, async (request, reply) => {
    const session = access.sessionOf(request);
    // The store was last read up to a few seconds ago while no page listened: read it now, so
    // the page starts from the present; but a store that hangs does not hold the page back.
    await within(recorder.refresh(), FRESH_READ_WAIT_MS);
    const sse = new SseStream({ keepAliveMs: deps.keepAliveMs, retryMs: 2000, maxBufferedBytes: MAX_BUFFERED_BYTES });
    sse.send('history', recorder.history());
    const unsubscribe = recorder.subscribe((event) => {
      if (access.sessions.get(session.id) === null) {
        sse.send('session-expired', {});
        sse.end();
        return;
      }
      sse.send('sample', event);
    });
    return sse.reply(reply, closing, unsubscribe);
  });
}
