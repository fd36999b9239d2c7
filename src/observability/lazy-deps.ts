/**
 * prom-client and pino, loaded when first used rather than when offload is imported: together
 * about 22 MB of resident memory (prom-client ~13 MB, pino ~9 MB) that a process using neither
 * `createMetrics` nor `pinoLogger` would hold for nothing. Both are CommonJS, so a synchronous
 * `require` keeps `createMetrics()` and `pinoLogger()` synchronous.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type pinoFn from 'pino';

const require = createRequire(import.meta.url);

let prom: typeof PromClient | null = null;
let pinoModule: typeof pinoFn | null = null;

export function promClient(): typeof PromClient {
  return (prom ??= require('prom-client') as typeof PromClient);
}

export function pino(): typeof pinoFn {
  return (pinoModule ??= require('pino') as typeof pinoFn);
}
