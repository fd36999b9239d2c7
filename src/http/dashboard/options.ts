/**
 * Options of the dashboard plugin, checked once when it is registered (unknown keys refused with
 * a suggestion, as everywhere in offload).
 */
import type { Offload } from '../../index.ts';
import { OffloadError } from '../../index.ts';
import type { TokenStore } from '../auth.ts';
import { checkKeys, intOption } from '../options.ts';
import { payloadRedactor, type PayloadRedactor } from '../redact.ts';
import { DEFAULT_ASSETS_DIR } from './assets.ts';

export interface DashboardOptions {
  offload: Offload;
  /** The API tokens as the HTTP plugin resolved them; none enabled means loopback only, no login. */
  tokens: TokenStore;
  /** Where the HTTP API plugin is mounted on the same Fastify instance: '' for the root, or '/api'. */
  apiPrefix: string;
  /** The built page. Default: dist-ui/ of the package. */
  assetsDir?: string;
  /** A session ends after this long without a request. Default 1800000 (30 min). */
  sessionIdleMs?: number;
  /** ... and this long after the login in any case. Default 43200000 (12 h). */
  sessionMaxAgeMs?: number;
  /** Live sessions at most; a login beyond ends the oldest. Default 10000. */
  maxSessions?: number;
  /** Stats sample period. Default 1000. */
  statsIntervalMs?: number;
  /** Stats kept for a page that opens. Default 900000 (15 min). */
  historyMs?: number;
  /** Period of the keep-alive comment on the stats stream. Default 15000. */
  sseKeepAliveMs?: number;
  /** The clock of sessions and derived times (unix ms). Default Date.now. */
  now?: () => number;
  /** Payload paths shown as `[redacted]` (the HTTP options' `redact`; createHttpServer passes them on). */
  redact?: readonly string[];
}

export interface ResolvedDashboardOptions {
  offload: Offload;
  tokens: TokenStore;
  apiPrefix: string;
  assetsDir: string;
  sessionIdleMs: number;
  sessionMaxAgeMs: number;
  maxSessions: number;
  statsIntervalMs: number;
  historyMs: number;
  sseKeepAliveMs: number;
  now: () => number;
  redact: PayloadRedactor | null;
}

const KEYS = ['offload', 'tokens', 'apiPrefix', 'assetsDir', 'sessionIdleMs', 'sessionMaxAgeMs', 'maxSessions', 'statsIntervalMs', 'historyMs', 'sseKeepAliveMs', 'now', 'redact'];
/** Options Fastify itself passes to every plugin. */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'];

function invalid(message: string): OffloadError {
  return new OffloadError('OFFLOAD_INVALID_OPTIONS', `offloadDashboard: ${message}`);
}

export function resolveDashboardOptions(options: unknown): ResolvedDashboardOptions {
  const o = checkKeys(options, [...KEYS, ...REGISTER_KEYS], 'offloadDashboard');
  if (o['prefix'] !== undefined && o['prefix'] !== '') throw invalid('the dashboard is mounted at the root (its cookies and links are under /); register it without a prefix');
  const offload = o['offload'] as Offload | undefined;
  if (typeof offload !== 'object' || offload === null || typeof offload.stats !== 'function') throw invalid('offload is required: the client made by createOffload()');
  const tokens = o['tokens'] as TokenStore | undefined;
  if (typeof tokens !== 'object' || tokens === null || typeof tokens.find !== 'function') throw invalid('tokens is required: the TokenStore of the HTTP options');
  const apiPrefix = o['apiPrefix'];
  if (typeof apiPrefix !== 'string' || !(apiPrefix === '' || /^\/[A-Za-z0-9._~/-]*[^/]$/.test(apiPrefix))) throw invalid(`apiPrefix must be '' or a path such as '/api'`);
  const assetsDir = o['assetsDir'] ?? DEFAULT_ASSETS_DIR;
  if (typeof assetsDir !== 'string' || assetsDir === '') throw invalid('assetsDir must be a folder path');
  const now = o['now'] ?? Date.now;
  if (typeof now !== 'function') throw invalid('now must be a function returning unix milliseconds');
  const sessionIdleMs = intOption(o['sessionIdleMs'], 'offloadDashboard: sessionIdleMs', 1000, 7 * 86_400_000, 30 * 60_000);
  const statsIntervalMs = intOption(o['statsIntervalMs'], 'offloadDashboard: statsIntervalMs', 10, 60_000, 1000);
  return {
    offload,
    tokens,
    apiPrefix,
    assetsDir,
    sessionIdleMs,
    sessionMaxAgeMs: intOption(o['sessionMaxAgeMs'], 'offloadDashboard: sessionMaxAgeMs', sessionIdleMs, 30 * 86_400_000, Math.max(sessionIdleMs, 12 * 3_600_000)),
    maxSessions: intOption(o['maxSessions'], 'offloadDashboard: maxSessions', 1, 1_000_000, 10_000),
    statsIntervalMs,
    historyMs: intOption(o['historyMs'], 'offloadDashboard: historyMs', statsIntervalMs, 86_400_000, 15 * 60_000),
    sseKeepAliveMs: intOption(o['sseKeepAliveMs'], 'offloadDashboard: sseKeepAliveMs', 10, 3_600_000, 15_000),
    now: now as () => number,
    redact: payloadRedactor(o['redact'] as readonly string[] | undefined),
  };
}
