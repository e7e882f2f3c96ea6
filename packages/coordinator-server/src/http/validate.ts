// One validation path for every route: `mountRoute(app, route, handler)`
// registers a route of @gbc/protocol's table on a Hono app, limits JSON
// bodies to `limits.jsonBodyBytes` (hono/body-limit, 413 payload-too-large),
// and hands the handler its params, query and JSON body already parsed by the
// route's own zod schemas (a failure is a 400 bad-request carrying the
// schema's message, through onError). Byte bodies (NARs, logs) are left to
// the handler as a stream: `c.req.raw.body`.
import type { Context, Env, Handler, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { fromZodError, toHonoPath } from '@gbc/protocol';
import type { RouteDef } from '@gbc/protocol';
import { HttpError } from './http-error.js';
import { readJsonBody, unreadIncoming } from './json-body.js';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives, typed from the route definition. */
export interface RouteInput<R extends RouteDef> {
  readonly params: Out<R['params']>;
  readonly query: Out<R['query']>;
  readonly body: R['body'] extends { readonly kind: 'json'; readonly schema: infer S } ? Out<S> : undefined;
}

/** A route handler: the Hono context (for headers, raw body, responses) and the parsed input. */
export type RouteHandler<R extends RouteDef, E extends Env = Env> = (
  c: Context<E>,
  input: RouteInput<R>,
) => Response | Promise<Response>;

/** Default size limit of JSON request bodies: 16 MiB. */
export const DEFAULT_JSON_BODY_BYTES = 16 * 1024 * 1024;

/** Options of {@link mountRoute}. */
export interface MountOptions<E extends Env = Env> {
  /** Largest JSON body accepted, in bytes. Default {@link DEFAULT_JSON_BODY_BYTES}. */
  readonly jsonBodyBytes?: number;
  /** Middlewares to run before validation (authentication). */
  readonly before?: readonly MiddlewareHandler<E>[];
}

/** Registers `route` on `app` with validation and the body limit; see the file header. */
export function mountRoute<R extends RouteDef, E extends Env = Env>(
  app: Hono<E>,
  route: R,
  handler: RouteHandler<R, E>,
  options: MountOptions<E> = {},
): void {
  const middlewares: MiddlewareHandler<E>[] = [...(options.before ?? [])];
  const maxSize = options.jsonBodyBytes ?? DEFAULT_JSON_BODY_BYTES;
  if (route.body?.kind === 'json') {
    const tooLarge = (): never => {
      throw new HttpError('payload-too-large', `the request body is larger than ${maxSize} bytes`);
    };
    const limit = bodyLimit({ maxSize, onError: tooLarge });
    // A declared length is checked here; a Node request is limited while parseInput reads it.
    middlewares.push(async (c, next) => {
      const declared = c.req.header('content-length');
      if (declared !== undefined && c.req.header('transfer-encoding') === undefined)
        return Number(declared) > maxSize ? tooLarge() : next();
      return unreadIncoming(c) !== undefined ? next() : limit(c, next);
    });
  }
  const path = toHonoPath(route);
  const final: Handler<E> = async (c) => handler(c, await parseInput(c, route, maxSize));
  app.on([route.method], [path], ...middlewares, final);
}

/** Parses a request's params, query and JSON body against `route`'s schemas; throws HttpError 400. */
export async function parseInput<R extends RouteDef, E extends Env = Env>(
  c: Context<E>,
  route: R,
  maxBodyBytes: number = DEFAULT_JSON_BODY_BYTES,
): Promise<RouteInput<R>> {
  const params =
    route.params === undefined ? undefined : check('path parameters', route.params, c.req.param());
  const query = route.query === undefined ? undefined : check('query', route.query, queryObject(c));
  let body: unknown;
  if (route.body?.kind === 'json')
    body = check('request body', route.body.schema, await readJsonBody(c, maxBodyBytes));
  return { params, query, body } as RouteInput<R>;
}

/** Validates `value` with `schema`, turning failure into a 400 naming `where`. */
export function check<S extends z.ZodType>(where: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const p = fromZodError(where, r.error);
  throw new HttpError('bad-request', p.message, { details: p.details, cause: r.error });
}

/** Query parameters as an object: one value → string, repeated → string[]. */
function queryObject<E extends Env>(c: Context<E>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(c.req.queries())) out[k] = v.length === 1 ? (v[0] as string) : v;
  return out;
}
