/**
 * API tokens with scopes. Only the SHA-256 of each secret is kept in memory; a presented token is
 * hashed and compared with every configured hash in constant time (`timingSafeEqual` over
 * fixed-length digests, no early exit), so neither the comparison nor the position of the match
 * in the list shows in the response time.
 *
 * Scopes: `read` (GET routes), `submit` (POST /v1/jobs and the batch), `admin` (cancel, retry,
 * delete, pause, resume). `admin` includes the two others; `submit` does not include `read`, so
 * a producer's token cannot list other producers' jobs. Health and the OpenAPI document are open.
 *
 * The configuration text (`OFFLOAD_API_TOKENS`) is `name:scopes:secret` entries separated by `;`,
 * scopes separated by `,`. The secret is everything after the second `:` (it may contain `:`),
 * at least 16 characters; or `sha256:<64 hex digits>` to configure the hash without the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OffloadError } from '../index.ts';
import { HttpProblem } from './problem.ts';

export type Scope = 'read' | 'submit' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'submit', 'admin'];

/** One API token as configured: the secret itself, or the hex SHA-256 of it. */
export type ApiToken = { name: string; scopes: readonly Scope[] } & ({ secret: string } | { sha256: string });

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const MIN_SECRET = 16;

function invalid(message: string): OffloadError {
  return new OffloadError('OFFLOAD_INVALID_OPTIONS', `API tokens: ${message}`);
}

/**
 * Parses the `OFFLOAD_API_TOKENS` format. The error never repeats a secret.
 * @example
 * parseApiTokens('ci:submit:7Hq...;ops:admin:sha256:9f86d0...')
 */
export function parseApiTokens(text: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  for (const [i, raw] of text.split(';').entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) throw invalid(`entry ${i + 1} is not name:scopes:secret`);
    const name = entry.slice(0, first);
    const scopes = entry.slice(first + 1, second).split(',').map((s) => s.trim()) as Scope[];
    const secret = entry.slice(second + 1);
    tokens.push(
      secret.startsWith('sha256:') && HEX_SHA256.test(secret.slice('sha256:'.length))
        ? { name, scopes, sha256: secret.slice('sha256:'.length) }
        : { name, scopes, secret },
    );
  }
  return tokens;
}

interface StoredToken {
  name: string;
  scopes: ReadonlySet<Scope>;
  digest: Buffer;
}

/** The configured tokens, hashed. Empty means "no tokens": loopback clients only. */
export class TokenStore {
  readonly #tokens: StoredToken[];

  constructor(tokens: readonly ApiToken[]) {
    const names = new Set<string>();
    const digests = new Set<string>();
    this.#tokens = tokens.map((t, i) => {
      if (typeof t !== 'object' || t === null) throw invalid(`token ${i + 1} is not an object`);
      if (typeof t.name !== 'string' || !NAME.test(t.name)) throw invalid(`token ${i + 1}: name must match ${NAME.source}`);
      if (names.has(t.name)) throw invalid(`two tokens are named '${t.name}'`);
      names.add(t.name);
      if (!Array.isArray(t.scopes) || t.scopes.length === 0) throw invalid(`token '${t.name}': scopes must be a non-empty list of ${SCOPES.join(', ')}`);
      for (const s of t.scopes as unknown[]) if (!SCOPES.includes(s as Scope)) throw invalid(`token '${t.name}': unknown scope '${String(s)}'; scopes: ${SCOPES.join(', ')}`);
      let digest: Buffer;
      if ('sha256' in t) {
        if (typeof t.sha256 !== 'string' || !HEX_SHA256.test(t.sha256)) throw invalid(`token '${t.name}': sha256 must be 64 hex digits`);
        digest = Buffer.from(t.sha256, 'hex');
      } else {
        if (typeof t.secret !== 'string' || t.secret.length < MIN_SECRET) throw invalid(`token '${t.name}': the secret must have at least ${MIN_SECRET} characters`);
        digest = sha256(t.secret);
      }
      const hex = digest.toString('hex');
      if (digests.has(hex)) throw invalid(`token '${t.name}' has the same secret as another token`);
      digests.add(hex);
      return { name: t.name, scopes: new Set(t.scopes), digest };
    });
  }

  get enabled(): boolean {
    return this.#tokens.length > 0;
  }

  /** The token whose secret this is, or null. Constant time in the secret and in the list. */
  find(secret: string): { name: string; scopes: ReadonlySet<Scope> } | null {
    const digest = sha256(secret);
    let found: StoredToken | null = null;
    for (const t of this.#tokens) {
      // No early exit: every configured token is compared, whichever matches.
      if (timingSafeEqual(t.digest, digest)) found = t;
    }
    return found;
  }
}

function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function allows(scopes: ReadonlySet<Scope>, needed: Scope): boolean {
  return scopes.has(needed) || scopes.has('admin');
}

const LOOPBACK_PEER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * The onRequest hook of a route that needs `scope`. Runs before the body is read, so an
 * unauthenticated client cannot make the server parse anything.
 *
 * Without configured tokens every route is open, but only to loopback peers: the standalone
 * server refuses to listen elsewhere, and this check covers the plugin mounted in an app that
 * does listen on another address.
 */
export function authorize(tokens: TokenStore, scope: Scope): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request) => {
    if (!tokens.enabled) {
      if (!LOOPBACK_PEER.test(request.socket.remoteAddress ?? '')) {
        throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', 'no API tokens are configured, so only clients on this machine (loopback) are served');
      }
      return;
    }
    const header = request.headers.authorization;
    const challenge = { 'www-authenticate': 'Bearer realm="offload"' };
    if (header === undefined) throw new HttpProblem(401, 'OFFLOAD_HTTP_UNAUTHORIZED', 'send an API token as "Authorization: Bearer <token>"', {}, challenge);
    const match = /^Bearer +(\S+) *$/i.exec(header);
    const token = match === null ? null : tokens.find(match[1]!);
    if (token === null) {
      throw new HttpProblem(401, 'OFFLOAD_HTTP_UNAUTHORIZED', 'the API token is not valid', {}, { 'www-authenticate': 'Bearer realm="offload", error="invalid_token"' });
    }
    request.log.debug({ token: token.name }, 'authenticated');
    if (!allows(token.scopes, scope)) {
      throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', `the token '${token.name}' lacks the '${scope}' scope`, { requiredScope: scope }, {
        'www-authenticate': `Bearer realm="offload", error="insufficient_scope", scope="${scope}"`,
      });
    }
  };
}
