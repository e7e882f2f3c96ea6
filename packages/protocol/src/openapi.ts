// Builds the OpenAPI 3.1 document from the route table and the named schemas.
import { z } from 'zod';
import { errorBodySchema, errorStatus } from './errors.js';
import { routeErrors, routeList } from './routes/index.js';
import type { Port, RouteDef } from './routes/index.js';
import { schemaRegistry } from './schemas/registry.js';

type Json = Record<string, unknown>;
const REF = '#/components/schemas/';

/** Converts a schema to JSON Schema, named schemas as `$ref`s into components (collected in `components`). */
function toSchema(schema: z.ZodType, components: Record<string, unknown>): Json {
  const out = z.toJSONSchema(schema, {
    metadata: schemaRegistry,
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  const defs = (out.$defs ?? {}) as Record<string, Json>;
  delete out.$defs;
  delete out.$schema;
  for (const [id, def] of Object.entries(defs)) components[id] ??= rewriteRefs(def);
  const id = schemaRegistry.get(schema)?.id;
  if (id !== undefined) {
    components[id] ??= rewriteRefs(out);
    return { $ref: REF + id };
  }
  return rewriteRefs(out) as Json;
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
        ? REF + v.slice('#/$defs/'.length)
        : rewriteRefs(v);
  }
  return out;
}

function parameters(route: RouteDef, components: Record<string, unknown>): Json[] {
  const list: Json[] = [];
  for (const where of ['path', 'query'] as const) {
    const obj = where === 'path' ? route.params : route.query;
    if (obj === undefined) continue;
    const js = toSchema(obj, components) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      list.push({
        name,
        in: where,
        required: where === 'path' || (js.required ?? []).includes(name),
        schema,
      });
    }
  }
  if (route.body?.kind === 'bytes' && route.body.headers !== undefined) {
    const js = toSchema(route.body.headers, components) as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      list.push({ name, in: 'header', required: (js.required ?? []).includes(name), schema });
    }
  }
  if (route.response.kind === 'sse')
    list.push({ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } });
  return list;
}

function operation(route: RouteDef, components: Record<string, unknown>): Json {
  const op: Json = {
    operationId: route.id,
    summary: route.summary,
    tags: [route.port],
    'x-gbc-auth': route.auth,
    'x-gbc-operations': [route.id],
  };
  if (route.description !== undefined) op.description = route.description;
  const params = parameters(route, components);
  if (params.length > 0) op.parameters = params;
  if (route.body?.kind === 'json') {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: toSchema(route.body.schema, components) } },
    };
  } else if (route.body?.kind === 'bytes') {
    const content: Json = {};
    for (const t of route.body.contentTypes) content[t] = { schema: { type: 'string', contentMediaType: t } };
    op.requestBody = { required: true, description: route.body.description, content };
  }
  if (route.auth === 'agent') op.security = [{ agentBasic: [] }];
  else if (route.auth !== 'none') op.security = [{ clientBearer: [] }, {}];
  const r = route.response;
  const responses: Json = {};
  if (r.kind === 'json')
    responses[String(r.status)] = {
      description: 'OK',
      content: { 'application/json': { schema: toSchema(r.schema, components) } },
    };
  else if (r.kind === 'empty') responses['204'] = { description: 'Done' };
  else if (r.kind === 'bytes')
    responses['200'] = {
      description: r.description,
      content: { [r.contentType]: { schema: { type: 'string' } } },
    };
  // OpenAPI 3.1 has no way to type the items of a stream: the event schema goes in an extension.
  else
    responses['200'] = {
      description: r.description,
      content: {
        'text/event-stream': {
          schema: { type: 'string' },
          'x-gbc-event-schema': toSchema(r.event, components),
        },
      },
    };
  const errorRef = toSchema(errorBodySchema, components);
  const byStatus = new Map<number, string[]>();
  for (const code of routeErrors(route))
    byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  for (const [status, codes] of byStatus) {
    responses[String(status)] = {
      description: `Error codes: ${codes.join(', ')}`,
      content: { 'application/json': { schema: errorRef } },
    };
  }
  op.responses = responses;
  return op;
}

/** Options of `createOpenApiDocument`. */
export interface OpenApiOptions {
  /** `info.version`; default 0.1.0. */
  readonly version?: string;
  /** `servers[].url`; default none. */
  readonly serverUrls?: readonly string[];
  /** Only the routes of these ports; default every port. */
  readonly ports?: readonly Port[];
}

/**
 * The OpenAPI 3.1 document of the API, as served at `GET /openapi.json`. Each
 * operation is tagged with its port; `x-gbc-auth` gives its auth level and
 * `x-gbc-operations` the route ids it stands for.
 */
export function createOpenApiDocument(options: OpenApiOptions = {}): Json {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Json> = {};
  for (const route of routeList) {
    if (options.ports !== undefined && !options.ports.includes(route.port)) continue;
    const item = (paths[route.path] ??= {});
    const method = route.method.toLowerCase();
    const existing = item[method] as { tags: string[]; 'x-gbc-operations': string[] } | undefined;
    if (existing === undefined) item[method] = operation(route, components);
    else {
      // The same path and method on another port (GET /derivation/{name}): one operation, tagged with both ports.
      existing.tags.push(route.port);
      existing['x-gbc-operations'].push(route.id);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'gbc build coordinator',
      version: options.version ?? '0.1.0',
      description:
        'Client API, agent API and binary cache of gbc. Timestamps are ISO 8601 UTC strings; durations are integer seconds; sizes are bytes.',
    },
    servers: (options.serverUrls ?? []).map((url) => ({ url })),
    tags: [
      { name: 'client', description: 'Client port (default 127.0.0.1:8746)' },
      { name: 'agent', description: 'Agent port (default 0.0.0.0:8745)' },
      { name: 'cache', description: 'Binary cache (agent port, or a port of its own)' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        agentBasic: { type: 'http', scheme: 'basic', description: 'agent-uuid:password' },
        clientBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A client token, when the coordinator is configured with tokens',
        },
      },
    },
  };
}
