/**
 * CSRF protection of the dashboard's state-changing requests, on top of SameSite=Strict cookies.
 *
 * Every POST and DELETE must carry the session's CSRF token in the `x-csrf-token` header (the
 * page reads it from GET /dashboard/session, which another site cannot read), and, when the
 * browser sends an Origin, that origin's host must be the one the request was sent to. The login
 * form, which has no session yet, uses a double-submit token instead: the same random value in a
 * cookie and in a hidden field (a site that cannot read the cookie cannot fill in the field).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing; every other method needs the token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when both are present and equal; compares digests in constant time. */
export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given === '') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Null when the request's Origin (if any) is this host; otherwise why not. A browser sends Origin
 * on every cross-site POST, so a request from another site is refused even before the token.
 */
export function originProblem(request: FastifyRequest): string | null {
  const origin = request.headers.origin;
  if (origin === undefined) return null;
  const host = request.headers.host;
  if (origin === 'null') return 'the request comes from an opaque origin (Origin: null), which cannot be checked';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `the Origin header '${origin.slice(0, 100)}' is not a URL`;
  }
  // An Origin leaves out the scheme's default port; a Host header may carry it.
  const defaultPort = url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '';
  const same = [url.host, `${url.hostname}:${url.port === '' ? defaultPort : url.port}`].map((h) => h.toLowerCase());
  return host !== undefined && same.includes(host.toLowerCase()) ? null : `the request comes from another origin (${url.host})`;
}
