/**
 * A minimal Server-Sent Events client over a real socket, for the tests: parses the stream as it
 * arrives and lets a test wait for the next event that matches, or for the end of the stream.
 */
import { get, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | null;
  event: string;
  data: unknown;
}

export interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Resolves with the first event (received before or after the call) after `from` that matches. */
  next(match: (e: SseEvent) => boolean, from?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const waiters: Array<{ match: (e: SseEvent) => boolean; from: number; resolve: (e: SseEvent) => void }> = [];
      let buffer = '';
      const settle = () => {
        // Backwards: a settled waiter is removed in place.
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i]!;
          const found = events.slice(w.from).find(w.match);
          if (found !== undefined) {
            waiters.splice(i, 1);
            w.resolve(found);
          }
        }
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const data = fields.get('data');
          if (data === undefined) continue;
          events.push({ id: fields.get('id') ?? null, event: fields.get('event') ?? 'message', data: JSON.parse(data) as unknown });
        }
        settle();
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        next: (match, from = 0) =>
          new Promise((r) => {
            waiters.push({ match, from, resolve: r });
            settle();
          }),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
