/**
 * Text every store can keep. PostgreSQL refuses two things SQLite accepts: the NUL character (in
 * text columns, and as the JSON escape \u0000 in jsonb) and unpaired UTF-16 surrogates (as JSON
 * escapes; in text, the driver's UTF-8 encoding turns them into U+FFFD, so a key would come back
 * changed). One refused value in a batched statement fails the whole batch, other jobs' writes
 * with it, so such text is stopped here, before it reaches a store: refused where the caller can
 * fix it (keys, reasons, names and filters: text columns), made storable where it must be kept
 * anyway (an attempt's error: jsonb). Payloads, progress and results are refused too (encodeJson),
 * one rule on both stores; since migration 6 they are json on PostgreSQL, which would keep them.
 */
import type { SerializedError } from '../errors.ts';

/** ES2024's well-formedness methods (Node 20 has them; the ES2023 lib, kept so as not to promise Node 22's APIs, does not type them). */
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };

/** What makes `s` unstorable, or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\0')) return 'a NUL character (\\u0000)';
  if (!(s as Es2024String).isWellFormed()) return 'an unpaired UTF-16 surrogate';
  return null;
}

/** `s` with each NUL and unpaired surrogate replaced by U+FFFD: for text that is kept whatever it holds. */
export function storableText(s: string): string {
  return textProblem(s) === null ? s : (s.replaceAll('\0', '\uFFFD') as Es2024String).toWellFormed();
}

/**
 * The escapes of JSON text (as JSON.stringify writes it) that PostgreSQL's jsonb refuses: \u0000
 * and a lone surrogate (JSON.stringify escapes those, lowercase, and writes paired ones as they
 * are). Only after an even run of backslashes: `\\u0000` is an escaped backslash and then text.
 */
const REFUSED_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;

/** Whether JSON text written by JSON.stringify holds an escape PostgreSQL's jsonb refuses. */
export function jsonTextRefused(text: string): boolean {
  // includes() first: it is a fast scan, and almost no text has an escape at all.
  return text.includes('\\u') && REFUSED_ESCAPE.test(text);
}

/**
 * Where in `value` (a value JSON.stringify accepted) the unstorable text is, as a path (`$.a[2]`,
 * `key of $.a` for an object key), and what it is. Walked only once the text was refused, to name
 * the field.
 */
export function findUnstorable(value: unknown, path = '$'): { path: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem === null ? null : { path, problem };
  }
  if (value === null || typeof value !== 'object') return null;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return findUnstorable((json as () => unknown).call(value), path);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = textProblem(k);
    if (keyProblem !== null) return { path: `a key of ${path}`, problem: keyProblem };
    const found = findUnstorable(v, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
    if (found !== null) return found;
  }
  return null;
}

const REFUSED_ESCAPES = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/**
 * An attempt's error as the job's history keeps it. The history must take whatever a handler
 * threw: text is made storable (storableText), and `details` is kept as JSON a store can hold,
 * or as a note saying why it could not be (a bigint, a cycle), rather than fail the write of the
 * outcome, and with it the other outcomes batched with it.
 */
export function storableError(e: SerializedError): SerializedError {
  let details: unknown = e.details;
  if (details !== undefined) {
    try {
      const text = JSON.stringify(details);
      details = text === undefined ? undefined : (JSON.parse(text.replace(REFUSED_ESCAPES, '$1\\ufffd')) as unknown);
    } catch (err) {
      details = `details not JSON-serializable: ${storableText((err as Error).message)}`;
    }
  }
  return {
    name: storableText(e.name),
    code: e.code === undefined ? undefined : storableText(e.code),
    message: storableText(e.message),
    stack: e.stack === undefined ? undefined : storableText(e.stack),
    details,
  };
}
