/**
 * Request validation from the route schemas, independent of the host application's ajv settings.
 *
 * Why not Fastify's default validator: it uses the host instance's ajv options, which by default
 * remove unknown properties silently (`removeAdditional: true`) and coerce types. A typo such as
 * `delay` instead of `delayMs` would then be dropped and the job would run at once. The routes of
 * this service must refuse such a request the same way whether it runs standalone or mounted in a
 * user's app, so the plugin sets this compiler on its own encapsulated context.
 *
 * It implements the subset of JSON Schema the route schemas use, and refuses any other keyword
 * when the schema is compiled (at startup), so a schema can never claim a check that is not made.
 * Query strings, path parameters and headers arrive as strings: integers and booleans are parsed
 * there, and an array accepts repeated keys or one comma-separated value. Bodies are never coerced.
 */

export interface ValidationIssue {
  /** JSON Pointer (RFC 6901) into the validated part, e.g. `/payloads/2`. Empty for the whole part. */
  pointer: string;
  message: string;
}

export type JsonSchema = Record<string, unknown>;
type Check = (value: unknown, pointer: string, issues: ValidationIssue[]) => unknown;

const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default', '$id', 'deprecated', 'readOnly', 'writeOnly']);
const KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'items',
  'minItems',
  'maxItems',
  'format',
]);
const TYPES = new Set(['string', 'integer', 'number', 'boolean', 'object', 'array', 'null']);
// RFC 3339 date-time, as JSON Schema's `format: date-time` defines it (offset required).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * Whether `v` is an RFC 3339 date-time of a real calendar date. The ranges are checked here:
 * Date.parse rolls an impossible date over (2030-02-31 became 2030-03-03, 24:00 the next day), so a
 * mistyped time would be stored as another one instead of refused.
 */
