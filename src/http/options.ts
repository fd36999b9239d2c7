/**
 * Options of the HTTP service, resolved and checked once when the plugin or server is created.
 * Unknown keys are refused with a suggestion, as everywhere in offload: a typo must not fall back
 * to a default silently. (src/http sees only the public API, so the checks are its own.)
 */
import { OffloadError, type Offload } from '../index.ts';
import { TokenStore, parseApiTokens, type ApiToken } from './auth.ts';
import { payloadRedactor, type PayloadRedactor } from './redact.ts';

export interface OffloadHttpOptions {
  /** The client whose jobs the routes submit, read and control. */
  offload: Offload;
  /**
   * API tokens: a list, or the `OFFLOAD_API_TOKENS` text (`name:scopes:secret;...`). Without
   * tokens only loopback clients are served, and `createHttpServer` listens on loopback only.
   */
  tokens?: readonly ApiToken[] | string;
  /** Largest request body; larger ones get 413 without being read whole. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Deepest nesting of objects and arrays in a JSON body. Default 64. */
  maxJsonDepth?: number;
  /** Most payloads in one POST /v1/jobs:batch. Default 1000. */
  maxBatchSize?: number;
  /** Longest `?wait=` of GET /v1/jobs/:id/result. Default 60000. */
  maxWaitMs?: number;
  /** Period of the keep-alive comment on event streams. Default 15000. */
  sseKeepAliveMs?: number;
  /** Shortest and longest pause between two reads of a followed job. Defaults 20 and 1000. */
  watchMinPollMs?: number;
  watchMaxPollMs?: number;
  /** Answer 503 before reading the request while the event loop is overloaded. Default true. */
  shedLoad?: boolean;
  /** A store that has not answered /readyz's check within this long makes it answer 503. Default 2000. */
  readyTimeoutMs?: number;
  /**
   * Paths inside payloads whose values every job view (API and dashboard) replaces with
   * `[redacted]`, in pinoLogger's `redact` syntax: `['password', 'card.number', 'users[*].email']`.
   */
  redact?: readonly string[];
}

export interface ResolvedHttpOptions {
  offload: Offload;
  tokens: TokenStore;
  bodyLimitBytes: number;
  maxJsonDepth: number;
  maxBatchSize: number;
  maxWaitMs: number;
  sseKeepAliveMs: number;
  watchMinPollMs: number;
  watchMaxPollMs: number;
  shedLoad: boolean;
  readyTimeoutMs: number;
  redact: PayloadRedactor | null;
}

export const PLUGIN_KEYS = [
  'offload',
  'tokens',
  'bodyLimitBytes',
  'maxJsonDepth',
  'maxBatchSize',
  'maxWaitMs',
  'sseKeepAliveMs',
  'watchMinPollMs',
  'watchMaxPollMs',
  'shedLoad',
  'readyTimeoutMs',
  'redact',
] as const;

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function invalid(message: string): OffloadError {
  return new OffloadError('OFFLOAD_INVALID_OPTIONS', message);
}

/** Refuses a non-object or an unknown key, naming the closest known one. */
export function checkKeys(value: unknown, allowed: readonly string[], where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where}: expected an object of options`);
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const lower = key.toLowerCase();
    const best = allowed.map((k) => ({ k, d: distance(lower, k.toLowerCase()) })).toSorted((a, b) => a.d - b.d)[0];
    // A close spelling, or a name missing its unit (`bodyLimit` for `bodyLimitBytes`).
    const close = best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : allowed.find((k) => key.length >= 4 && k.toLowerCase().startsWith(lower));
    const hint = close === undefined ? '' : ` (did you mean '${close}'?)`;
    throw invalid(`${where}: unknown option '${key}'${hint}; known: ${allowed.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

export function intOption(value: unknown, where: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${where}: expected an integer in [${min}, ${max}], got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

function boolOption(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${where}: expected a boolean`);
  return value;
}

/** Checks and fills the plugin's options. */
export function resolveHttpOptions(options: unknown, where: string, extraKeys: readonly string[] = []): ResolvedHttpOptions {
  const o = checkKeys(options, [...PLUGIN_KEYS, ...extraKeys], where);
  const offload = o['offload'] as Offload | undefined;
  if (typeof offload !== 'object' || offload === null || typeof offload.enqueue !== 'function' || typeof offload.jobs !== 'object') {
    throw invalid(`${where}: offload is required: the client made by createOffload()`);
  }
  const rawTokens = o['tokens'] ?? [];
  if (typeof rawTokens !== 'string' && !Array.isArray(rawTokens)) throw invalid(`${where}: tokens must be a list of tokens or the OFFLOAD_API_TOKENS text`);
  const tokens = new TokenStore(typeof rawTokens === 'string' ? parseApiTokens(rawTokens) : (rawTokens as ApiToken[]));
  const watchMinPollMs = intOption(o['watchMinPollMs'], `${where}: watchMinPollMs`, 1, 60_000, 20);
  return {
    offload,
    tokens,
    bodyLimitBytes: intOption(o['bodyLimitBytes'], `${where}: bodyLimitBytes`, 1024, 256 * 2 ** 20, 2 ** 20),
    maxJsonDepth: intOption(o['maxJsonDepth'], `${where}: maxJsonDepth`, 2, 1000, 64),
    maxBatchSize: intOption(o['maxBatchSize'], `${where}: maxBatchSize`, 1, 100_000, 1000),
    maxWaitMs: intOption(o['maxWaitMs'], `${where}: maxWaitMs`, 0, 3_600_000, 60_000),
    sseKeepAliveMs: intOption(o['sseKeepAliveMs'], `${where}: sseKeepAliveMs`, 10, 3_600_000, 15_000),
    watchMinPollMs,
    watchMaxPollMs: intOption(o['watchMaxPollMs'], `${where}: watchMaxPollMs`, watchMinPollMs, 600_000, Math.max(1000, watchMinPollMs)),
    shedLoad: boolOption(o['shedLoad'], `${where}: shedLoad`, true),
    readyTimeoutMs: intOption(o['readyTimeoutMs'], `${where}: readyTimeoutMs`, 1, 60_000, 2000),
    redact: payloadRedactor(o['redact'] as readonly string[] | undefined),
  };
}
