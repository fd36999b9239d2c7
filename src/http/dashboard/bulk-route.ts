/**
 * POST /dashboard/jobs/bulk: the Jobs page's bulk actions. The same request and answers as the
 * API's POST /v1/jobs/bulk (../bulk.ts), on a route of its own because the page needs the event
 * stream of progress, which the API proxy cannot pass (it waits for the end of a response).
 * A session holding `admin` and the CSRF token are required, as for every action of the page.
 */
import type { FastifyInstance } from 'fastify';
import type { Offload } from '../../index.ts';
import { answerBulk, parseBulkRequest } from '../bulk.ts';
import type { DashboardAccess } from './access.ts';

export function bulkRoute(fastify: FastifyInstance, deps: { access: DashboardAccess; offload: Offload; closing: AbortSignal; keepAliveMs: number }): void {
  fastify.post('/dashboard/jobs/bulk', { onRequest: deps.access.require('admin') }, async (request, reply) =>
    answerBulk({ offload: deps.offload, closing: deps.closing, keepAliveMs: deps.keepAliveMs }, parseBulkRequest(request.body), request, reply),
  );
}
