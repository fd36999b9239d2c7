/**
 * Payloads, results and progress are stored as JSON. Encoding happens once, at the edge, with a
 * size limit; a canonical form (sorted keys) fingerprints payloads for idempotency checks.
 */
import { OffloadError, type ErrorCode } from '../errors.ts';
import { findUnstorable, jsonTextRefused } from './storable-text.ts';

/** JSON text of `value`, or a typed error naming `what` when it cannot be stored or is over `maxBytes`. */
export function encodeJson(value: unknown, what: string, maxBytes: number, code: ErrorCode): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (cause) {
    throw new OffloadError('OFFLOAD_INVALID_PAYLOAD', `${what} is not JSON-serializable: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) throw new OffloadError('OFFLOAD_INVALID_PAYLOAD', `${what} is not JSON-serializable`);
  if (jsonTextRefused(text)) {
    const at = findUnstorable(value);
    const where = at === null ? '' : ` at ${at.path}`;
    throw new OffloadError('OFFLOAD_INVALID_PAYLOAD', `${what} holds ${at?.problem ?? 'text no store can keep'}${where}; PostgreSQL cannot store it`, {
      details: { path: at?.path ?? null },
    });
  }
  // Fast path: JSON text is at most 3 bytes per UTF-16 unit, so short text cannot be over.
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new OffloadError(code, `${what} is ${bytes} bytes, over the limit of ${maxBytes} bytes`, { details: { bytes, maxBytes } });
  }
  return text;
}

/** JSON with object keys sorted at every depth: equal for payloads that differ only in key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    // No prototype: on a plain object, assigning an own '__proto__' key (JSON.parse makes them) would
    // call the prototype setter and drop the key, so payloads differing there would fingerprint alike.
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v).toSorted()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
