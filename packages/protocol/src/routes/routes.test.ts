// The route table is consistent: unique routes per port, parameters with schemas, Hono paths that match.
import { describe, expect, it } from 'vitest';
import { errorStatus } from '../errors.js';
import {
  fillPath,
  pathParamNames,
  routeErrors,
  routeList,
  routes,
  routesForPort,
  toHonoPath,
} from './index.js';

describe('route table', () => {
  it('has one route per method and path on each port, and ids equal to keys', () => {
    const seen = new Set<string>();
    for (const r of routeList) {
      const key = `${r.port} ${r.method} ${r.path}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
    for (const [key, r] of Object.entries(routes)) expect(r.id).toBe(key);
    expect(routeList.length).toBeGreaterThanOrEqual(40);
  });

  it('the agent port and the cache (served on it) do not claim the same method and path', () => {
    const agentSide = [...routesForPort('agent'), ...routesForPort('cache')].map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(new Set(agentSide).size).toBe(agentSide.length);
  });

  it('gives every path parameter a schema, and no schema key without a parameter', () => {
    for (const r of routeList) {
      const names = pathParamNames(r.path);
      const keys = r.params === undefined ? [] : Object.keys(r.params.shape);
      expect(keys.sort(), r.id).toEqual([...names].sort());
    }
  });

  it('puts the agent API under /agent/ and /build/ with agent auth, except the session', () => {
    for (const r of routesForPort('agent')) {
      if (r.id === 'metrics') continue;
      expect(r.path, r.id).toMatch(/^\/(agent|build|derivation)\//);
      expect(r.auth, r.id).toBe(r.id === 'agentSession' ? 'none' : 'agent');
    }
    for (const r of routesForPort('client'))
      expect(['client-read', 'client-write', 'none'], r.id).toContain(r.auth);
    for (const r of routesForPort('cache')) expect(r.auth).toBe('none');
  });

  it('reads with GET and writes with client-write', () => {
    for (const r of routesForPort('client')) {
      if (r.auth === 'none') continue;
      if (r.method !== 'GET') expect(r.auth, r.id).toBe('client-write');
    }
  });

  it('documents known error codes, auth codes on authenticated routes', () => {
    for (const r of routeList) {
      const codes = routeErrors(r);
      for (const c of codes) expect(Object.keys(errorStatus)).toContain(c);
      if (r.auth !== 'none')
        expect(codes, r.id).toEqual(expect.arrayContaining(['unauthorized', 'forbidden']));
      else expect(codes.includes('forbidden'), r.id).toBe(false);
    }
    expect(routeErrors(routes.uploadOutput)).toEqual(
      expect.arrayContaining(['hash-mismatch', 'range-not-satisfiable', 'payload-too-large']),
    );
  });

  it('turns templates into Hono paths and fills them with encoded values', () => {
    expect(toHonoPath(routes.cancelBuild)).toBe('/build/:uuid/cancel');
    expect(toHonoPath(routes.uploadOutput)).toBe('/build/:uuid/output/:name');
    expect(toHonoPath(routes.narinfo)).toMatch(/^\/:hash\{.*\\\.narinfo\}$/);
    expect(fillPath(routes.narinfo.path, { hash: 'abc' })).toBe('/abc.narinfo');
    expect(fillPath('/x/{a}', { a: 'a b/c' })).toBe('/x/a%20b%2Fc');
    expect(() => fillPath('/x/{a}', {})).toThrow(/no value for \{a\}/);
  });

  it('validates path parameters: a narinfo hash keeps or drops its suffix, uuids must be uuids', () => {
    expect(
      routes.narinfo.params.safeParse({ hash: '0123456789abcdfghijklmnpqrsvwxyz.narinfo' }).success,
    ).toBe(true);
    expect(routes.narinfo.params.safeParse({ hash: '0123456789abcdefghijklmnpqrsvwxy' }).success).toBe(false);
    expect(routes.getBuild.params.safeParse({ uuid: 'nope' }).success).toBe(false);
    expect(
      routes.derivationLog.params.safeParse({ drv: '0123456789abcdfghijklmnpqrsvwxyz-x.drv' }).success,
    ).toBe(true);
    expect(routes.derivationLog.params.safeParse({ drv: '0123456789abcdfghijklmnpqrsvwxyz-x' }).success).toBe(
      false,
    );
  });
});
