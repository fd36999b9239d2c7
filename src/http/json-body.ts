/**
 * The only request body parser of the service: JSON, with a nesting limit and no prototype keys.
 *
 * Fastify reads the body (`parseAs: 'string'`) and enforces the byte limit while it arrives: a
 * `Content-Length` over the limit is refused before anything is read, and a chunked body is cut
 * off as soon as it passes the limit, so an oversized body is never held in memory whole.
 *
 * Then, in one pass over the text, the nesting depth is measured before `JSON.parse` sees it (a
 * deeply nested body costs the parser stack and every later walk over the value). Keys that could
 * pollute a prototype when the value is later merged into an object (`__proto__`, or
 * `constructor` holding a `prototype`, the two cases Fastify's secure-json-parse guards against)
 * are refused rather than removed: a request that carries them is not one a client meant to send.
 * `JSON.parse` itself defines such keys as plain own properties, so parsing is safe; the walk
 * that looks for them runs only when the text contains one of the two words, which keeps it off
 * the common path.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.ts';

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The deepest nesting of objects and arrays in a JSON text; strings are skipped. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return max;
}

/** The JSON Pointer of the first prototype-polluting key in `value`, or null. Iterative: depth is already bounded, but no recursion is needed. */
export function forbiddenKey(value: unknown): string | null {
  const stack: Array<{ v: unknown; at: string }> = [{ v: value, at: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, at } = item;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((child, i) => stack.push({ v: child, at: `${at}/${i}` }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      const here = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key === '__proto__') return here;
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return `${here}/prototype`;
      stack.push({ v: child, at: here });
    }
  }
  return null;
}

// A key may be written with escapes (`"\u005f_proto__"`); JSON.parse decodes them, so any
// backslash-u in the text also sends the value through the walk.
const SUSPECT = /__proto__|constructor|\\u/;

/** Parses one JSON request body; throws HttpProblem for what this service refuses. */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  // No body at all (POST /v1/jobs/:id/cancel sent with a JSON content type and nothing else).
  if (text.length === 0) return undefined;
  const depth = jsonDepth(text);
  if (depth > maxDepth) {
    throw new HttpProblem(400, 'OFFLOAD_HTTP_TOO_DEEP', `the JSON body nests ${depth} levels deep; at most ${maxDepth} are accepted`, { maxDepth });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'OFFLOAD_HTTP_MALFORMED_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (SUSPECT.test(text)) {
    const at = forbiddenKey(value);
    if (at !== null) throw new HttpProblem(400, 'OFFLOAD_HTTP_FORBIDDEN_KEY', `the body has a key that could pollute an object prototype, at ${at}`, { pointer: at });
  }
  return value;
}

/**
 * Replaces every body parser of `fastify`'s context with the JSON one. Any other content type is
 * refused by Fastify with 415 before the body is read.
 */
export function registerJsonBody(fastify: FastifyInstance, options: { bodyLimitBytes: number; maxDepth: number }): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_req: FastifyRequest, body: string | Buffer, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8'), options.maxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
