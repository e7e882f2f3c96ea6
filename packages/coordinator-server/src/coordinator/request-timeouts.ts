// Timeouts of the coordinator's HTTP listeners. Node cuts any request not
// fully received within 5 minutes (`requestTimeout`) with a bare 408, and a
// build's live log or a large NAR routinely takes longer. Here a request may
// take as long as it needs while its body keeps arriving: the whole-request
// bound is off, the headers must still arrive within `headersMs` (slowloris),
// and a body that makes no progress for `bodyIdleMs` is refused with a JSON
// 408 `request-timeout` and its connection closed (an interrupted upload is
// kept and may be resumed). Responses are not bounded: `/events` and a
// followed log stay open as long as their client reads.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpError } from '../http/http-error.js';

/** Timeouts of every listener, in ms. */
export interface RequestTimeouts {
  /** Time to receive a request's headers. Default 60 000 (Node's). */
  readonly headersMs?: number;
  /** Longest time a request body may make no progress. Default 120 000. */
  readonly bodyIdleMs?: number;
}

/** The options for `http.createServer`: no whole-request bound, the headers bound, checked often enough to honour it. */
export function serverOptionsFor(timeouts: RequestTimeouts = {}): ServerOptions {
  const headersMs = timeouts.headersMs ?? 60_000;
  return {
    requestTimeout: 0,
    headersTimeout: headersMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersMs / 4))),
  };
}

/** Arms the body-idle timeout on `server` (made with {@link serverOptionsFor}); see the file header. */
export function armBodyIdleTimeout(server: Server, timeouts: RequestTimeouts = {}): void {
  const idleMs = timeouts.bodyIdleMs ?? 120_000;
  const inFlight = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const exchange = { req, res };
    inFlight.set(req.socket, exchange);
    res.once('close', () => {
      if (inFlight.get(req.socket) === exchange) inFlight.delete(req.socket);
    });
  });
  // With a listener, Node destroys no socket on its timeout any more: this
  // does. A socket with no request in flight timed out as an idle connection
  // (or, after a response, as a keep-alive one: Node times those with the same
  // timer) and goes, as Node would; a request fully received whose answer is
  // slow or long (/events, a followed log) stays.
  server.setTimeout(idleMs, (socket: Socket) => {
    const exchange = inFlight.get(socket);
    if (exchange === undefined) {
      socket.destroy();
      return;
    }
    if (exchange.req.complete) return;
    const { req, res } = exchange;
    if (res.headersSent) {
      socket.destroy();
      return;
    }
    // The handler reading the body fails with this error (an upload keeps what
    // came) and answers it as a JSON 408 on a connection that then closes; the
    // error is handed to the body's readers rather than destroying the request,
    // which would take the socket and the answer with it. A body nobody reads,
    // or a handler that does not answer, loses its socket.
    const error = new HttpError(
      'request-timeout',
      `the request body made no progress for ${idleMs / 1000} s; an interrupted upload is kept: ask for its progress and resume it`,
    );
    res.setHeader('Connection', 'close');
    if (req.listenerCount('error') > 0) req.emit('error', error);
    else socket.destroy();
    setTimeout(() => socket.destroy(), idleMs).unref();
  });
}
