/**
 * A worker id is `hostname:pid:random` (runtime/worker.ts). The host is everything before the
 * last two parts, so a host name with a colon (an IPv6 literal) stays whole; an id of another
 * shape is shown as it is, with no pid.
 */

/**
 * @example
 * parseWorkerId('api-7f9c:4242:a1b2c3') // { host: 'api-7f9c', pid: 4242 }
 */
export function parseWorkerId(id: string): { host: string; pid: number | null } {
  const parts = id.split(':');
  if (parts.length < 3) return { host: id, pid: null };
  const pid = Number(parts.at(-2));
  if (!Number.isSafeInteger(pid) || pid <= 0) return { host: id, pid: null };
  return { host: parts.slice(0, -2).join(':'), pid };
}
