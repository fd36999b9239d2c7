/**
 * `offload/http`: the HTTP API of offload. Submit, follow and control jobs from any language.
 *
 * Standalone: `createHttpServer({ offload, tokens }).listen({ port })`, or `offload serve`.
 * In an app of your own: `app.register(offloadHttp, { offload, prefix: '/jobs-api' })`.
 * Routes, status codes, token format and problem codes: docs/http.md.
 */
export { offloadHttp } from './plugin.ts';
export { createHttpServer, isLoopbackHost } from './server.ts';
export type { HttpServer, HttpServerOptions, ListenOptions } from './server.ts';
export type { OffloadHttpOptions } from './options.ts';
export { parseApiTokens, SCOPES } from './auth.ts';
export type { ApiToken, Scope } from './auth.ts';
export { PROBLEM_CODES } from './problem.ts';
export type { HttpProblemCode } from './problem.ts';
export type { JobView, AttemptErrorView } from './job-view.ts';
