/**
 * Harness of the dashboard suites: clients and servers (createHttpServer, so the dashboard is
 * mounted as users get it) on the suite's store, torn down together; logging in the way a
 * browser does (GET the form, POST it with its CSRF cookie and field).
 *
 * Every client here has a loop threshold no shared test machine reaches: the suites are about the
 * dashboard, and a claim held back (or a request shed) because another suite's process keeps the
 * CPU busy would only make them slow. Loop health still measures, so the figures are real.
 */
import type { Offload, OffloadOptions } from '../../src/index.ts';
import type { ApiToken, HttpServer, HttpServerOptions } from '../../src/http/index.ts';
import { serverSuite } from '../server-suite.ts';
import { STORES, type TestStore } from '../stores.ts';

type SecretToken = ApiToken & { secret: string };
export const OPS: SecretToken = { name: 'ops', scopes: ['admin'], secret: 'ops-secret-0123456789abcdef' };
export const VIEWER: SecretToken = { name: 'viewer', scopes: ['read'], secret: 'viewer-secret-0123456789abc' };
export const PRODUCER: SecretToken = { name: 'producer', scopes: ['submit'], secret: 'producer-secret-0123456789' };
export const TOKENS: ApiToken[] = [OPS, VIEWER, PRODUCER];

/** A loop guard that never trips on a busy test machine (see above). */
export const CALM_LOOP = { maxDelayMs: 60_000 } as const;

type Inject = HttpServer['fastify']['inject'];

export interface Dash {
  offload: Offload;
  server: HttpServer;
  inject: Inject;
}

export interface DashSuite {
  store: TestStore;
  /** A client and a server with the dashboard, closed after the suite. */
  serve: (options?: { offload?: Omit<OffloadOptions, 'store'>; http?: Omit<HttpServerOptions, 'offload'> }) => Dash;
  /** Another client on the same store, as another process would have. */
  client: (options?: Omit<OffloadOptions, 'store'>) => Offload;
  /** A name not used before in this suite. */
  unique: (base: string) => string;
}

/** Declares the tests once per store, as `<title>: sqlite` and `<title>: postgres`. */
export function dashboardSuite(title: string, declare: (s: DashSuite) => void): void {
  dashboardSuiteOn(STORES, title, declare);
}

/** The same on the given stores only (say why one is enough where it is used). */
export function dashboardSuiteOn(stores: ReadonlyArray<() => TestStore>, title: string, declare: (s: DashSuite) => void): void {
  serverSuite(stores, title, CALM_LOOP, ({ store, client, unique, serve }) =>
    declare({ store, client, unique, serve: (options = {}) => serve(options.offload, { logger: false, ...options.http }) }),
  );
}

/** The JSON body of a response, typed by the caller. */
// oxlint-disable-next-line typescript/no-unnecessary-type-parameters -- the caller names the JSON shape it expects; parsing cannot check it
export function json<T>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

/** The values of Set-Cookie, as a list. */
export function setCookies(headers: Record<string, unknown>): string[] {
  const v = headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];
}

/** `name=value` of the cookie named `name` that a response set, or null. */
export function cookieOf(headers: Record<string, unknown>, name: string): string | null {
  const c = setCookies(headers).find((h) => h.startsWith(`${name}=`));
  return c === undefined ? null : c.split(';', 1)[0]!;
}

export interface LoginForm {
  /** `offload_login=...` */
  cookie: string;
  csrf: string;
}

/** GET /login: the form's double-submit token, as cookie and field. */
export async function loginForm(inject: Inject): Promise<LoginForm> {
  const res = await inject({ method: 'GET', url: '/login' });
  const cookie = cookieOf(res.headers, 'offload_login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(res.body)?.[1];
  if (cookie === null || csrf === undefined) throw new Error(`no login form: ${res.statusCode} ${res.body.slice(0, 200)}`);
  return { cookie, csrf };
}

export function postLogin(inject: Inject, fields: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) {
  return inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }), ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
}

export interface Session {
  /** `offload_session=...`, for the Cookie header. */
  cookie: string;
  csrf: string;
  headers: { cookie: string; 'x-csrf-token': string };
}

/** Logs in with `secret` (or, without tokens, starts the anonymous session) and reads the CSRF token. */
export async function login(inject: Inject, secret: string | null): Promise<Session> {
  let cookie: string | null;
  if (secret === null) {
    const res = await inject({ method: 'GET', url: '/dashboard/session' });
    cookie = cookieOf(res.headers, 'offload_session');
  } else {
    const form = await loginForm(inject);
    const res = await postLogin(inject, { token: secret, csrf: form.csrf }, form.cookie);
    if (res.statusCode !== 303) throw new Error(`login refused: ${res.statusCode}`);
    cookie = cookieOf(res.headers, 'offload_session');
  }
  if (cookie === null) throw new Error('no session cookie');
  const info = await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie } });
  const csrf = (JSON.parse(info.body) as { csrfToken: string }).csrfToken;
  return { cookie, csrf, headers: { cookie, 'x-csrf-token': csrf } };
}
