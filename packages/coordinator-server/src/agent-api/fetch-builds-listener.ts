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
import type { FrontHandler, RequestObserver } from '../http/front-handler.js';
import { HttpError } from '../http/http-error.js';
import { readIncomingJson } from '../http/json-body.js';
import { errorHeaders, toHttpError } from '../http/on-error.js';
import { check } from '../http/validate.js';
import type { AgentAuthenticator } from './agent-auth.js';
import { fetchBuildsFor } from './fetch-builds.js';

/** Options of {@link createFetchBuildsListener}. */
export interface FetchBuildsListenerOptions {
  /** Whether this process allocates now (PostgreSQL: only the elected scheduler does). */
  readonly serving: () => boolean;
  /** Records a request in the coordinator's metrics. */
  readonly observe?: RequestObserver;
}

const PATH = /^\/agent\/([0-9A-Fa-f-]{36})\/fetch-builds$/;
const ROUTE = toHonoPath(agentRoutes.fetchBuilds);
const JSON_TYPE = 'application/json';

/** Creates the fast path; see the file header. */
export function createFetchBuildsListener(
  ctx: CoordinatorContext,
  authenticator: AgentAuthenticator,
  options: FetchBuildsListenerOptions,
): FrontHandler {
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
    reply(res, start, http.status, JSON.stringify(http.toBody()), fastPathErrorHeaders(http));
  };
  const answer = async (req: IncomingMessage, pathAgent: string): Promise<string> => {
    const agentId = await authenticator.authenticate(req.headers.authorization);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxSize) throw tooLarge(maxSize);
    const params = check('path parameters', agentRoutes.fetchBuilds.params, { uuid: pathAgent });
    const body = check(
      'request body',
      agentRoutes.fetchBuilds.body.schema,
      await readIncomingJson(req, maxSize),
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

/** The headers of an error answer, as every app's onError sends them. */
function fastPathErrorHeaders(http: HttpError): Record<string, string> {
  const headers = errorHeaders(http);
  // A declared body too large is not read (and not drained): the connection ends with the answer.
  if (http.code === 'payload-too-large') headers.Connection = 'close';
  return headers;
}

const tooLarge = (maxSize: number): HttpError =>
  new HttpError('payload-too-large', `the request body is larger than ${maxSize} bytes`);
