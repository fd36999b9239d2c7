/**
 * What the dashboard derives beyond the HTTP API, read through the public `offload` API:
 *
 *   GET /dashboard/jobs/:id   the job (as the API shows it) with the stacks of its failed
 *                             attempts, its lease, its queue, its timeline and, for a waiting
 *                             job, why it waits (wait-reason.ts).
 *   GET /dashboard/workers    this process's workers (loop, threads) and every worker id found on
 *                             running jobs. The Workers page reads the registry instead
 *                             (GET /v1/workers through the API proxy); this stays for a view of
 *                             who holds which running jobs.
 *
 * Stacks are left out of the API's job view (they name server paths); the dashboard shows them
 * to a session holding `read`, as it shows payloads, whose redacted paths (`redact`) it replaces
 * as the API does.
 */
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import type { Offload, OffloadStats } from '../../index.ts';
import { jobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';
import type { PayloadRedactor } from '../redact.ts';
import type { DashboardAccess } from './access.ts';
import type { JobInsight, JobJson, WorkerSeen, WorkersView } from './protocol.ts';
import { jobTimeline } from './timeline.ts';
import { waitReasons } from './wait-reason.ts';
import { parseWorkerId } from './worker-id.ts';

/** Running jobs read to find worker ids: 10 pages of 1000. */
const RUNNING_PAGES = 10;
const JOB_IDS_SHOWN = 5;
const JOB_ID = /^[0-9]{1,18}$/;

export function insightRoutes(fastify: FastifyInstance, deps: { access: DashboardAccess; offload: Offload; now: () => number; redact: PayloadRedactor | null }): void {
  const { access, offload, now, redact } = deps;

  fastify.get('/dashboard/jobs/:id', { onRequest: access.require('read') }, async (request, reply): Promise<JobInsight> => {
    const { id } = request.params as { id: string };
    if (!JOB_ID.test(id)) throw new HttpProblem(404, 'OFFLOAD_JOB_NOT_FOUND', `'${id.slice(0, 40)}' is not a job id (job ids are numbers)`, { id: id.slice(0, 40) });
    const [job, stats] = await Promise.all([offload.jobs.get(id), offload.stats()]);
    if (job === null) throw new HttpProblem(404, 'OFFLOAD_JOB_NOT_FOUND', `no job with id '${id}'`, { id });
    const view = jobView(job, { redact }) satisfies JobJson;
    const queue = stats.queues.find((q) => q.name === job.queue) ?? null;
    const nowMs = now();
    void reply.header('cache-control', 'no-store');
    return {
      job: view,
      stacks: job.errors.map((e) => ({ attempt: e.attempt, stack: e.stack ?? null })),
      leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null,
      queue,
      wait: waitReasons(view, { queue, workers: stats.workers, loop: stats.loop, nowMs }),
      timeline: jobTimeline(view, { leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null, nowMs }),
      nowMs,
    };
  });

  fastify.get('/dashboard/workers', { onRequest: access.require('read') }, async (_request, reply): Promise<WorkersView> => {
    const stats: OffloadStats = await offload.stats();
    const seen = new Map<string, WorkerSeen>();
    const selfId = stats.workers?.id ?? null;
    if (selfId !== null) seen.set(selfId, { id: selfId, ...parseWorkerId(selfId), self: true, runningJobs: 0, jobIds: [] });
    let cursor: string | null = null;
    let scanned = 0;
    let truncated = false;
    for (let page = 0; page < RUNNING_PAGES; page++) {
      const res = await offload.jobs.list({ state: 'running', limit: 1000, ...(cursor === null ? {} : { cursor }) });
      for (const job of res.jobs) {
        scanned++;
        if (job.workerId === null) continue;
        let w = seen.get(job.workerId);
        if (w === undefined) {
          w = { id: job.workerId, ...parseWorkerId(job.workerId), self: false, runningJobs: 0, jobIds: [] };
          seen.set(job.workerId, w);
        }
        w.runningJobs++;
        if (w.jobIds.length < JOB_IDS_SHOWN) w.jobIds.push(job.id);
      }
      cursor = res.nextCursor;
      if (cursor === null) break;
      if (page === RUNNING_PAGES - 1) truncated = true;
    }
    const w = stats.workers;
    void reply.header('cache-control', 'no-store');
    return {
      self: w === null ? null : { ...w, host: hostname(), pid: process.pid, loop: stats.loop, threads: stats.threads },
      seen: [...seen.values()].toSorted((a, b) => Number(b.self) - Number(a.self) || b.runningJobs - a.runningJobs || a.id.localeCompare(b.id)),
      runningScanned: scanned,
      truncated,
    };
  });
}
