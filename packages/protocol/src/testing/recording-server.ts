// A real node:http server for the client tests: records every request and answers with a handler the test sets.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server saw it. `body` is filled once the handler read it with `readBody`. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  body: Buffer | undefined;
}

/** Answers one request. */
export type Handler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => unknown;

/** A running recording server. */
export interface RecordingServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces the handler for the following requests. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** Reads the whole request body and stores it in the record. */
export async function readBody(req: IncomingMessage, recorded: RecordedRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  recorded.body = Buffer.concat(chunks);
  return recorded.body;
}

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts a server on 127.0.0.1 with an ephemeral port. The default handler reads the body and answers 204. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let handler: Handler = async (req, res, rec) => {
    await readBody(req, rec);
    res.writeHead(204).end();
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: undefined,
    };
    requests.push(recorded);
    Promise.resolve(handler(req, res, recorded)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(err) } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (h) => {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
      }),
  };
}
