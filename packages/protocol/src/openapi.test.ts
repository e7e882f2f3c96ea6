// The OpenAPI document lists every route and every $ref resolves.
import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from './openapi.js';
import { routeList } from './routes/index.js';

type Json = Record<string, unknown>;

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('createOpenApiDocument', () => {
  const doc = createOpenApiDocument({ version: '1.2.3', serverUrls: ['http://127.0.0.1:8746'] });
  const paths = doc.paths as Record<string, Record<string, Json>>;

  it('is OpenAPI 3.1 and survives JSON', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((doc.info as Json).version).toBe('1.2.3');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('contains every route, with its path parameters', () => {
    for (const r of routeList) {
      const op = paths[r.path]?.[r.method.toLowerCase()] as
        { 'x-gbc-operations': string[]; tags: string[]; parameters?: Json[] } | undefined;
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op!['x-gbc-operations']).toContain(r.id);
      expect(op!.tags).toContain(r.port);
      const pathParams = (op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      for (const name of r.path.matchAll(/\{(\w+)\}/g)) expect(pathParams, r.id).toContain(name[1]);
    }
  });

  it('resolves every $ref to a component', () => {
    const schemas = (doc.components as { schemas: Json }).schemas;
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });

  it('documents JSON bodies, upload headers, errors and the SSE resume header', () => {
    const submit = paths['/builds']!.post as Json;
    expect(collectRefs(submit.requestBody)).toEqual(['#/components/schemas/SubmitBuildRequest']);
    const upload = paths['/build/{uuid}/output/{name}']!.put as { parameters: Json[]; responses: Json };
    expect(upload.parameters.map((p) => `${String(p.in)}:${String(p.name)}`)).toEqual(
      expect.arrayContaining(['header:x-gbc-nar-hash', 'query:offset']),
    );
    expect(String((upload.responses['400'] as Json).description)).toContain('hash-mismatch');
    expect(String((upload.responses['401'] as Json).description)).toContain('unauthorized');
    const log = paths['/build/{uuid}/log']!.put as { parameters: Json[] };
    expect(log.parameters.map((p) => `${String(p.in)}:${String(p.name)}`)).toContain('query:offset');
    expect(collectRefs(paths['/build/{uuid}/log-progress']!.get)).toContain(
      '#/components/schemas/LogUploadProgress',
    );
    const events = paths['/events']!.get as { parameters: Json[] };
    expect(events.parameters.map((p) => p.name)).toContain('Last-Event-ID');
  });

  it('has unique operation ids, responses everywhere and required path parameters', () => {
    const ops = Object.values(paths).flatMap((item) => Object.values(item)) as {
      operationId: string;
      responses: Json;
      parameters?: Json[];
    }[];
    const ids = ops.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of ops) {
      expect(Object.keys(op.responses).length, op.operationId).toBeGreaterThan(1);
      for (const p of op.parameters ?? [])
        if (p.in === 'path') expect(p.required, `${op.operationId} ${String(p.name)}`).toBe(true);
      for (const p of op.parameters ?? []) expect(['path', 'query', 'header']).toContain(p.in);
    }
    const sse = (paths['/events']!.get as { responses: Record<string, { content: Record<string, Json> }> })
      .responses['200']!.content['text/event-stream']!;
    expect(sse['x-gbc-event-schema']).toEqual({ $ref: '#/components/schemas/Event' });
  });

  it('can be restricted to one port', () => {
    const agentDoc = createOpenApiDocument({ ports: ['agent'] });
    const ops = Object.values(agentDoc.paths as Record<string, Record<string, Json>>).flatMap((item) =>
      Object.values(item),
    );
    expect(ops.length).toBe(routeList.filter((r) => r.port === 'agent').length);
    expect(ops.every((op) => (op.tags as string[]).includes('agent'))).toBe(true);
  });
});