export function isDateTime(v: string): boolean {
  const m = DATE_TIME.exec(v);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return false;
  if (m[8] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  return Number.isFinite(Date.parse(v));
}

/** Appends one segment to a JSON Pointer, escaping `~` and `/`. */
export function pointerTo(base: string, segment: string | number): string {
  return `${base}/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const t = typeOf(value);
  return t === type || (type === 'number' && t === 'integer');
}

/** Parses a string the way a query string, parameter or header means it, for the given types. */
function coerce(value: unknown, types: readonly string[]): unknown {
  if (typeof value !== 'string') {
    // A repeated query key gives an array; for a scalar schema only one value is meaningful.
    if (Array.isArray(value) && !types.includes('array') && value.length === 1) return coerce(value[0], types);
    return value;
  }
  if (types.includes('string')) return value;
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (types.includes('array')) return value === '' ? [] : value.split(',');
  return value;
}

function compileNode(schema: JsonSchema, where: string, coerceStrings: boolean): Check {
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key)) throw new Error(`validator: unsupported schema keyword '${key}' at ${where || '/'}`);
  }
  const rawType = schema['type'];
  const types = rawType === undefined ? [] : Array.isArray(rawType) ? (rawType as string[]) : [rawType as string];
  for (const t of types) if (!TYPES.has(t)) throw new Error(`validator: unknown type '${t}' at ${where || '/'}`);
  const checks: Check[] = [];

  const en = schema['enum'] as unknown[] | undefined;
  if (en !== undefined) {
    checks.push((v, p, issues) => {
      if (!en.includes(v)) issues.push({ pointer: p, message: `must be one of ${en.map((e) => JSON.stringify(e)).join(', ')}` });
      return v;
    });
  }

  const pattern = schema['pattern'] === undefined ? undefined : new RegExp(schema['pattern'] as string, 'u');
  const minLength = schema['minLength'] as number | undefined;
  const maxLength = schema['maxLength'] as number | undefined;
  const format = schema['format'] as string | undefined;
  if (format !== undefined && format !== 'date-time') throw new Error(`validator: unsupported format '${format}' at ${where || '/'}`);
  if (pattern !== undefined || minLength !== undefined || maxLength !== undefined || format !== undefined) {
    checks.push((v, p, issues) => {
      if (typeof v !== 'string') return v;
      if (minLength !== undefined && v.length < minLength) issues.push({ pointer: p, message: `must have at least ${minLength} characters` });
      if (maxLength !== undefined && v.length > maxLength) issues.push({ pointer: p, message: `must have at most ${maxLength} characters` });
      if (pattern !== undefined && !pattern.test(v)) issues.push({ pointer: p, message: `must match ${pattern.source}` });
      if (format === 'date-time' && !isDateTime(v)) {
        issues.push({ pointer: p, message: 'must be an RFC 3339 date-time, e.g. 2030-01-01T00:00:00Z' });
      }
      return v;
    });
  }

  const minimum = schema['minimum'] as number | undefined;
  const maximum = schema['maximum'] as number | undefined;
  if (minimum !== undefined || maximum !== undefined) {
    checks.push((v, p, issues) => {
      if (typeof v !== 'number') return v;
      if (minimum !== undefined && v < minimum) issues.push({ pointer: p, message: `must be >= ${minimum}` });
      if (maximum !== undefined && v > maximum) issues.push({ pointer: p, message: `must be <= ${maximum}` });
      return v;
    });
  }

  const properties = (schema['properties'] as Record<string, JsonSchema> | undefined) ?? {};
  const propChecks = new Map(Object.entries(properties).map(([k, s]) => [k, compileNode(s, pointerTo(where, k), coerceStrings)]));
  const required = (schema['required'] as string[] | undefined) ?? [];
  for (const r of required) if (!propChecks.has(r)) throw new Error(`validator: required '${r}' has no schema at ${where || '/'}`);
  const additional = schema['additionalProperties'];
  if (additional !== undefined && typeof additional !== 'boolean') throw new Error(`validator: additionalProperties must be a boolean at ${where || '/'}`);
  if (schema['properties'] !== undefined || schema['required'] !== undefined || additional !== undefined) {
    checks.push((v, p, issues) => {
      if (typeOf(v) !== 'object') return v;
      const obj = v as Record<string, unknown>;
      let out = obj;
      for (const r of required) if (!Object.hasOwn(obj, r)) issues.push({ pointer: pointerTo(p, r), message: 'is required' });
      for (const key of Object.keys(obj)) {
        const check = propChecks.get(key);
        if (check === undefined) {
          if (additional === false) issues.push({ pointer: pointerTo(p, key), message: `is not a known property${suggest(key, [...propChecks.keys()])}` });
          continue;
        }
        const before = obj[key];
        const after = check(before, pointerTo(p, key), issues);
        // Copy on write: coercion must not mutate what the caller passed (the parsed query string).
        if (after !== before) {
          if (out === obj) out = { ...obj };
          out[key] = after;
        }
      }
      return out;
    });
  }

  const items = schema['items'] as JsonSchema | undefined;
  const itemCheck = items === undefined ? undefined : compileNode(items, `${where}/items`, coerceStrings);
  const minItems = schema['minItems'] as number | undefined;
  const maxItems = schema['maxItems'] as number | undefined;
  if (itemCheck !== undefined || minItems !== undefined || maxItems !== undefined) {
    checks.push((value, p, issues) => {
      if (!Array.isArray(value)) return value;
      const v = value as unknown[];
      if (minItems !== undefined && v.length < minItems) issues.push({ pointer: p, message: `must have at least ${minItems} items` });
      if (maxItems !== undefined && v.length > maxItems) {
        // Past the limit, checking every item would only cost time on a request already refused.
        issues.push({ pointer: p, message: `must have at most ${maxItems} items` });
        return v;
      }
      if (itemCheck === undefined) return v;
      let out = v;
      v.forEach((item, i) => {
        const after = itemCheck(item, pointerTo(p, i), issues);
        if (after !== item) {
          if (out === v) out = [...v];
          out[i] = after;
        }
      });
      return out;
    });
  }

  return (value, pointer, issues) => {
    const v = coerceStrings && types.length > 0 ? coerce(value, types) : value;
    if (types.length > 0 && !types.some((t) => matchesType(v, t))) {
      issues.push({ pointer, message: `must be ${types.join(' or ')}, got ${typeOf(v)}` });
      return v;
    }
    let out = v;
    for (const check of checks) out = check(out, pointer, issues);
    return out;
  };
}

function suggest(key: string, known: string[]): string {
  const lower = key.toLowerCase();
  const close = known.find((k) => k.toLowerCase() === lower || k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  return close === undefined ? '' : ` (did you mean '${close}'?)`;
}

/** The error a compiled validator reports; Fastify hands it to the error handler with `validationContext`. */
export class RequestValidationError extends Error {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.pointer || '(root)'} ${i.message}`).join('; '));
    this.name = 'RequestValidationError';
    this.issues = issues;
  }
}

/**
 * Compiles a schema into a function returning the (possibly coerced) value, or the issues.
 * @example
 * const check = compileSchema({ type: 'integer', minimum: 1 }, { coerceStrings: true })
 * check('5') // { value: 5 }
 */
export function compileSchema(schema: JsonSchema, options: { coerceStrings: boolean }): (value: unknown) => { value: unknown } | { issues: ValidationIssue[] } {
  const check = compileNode(schema, '', options.coerceStrings);
  return (value) => {
    const issues: ValidationIssue[] = [];
    const out = check(value, '', issues);
    return issues.length > 0 ? { issues } : { value: out };
  };
}

/** A Fastify validator compiler built on `compileSchema`. Bodies are never coerced. */
export function validatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }): (data: unknown) => { value?: unknown; error?: Error } {
  const check = compileSchema(schema as JsonSchema, { coerceStrings: httpPart !== 'body' });
  return (data) => {
    const r = check(data);
    return 'issues' in r ? { error: new RequestValidationError(r.issues) } : { value: r.value };
  };
}
