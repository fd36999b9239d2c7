/**
 * Redacted payload paths in the job views of the API and the dashboard: the value at each path
 * is replaced by the text `[redacted]` before the job leaves the server, so it never reaches a
 * browser or an API client. The paths have the syntax of pinoLogger's `redact` option ('password',
 * 'card.number', 'users[*].email', '["odd key"]', '[0]'), checked by `redactPayloadPaths`, so one
 * list serves the logs and the views.
 */
import { REDACTED, redactPayloadPaths } from '../index.ts';

/** The logs' censor mark, so that a value hidden in a job view and in a log line reads the same. */
export const REDACTED_MARK = REDACTED;

/** Returns a copy of a payload with the configured paths replaced; the original is not touched. */
export type PayloadRedactor = (payload: unknown) => unknown;

/** A key, an index, or '*' (any key or index). */
type Segment = string | number;

function parse(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /(?:^|\.)([A-Za-z_$][\w$]*|\*)|\[(\*|\d+|"[^"]*"|'[^']*')\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    const name = m[1];
    const bracket = m[2];
    if (name !== undefined) out.push(name);
    else if (bracket === '*') out.push('*');
    else if (/^\d+$/.test(bracket!)) out.push(Number(bracket));
    else out.push(bracket!.slice(1, -1));
    if (re.lastIndex === path.length) break;
  }
  return out;
}

function apply(value: unknown, path: readonly Segment[]): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return value;
  const [head, ...rest] = path as [Segment, ...Segment[]];
  const leaf = rest.length === 0;
  const one = (v: unknown) => (leaf ? REDACTED_MARK : apply(v, rest));
  if (Array.isArray(value)) {
    const items = value as unknown[];
    if (head === '*') return items.map(one);
    if (typeof head !== 'number' || head >= items.length) return items;
    return items.map((v, i) => (i === head ? one(v) : v));
  }
  const obj = value as Record<string, unknown>;
  if (head === '*') return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, one(v)]));
  const key = String(head);
  if (!Object.hasOwn(obj, key)) return value;
  return { ...obj, [key]: one(obj[key]) };
}

/**
 * A redactor for `paths`, or null for none. Throws OFFLOAD_INVALID_OPTIONS naming a bad path.
 * @example
 * const redact = payloadRedactor(['password', 'card.number'])
 * redact({ user: 'a', password: 'x' }) // { user: 'a', password: '[redacted]' }
 */
export function payloadRedactor(paths: readonly string[] | undefined): PayloadRedactor | null {
  if (paths === undefined) return null;
  redactPayloadPaths(paths);
  if (paths.length === 0) return null;
  const parsed = paths.map(parse);
  return (payload) => parsed.reduce((v, p) => apply(v, p), payload);
}
