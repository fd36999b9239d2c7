/**
 * The OpenAPI 3.1 document, generated from the routes as they are registered: their schemas
 * (which also validate requests and serialize responses), summaries and required scopes. Nothing
 * is written by hand, so the document cannot drift from what the server does.
 */
import type { RouteOptions } from 'fastify';
import type { Scope } from './auth.ts';
import { jobSchema } from './job-view.ts';
import { problemSchema } from './problem-schema.ts';
import type { JsonSchema } from './validator.ts';

/** Schemas published once under components/schemas, recognised by their `properties` object. */
const COMPONENTS = new Map<unknown, { name: string; schema: JsonSchema }>([
  [jobSchema['properties'], { name: 'Job', schema: jobSchema }],
  [problemSchema['properties'], { name: 'Problem', schema: problemSchema }],
]);

const NOT_SCHEMA = new Set(['operationId', 'summary', 'description', 'tags']);

function toSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as JsonSchema;
  const component = COMPONENTS.get(s['properties']);
  if (component !== undefined) {
    // Only annotations may differ from the component (a response's own description).
    return s['description'] !== undefined && s['description'] !== component.schema['description']
      ? { $ref: `#/components/schemas/${component.name}`, description: s['description'] }
      : { $ref: `#/components/schemas/${component.name}` };
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as JsonSchema).map(([p, ps]) => [p, toSchema(ps)])) : toSchema(v)]));
}

/** `/v1/jobs/:id` -> `/v1/jobs/{id}`; Fastify's escaped colon `::` is a literal `:`. */
export function openApiPath(url: string): string {
  return url
    .replaceAll('::', '\u0000')
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
    .replaceAll('\u0000', ':');
}

function parameters(schema: unknown, where: 'path' | 'query' | 'header'): unknown[] {
  const s = schema as JsonSchema | undefined;
  if (s === undefined) return [];
  const required = new Set((s['required'] as string[] | undefined) ?? []);
  return Object.entries((s['properties'] as Record<string, JsonSchema> | undefined) ?? {}).map(([name, p]) => {
    const { description, ...rest } = p;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: toSchema(rest),
      // Arrays in the query string are comma-separated (repeated keys are accepted too).
      ...(rest['type'] === 'array' ? { style: 'form', explode: false } : {}),
    };
  });
}

function responses(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries((schema as Record<string, JsonSchema> | undefined) ?? {})) {
    const description = (r['description'] as string | undefined) ?? 'OK';
    if (r['content'] !== undefined) {
      const content = Object.fromEntries(Object.entries(r['content'] as Record<string, { schema: unknown }>).map(([type, c]) => [type, { schema: toSchema(c.schema) }]));
      out[status] = { description, content };
    } else if (r['type'] === 'null') out[status] = { description };
    else out[status] = { description, content: { 'application/json': { schema: toSchema(r) } } };
  }
  return out;
}

export class OpenApiCollector {
  readonly #routes: Array<{ route: RouteOptions; scope: Scope | null }> = [];
  readonly #scopeOf: (route: RouteOptions) => Scope | null;
  #document: object | null = null;

  constructor(scopeOf: (route: RouteOptions) => Scope | null) {
    this.#scopeOf = scopeOf;
  }

  /** For an onRoute hook. Routes without a schema (HEAD twins) are left out. */
  add(route: RouteOptions): void {
    if (route.schema === undefined || route.method === 'HEAD' || (Array.isArray(route.method) && route.method.includes('HEAD'))) return;
    this.#routes.push({ route, scope: this.#scopeOf(route) });
    this.#document = null;
  }

  /** The document (built once, on first use). */
  document(info: { title: string; version: string; securityEnabled: boolean }): object {
    if (this.#document !== null) return this.#document;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { route, scope } of this.#routes) {
      const s = route.schema as Record<string, unknown>;
      const op: Record<string, unknown> = {};
      for (const key of NOT_SCHEMA) if (s[key] !== undefined) op[key] = s[key];
      const params = [...parameters(s['params'], 'path'), ...parameters(s['querystring'], 'query'), ...parameters(s['headers'], 'header')];
      if (params.length > 0) op['parameters'] = params;
      if (s['body'] !== undefined) {
        const body = s['body'] as JsonSchema;
        const optional = Array.isArray(body['type']) && body['type'].includes('null');
        op['requestBody'] = { required: !optional, content: { 'application/json': { schema: toSchema(body) } } };
      }
      op['responses'] = responses(s['response']);
      op['security'] = scope === null || !info.securityEnabled ? [] : [{ apiToken: [scope] }];
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const path = (paths[openApiPath(route.url)] ??= {});
      for (const m of methods) path[m.toLowerCase()] = op;
    }
    this.#document = {
      openapi: '3.1.0',
      info: {
        title: info.title,
        version: info.version,
        description: 'Submit, follow and control background jobs. Errors are RFC 9457 problem details with a stable `code`.',
      },
      paths,
      components: {
        schemas: Object.fromEntries([...COMPONENTS.values()].map((c) => [c.name, toSchema({ ...c.schema, properties: c.schema['properties'] === undefined ? undefined : { ...(c.schema['properties'] as object) } })])),
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'An API token; its scopes (read, submit, admin) decide the routes it may use.' },
        },
      },
    };
    return this.#document;
  }
}
