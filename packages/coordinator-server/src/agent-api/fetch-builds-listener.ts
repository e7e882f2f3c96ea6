// fetch-builds' fast path: a Node request listener placed in front of the Hono
// apps on the agent port (coordinator/listen.ts), as the binary cache's is,
// that answers `POST /agent/{uuid}/fetch-builds` straight from the Node
// request and response. Agents make this call more than any other, and a
// profile of the coordinator under the fetch-builds benchmark found a quarter
// of its CPU in Hono's routing, its fetch Request/Headers/Response objects and
// the middleware chain around a handler that needs none of them. The checks
// are the route's own: the same authenticator (cache, limits), the route's
// zod schemas, the same body limit, the same error bodies. Anything else (a
// query string, percent-encoding, another method; a process that does not
// schedule, whose Hono front forwards the call) is left to Hono.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { agentRoutes, toHonoPath } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { readAll } from '../http/json-body.js';
import { toHttpError } from '../http/on-error.js';
import { check } from '../http/validate.js';
import type { AgentAuthenticator } from './agent-auth.js';
import { fetchBuildsFor } from './fetch-builds.js';

/** Answers the request and returns true, or returns false (untouched) for the next listener. */
export type AgentRequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Options of {@link createFetchBuildsListener}. */
export interface FetchBuildsListenerOptions {
  /** Whether this process allocates now (PostgreSQL: only the elected scheduler does). */
  readonly serving: () => boolean;
  /** Records a request in the coordinator's metrics (`route` labelled as the Hono pattern). */
  readonly observe?: (method: string, route: string, status: number, seconds: number) => void;
}

const PATH = /^\/agent\/([0-9A-Fa-f-]{36})\/fetch-builds$/;
const ROUTE = toHonoPath(agentRoutes.fetchBuilds);
const JSON_TYPE = 'application/json';

/** Creates the fast path; see the file header. */
export function createFetchBuildsListener(
  ctx: CoordinatorContext,
  authenticator: AgentAuthenticator,
  options: FetchBuildsListenerOptions,
): AgentRequestHandler {
  const maxSize = ctx.config.jsonBodyBytes;
  const reply = (res: ServerResponse, start: number, status: number, body: string, headers = {}) => {
    options.observe?.('POST', ROUTE, status, (performance.now() - start) / 1000);
    res.writeHead(status, {
      ...headers,
      'Content-Type': JSON_TYPE,
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, start: number, error: unknown) => {
    const http = toHttpError(error);
    if (http.status >= 500)
      ctx.logger.error('request failed', {
        method: req.method,
        path: req.url,
        code: http.code,
        error: String(error),
      });
    if (res.headersSent) return void res.destroy();
    reply(res, start, http.status, JSON.stringify(http.toBody()), errorHeaders(http));
  };
  const answer = async (req: IncomingMessage, pathAgent: string): Promise<string> => {
    const agentId = await authenticator.authenticate(req.headers.authorization);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxSize) throw tooLarge(maxSize);
    const params = check('path parameters', agentRoutes.fetchBuilds.params, { uuid: pathAgent });
    const body = check(
      'request body',
      agentRoutes.fetchBuilds.body.schema,
      parseJson(await read(req, maxSize)),
    );
    return JSON.stringify(await fetchBuildsFor(ctx, agentId, params.uuid, body));
  };
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const path = PATH.exec(req.url ?? '');
    if (path === null || !options.serving()) return false;
    const start = performance.now();
    answer(req, path[1]!).then(
      (body) => reply(res, start, 200, body),
      (error: unknown) => fail(req, res, start, error),
    );
    return true;
  };
}

/** Headers an error answer carries, as the Hono apps' onError sends them. */
function errorHeaders(http: HttpError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (http.code === 'unauthorized') headers['WWW-Authenticate'] = 'Basic realm="gbc"';
  const retryAfter = (http.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (http.code === 'too-many-requests' && typeof retryAfter === 'number')
    headers['Retry-After'] = String(retryAfter);
  // A declared body too large is not read (and not drained): the connection ends with the answer.
  if (http.code === 'payload-too-large') headers.Connection = 'close';
  return headers;
}

async function read(req: IncomingMessage, maxSize: number): Promise<string> {
  try {
    return await readAll(req, maxSize);
  } catch (cause) {
    if (cause instanceof HttpError) throw cause;
    throw new HttpError('bad-request', 'invalid request body: it could not be read', { cause });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new HttpError(
      'bad-request',
      'invalid request body: expected JSON (Content-Type: application/json)',
      {
        cause,
      },
    );
  }
}

const tooLarge = (maxSize: number): HttpError =>
  new HttpError('payload-too-large', `the request body is larger than ${maxSize} bytes`);
