/**
 * What every route module receives from the plugin: the resolved options, the client, the job
 * watcher shared by the event streams, and the signal that ends long requests when the server
 * closes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Offload } from '../index.ts';
import type { Scope } from './auth.ts';
import type { JobWatcher } from './job-watch.ts';
import type { ResolvedHttpOptions } from './options.ts';

export interface HttpContext {
  options: ResolvedHttpOptions;
  offload: Offload;
  watcher: JobWatcher;
  /** Aborted when the Fastify instance starts closing: long-polls answer, event streams end. */
  closing: AbortSignal;
  /** The onRequest hook that admits a request needing `scope`. */
  auth(scope: Scope): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** `path` under the plugin's prefix, for Location and Link headers. */
  url(path: string): string;
}
