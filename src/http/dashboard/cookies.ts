/**
 * The two cookies of the dashboard, read and written without a cookie library: the session
 * cookie and the login form's CSRF cookie. Both are HttpOnly and SameSite=Strict, so a page of
 * another site can neither read them nor make the browser send them; Secure when the request
 * came over HTTPS.
 */

export const SESSION_COOKIE = 'offload_session';
export const LOGIN_COOKIE = 'offload_login';

/** Cookie values the dashboard sets are base64url; anything else in the header is ignored. */
const VALUE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The cookie of this name, or undefined when absent or not a value the dashboard could have set.
 * @example
 * readCookie(request.headers.cookie, SESSION_COOKIE)
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (VALUE.test(value)) return value;
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAgeS: number;
  secure: boolean;
}

/** The Set-Cookie header value. */
export function cookieHeader(name: string, value: string, o: CookieOptions): string {
  return `${name}=${value}; Path=${o.path}; Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}; HttpOnly; SameSite=Strict${o.secure ? '; Secure' : ''}`;
}
