/**
 * A Server-Sent Events stream (text/event-stream) given to Fastify as the reply payload, so the
 * reply's hooks and headers (request id, logging) apply as for any other response.
 *
 * A keep-alive comment goes out every `keepAliveMs`, so proxies and clients see a live connection
 * while a job waits. Writes are dropped once the stream ended or the client went away; a client
 * that stops reading while events pile up past `maxBufferedBytes` is disconnected rather than
 * buffered without bound.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';

export class SseStream {
  readonly stream = new PassThrough();
  readonly #keepAlive: NodeJS.Timeout;
  readonly #maxBufferedBytes: number;
  #nextId = 1;
  #ended = false;
  readonly #onEnd: Array<() => void> = [];

  constructor(options: { keepAliveMs: number; retryMs: number; maxBufferedBytes: number }) {
    this.#maxBufferedBytes = options.maxBufferedBytes;
    // `retry` tells EventSource how long to wait before reconnecting.
    this.stream.write(`retry: ${options.retryMs}\n\n`);
    this.#keepAlive = setInterval(() => this.comment('keep-alive'), options.keepAliveMs);
    this.#keepAlive.unref();
    this.stream.on('close', () => this.end());
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Runs `fn` once when the stream ends, whoever ends it. */
  onEnd(fn: () => void): void {
    if (this.#ended) fn();
    else this.#onEnd.push(fn);
  }

  /** Sends one event; `data` is JSON-encoded on one line. */
  send(event: string, data: unknown): void {
    this.#write(`id: ${this.#nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    this.#write(`: ${text}\n\n`);
  }

  #write(chunk: string): void {
    if (this.#ended) return;
    // Both sides of the PassThrough hold unsent bytes: what the socket has not taken yet.
    if (this.stream.writableLength + this.stream.readableLength > this.#maxBufferedBytes) {
      this.stream.destroy();
      return;
    }
    this.stream.write(chunk);
  }

  /**
   * Answers `reply` with this stream, which ends when the server closes (`closing`) or the client
   * goes away; `cleanup` runs once when it ends, whoever ends it.
   */
  reply(reply: FastifyReply, closing: AbortSignal, cleanup: () => void): FastifyReply {
    const onClosing = () => this.end();
    closing.addEventListener('abort', onClosing, { once: true });
    this.onEnd(() => {
      cleanup();
      closing.removeEventListener('abort', onClosing);
    });
    reply.raw.on('close', () => this.end());
    return (
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache, no-transform')
        // nginx and similar proxies buffer responses unless told not to.
        .header('x-accel-buffering', 'no')
        .send(this.stream)
    );
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#keepAlive);
    if (!this.stream.destroyed) this.stream.end();
    for (const fn of this.#onEnd.splice(0)) fn();
  }
}
