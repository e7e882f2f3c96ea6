// What a route is: method, path template, port, auth, schemas, documented errors.
import type { z } from 'zod';
import type { ServerErrorCode } from '../errors.js';

/**
 * Which listener serves a route. `client`: the client API (default
 * 127.0.0.1:8746). `agent`: the agent API and `/metrics` (default 0.0.0.0:8745).
 * `cache`: the binary cache, served on the agent port and optionally on a port of its own.
 */
export type Port = 'client' | 'agent' | 'cache';

/**
 * Who may call a route. `agent`: HTTP Basic `agent-uuid:password`.
 * `client-read` / `client-write`: when client tokens are configured,
 * `Authorization: Bearer <secret>` with scope `read` (read routes only) or
 * `read-write`; without tokens, anyone who reaches the client port. `none`: anyone.
 */
export type Auth = 'none' | 'agent' | 'client-read' | 'client-write';

/** HTTP methods used by the API. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A request body: JSON validated by `schema`, or a raw byte stream (NAR, log, derivation text). */
export type RequestBodySpec =
  | { readonly kind: 'json'; readonly schema: z.ZodType }
  | {
      readonly kind: 'bytes';
      /** Accepted content types. */
      readonly contentTypes: readonly string[];
      /** Request headers that describe the body (lowercase names). */
      readonly headers?: z.ZodObject;
      readonly description: string;
    };

/** A successful response: JSON, no content, raw bytes, or a server-sent event stream. */
export type ResponseSpec =
  | { readonly kind: 'json'; readonly status: 200 | 201; readonly schema: z.ZodType }
  | { readonly kind: 'empty'; readonly status: 204 }
  | {
      readonly kind: 'bytes';
      readonly status: 200;
      readonly contentType: string;
      readonly description: string;
    }
  | { readonly kind: 'sse'; readonly status: 200; readonly event: z.ZodType; readonly description: string };

/** One route of the HTTP API. */
export interface RouteDef {
  /** A stable camelCase identifier: the OpenAPI operationId and the key in `routes`. */
  readonly id: string;
  readonly method: HttpMethod;
  /** Path template in OpenAPI form: `/build/{uuid}/cancel`. */
  readonly path: string;
  /** The Hono path when `{param}` → `:param` is not enough (a parameter with a suffix in its segment). */
  readonly honoPath?: string;
  readonly port: Port;
  readonly auth: Auth;
  readonly summary: string;
  readonly description?: string;
  /** Path parameters; every `{name}` in `path` has a key here. */
  readonly params?: z.ZodObject;
  /** Query parameters (strings in, coerced by the schema). */
  readonly query?: z.ZodObject;
  readonly body?: RequestBodySpec;
  readonly response: ResponseSpec;
  /** Error codes this route may answer besides the common ones (see `routeErrors`). */
  readonly errors: readonly ServerErrorCode[];
}

/** Declares a route, keeping its literal types for typed clients and servers. */
export function defineRoute<const R extends RouteDef>(route: R): R {
  return route;
}

/** The names of the `{param}`s in a path template, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1] as string);
}

/** The route's path for Hono (`/build/:uuid/cancel`). */
export function toHonoPath(route: Pick<RouteDef, 'path' | 'honoPath'>): string {
  return route.honoPath ?? route.path.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, ':$1');
}

/** Fills a path template with percent-encoded values: `fillPath('/build/{uuid}', { uuid })`. */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`fillPath: no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** Every error code a route may answer: its own, plus bad-request/internal/unavailable, plus the auth codes. */
export function routeErrors(route: RouteDef): ServerErrorCode[] {
  const codes = new Set<ServerErrorCode>(['bad-request', ...route.errors, 'internal', 'unavailable']);
  if (route.auth !== 'none') {
    codes.add('unauthorized');
    codes.add('forbidden');
  }
  return [...codes];
}
