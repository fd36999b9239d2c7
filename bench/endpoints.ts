/**
 * Where the databases are. The suite is for loopback only: it floods what it talks to with writes,
 * so an address off this machine is refused rather than benchmarked.
 *
 * BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) and BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379) override them.
 */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function loopbackUrl(variable: string, fallback: string): string {
  const raw = process.env[variable] ?? fallback;
  const host = new URL(raw).hostname;
  if (!LOOPBACK.has(host) && !host.startsWith('127.')) {
    throw new Error(`${variable}: the benchmark runs on loopback only; '${host}' is not a loopback address`);
  }
  return raw;
}

export const PG_URL = loopbackUrl('BENCH_PG_URL', 'postgres://postgres@127.0.0.1:5432/test');
export const REDIS_URL = loopbackUrl('BENCH_REDIS_URL', 'redis://127.0.0.1:6379');

/** host and port of REDIS_URL, as BullMQ's connection option wants them. */
export function redisConnection(): { host: string; port: number } {
  const u = new URL(REDIS_URL);
  return { host: u.hostname, port: Number(u.port || 6379) };
}
