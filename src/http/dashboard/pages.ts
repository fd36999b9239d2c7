/**
 * The page itself: GET / (index.html) and its built files (/assets/..., /favicon.svg). The files
 * hold no data, but / redirects to /login when a login is needed, and without API tokens every
 * path answers loopback only, like the rest of the dashboard. Not built: 503 and how to build.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpProblem } from '../problem.ts';
import type { DashboardAccess } from './access.ts';
import type { DashboardAssets } from './assets.ts';
import { escapeHtml, htmlPage } from './html.ts';

function notBuilt(reply: FastifyReply, dir: string): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', '10')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      htmlPage(
        'Dashboard not built · offload',
        [],
        `<main class="not-built"><h1>The dashboard is not built</h1>
<p>Its files are missing from <code>${escapeHtml(dir)}</code>. They are built by <code>npm run build:ui</code>, which <code>npm install</code> runs in the offload package; a published package ships them.</p>
<p>The HTTP API does not need them: <code>/v1/...</code>, <code>/healthz</code> and <code>/openapi.json</code> keep working.</p></main>`,
      ),
    );
}

export function pageRoutes(fastify: FastifyInstance, deps: { access: DashboardAccess; assets: DashboardAssets }): void {
  const { access, assets } = deps;

  fastify.get('/', async (request, reply) => {
    access.checkLoopback(request);
    if (access.authRequired && access.current(request) === null) return reply.redirect('/login', 303);
    const loaded = assets.load();
    const index = loaded?.files.get('/index.html');
    if (index === undefined) return notBuilt(reply, assets.dir);
    return reply.header('cache-control', 'no-store').type(index.type).send(index.body);
  });

  const file = async (path: string, reply: FastifyReply): Promise<FastifyReply> => {
    const loaded = assets.load();
    if (loaded === null) return notBuilt(reply, assets.dir);
    const asset = loaded.files.get(path);
    if (asset === undefined) throw new HttpProblem(404, 'OFFLOAD_HTTP_NOT_FOUND', `no dashboard file ${path.slice(0, 200)}`);
    return reply.header('cache-control', asset.cacheControl).type(asset.type).send(asset.body);
  };
  fastify.get('/assets/*', async (request, reply) => {
    access.checkLoopback(request);
    return file(`/assets/${(request.params as { '*': string })['*']}`, reply);
  });
  fastify.get('/favicon.svg', async (request, reply) => {
    access.checkLoopback(request);
    return file('/favicon.svg', reply);
  });
}
