// The coordinator's HTTP servers, made one way for every listener (listen.ts)
// and for the binary cache's helper processes (cache/cache-process.ts): a
// fast path first, then a Hono app through @hono/node-server, with the
// timeouts of request-timeouts.ts.
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { FrontHandler } from '../http/front-handler.js';
import { armBodyIdleTimeout, serverOptionsFor } from './request-timeouts.js';
import type { RequestTimeouts } from './request-timeouts.js';

/** A Hono app's fetch. */
export type Fetch = (req: Request) => Response | Promise<Response>;

/**
 * An HTTP server (not yet listening) answering through `front` first, then
 * `fetch` (Hono), with the timeouts of request-timeouts.ts: every listener of
 * the coordinator and of the cache's helper processes is made here.
 */
export function createHttpServer(
  fetch: Fetch,
  timeouts: RequestTimeouts | undefined,
  front?: FrontHandler,
): Server {
  const server = createAdaptorServer({
    fetch,
    serverOptions: serverOptionsFor(timeouts),
    createServer: withFront(front),
  }) as Server;
  armBodyIdleTimeout(server, timeouts);
  return server;
}

/** node:http's createServer with `front` answering first (the cache's fast path); Hono gets what it leaves. */
function withFront(front: FrontHandler | undefined): typeof createServer {
  const make = (options: ServerOptions, listener: RequestListener) =>
    createServer(
      options,
      front === undefined ? listener : (req, res) => front(req, res) || void listener(req, res),
    );
  return make as typeof createServer;
}
