/**
 * Dashboard sessions, in memory: made by a login with an API token (or, without tokens, for a
 * loopback visitor), found by the id in the HttpOnly session cookie.
 *
 * A session ends after `idleMs` without a request (each request extends it) and in any case
 * `maxAgeMs` after the login. It holds the token's secret so that the dashboard can call the HTTP
 * API as that token (scopes are checked there, not copied here), and its own CSRF token.
 *
 * The map is keyed by the SHA-256 of the id, so a lookup compares digests, never the id a client
 * sent; at most `maxSessions` live at once (a login beyond that ends the oldest). Expired sessions
 * are dropped when met and swept on every login, so no timer is needed. Restarting the process
 * ends every session: operators log in again.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Scope } from '../auth.ts';

export interface Session {
  /** Goes in the cookie only; never logged. */
  readonly id: string;
  readonly csrfToken: string;
  /** The API token's name; null for a session without tokens. */
  readonly user: string | null;
  readonly scopes: ReadonlySet<Scope>;
  /** The API token's secret, sent as the Bearer token of the dashboard's API calls; null without tokens. */
  readonly secret: string | null;
  readonly createdAtMs: number;
  lastSeenMs: number;
}

export interface SessionStoreOptions {
  idleMs: number;
  maxAgeMs: number;
  maxSessions: number;
  /** The clock (unix ms). */
  now: () => number;
}

/** 32 random bytes, URL-safe: session ids and CSRF tokens. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

const keyOf = (id: string): string => createHash('sha256').update(id, 'utf8').digest('base64url');

export class SessionStore {
  readonly #o: SessionStoreOptions;
  readonly #sessions = new Map<string, Session>();

  constructor(options: SessionStoreOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session. */
  create(owner: { user: string | null; scopes: Iterable<Scope>; secret: string | null }): Session {
    const now = this.#o.now();
    this.#sweep(now);
    while (this.#sessions.size >= this.#o.maxSessions) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#sessions.delete(oldest.value);
    }
    const session: Session = { id: newSecret(), csrfToken: newSecret(), user: owner.user, scopes: new Set(owner.scopes), secret: owner.secret, createdAtMs: now, lastSeenMs: now };
    this.#sessions.set(keyOf(session.id), session);
    return session;
  }

  /** The live session with this id, or null (unknown, or expired: then it is dropped). Does not extend it. */
  get(id: string | undefined): Session | null {
    if (id === undefined || id === '') return null;
    const key = keyOf(id);
    const s = this.#sessions.get(key);
    if (s === undefined) return null;
    if (this.expiresAtMs(s) <= this.#o.now()) {
      this.#sessions.delete(key);
      return null;
    }
    return s;
  }

  /** Extends the session's idle time from now. */
  touch(session: Session): void {
    session.lastSeenMs = this.#o.now();
  }

  /** When the session ends unless extended, unix ms. */
  expiresAtMs(session: Session): number {
    return Math.min(session.lastSeenMs + this.#o.idleMs, session.createdAtMs + this.#o.maxAgeMs);
  }

  delete(id: string): void {
    this.#sessions.delete(keyOf(id));
  }

  clear(): void {
    this.#sessions.clear();
  }

  #sweep(now: number): void {
    for (const [key, s] of this.#sessions) if (this.expiresAtMs(s) <= now) this.#sessions.delete(key);
  }
}
