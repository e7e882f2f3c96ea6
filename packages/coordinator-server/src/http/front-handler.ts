// Fast paths placed in front of the Hono apps on a port (coordinator/listen.ts):
// the binary cache's and fetch-builds'. Each answers the requests it knows
// straight from Node's request and response and leaves the rest to Hono.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers the request and returns true, or returns false (untouched) for the next handler. */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Records a request in the coordinator's request metrics; `route` is the Hono pattern, as the metrics middleware labels it. */
export type RequestObserver = (method: string, route: string, status: number, seconds: number) => void;
