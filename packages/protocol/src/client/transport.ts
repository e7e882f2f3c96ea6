// HTTP/1.1 requests over node:http(s) with keep-alive, for the typed clients.
// Not fetch: on Node 20 its web-standard machinery (Request and Response
// objects, web streams, an abort signal per call) cost an agent about 300 µs
// of CPU per call against 40 µs here, and an agent makes several calls per
// build. Bodies are strings, bytes, or streams (sent chunked); answers are
// Node readables, decoded when the server chose a Content-Encoding.
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** A request body: text or bytes (sent with a length), or a stream of chunks (sent chunked, read once). */
export type TransportBody = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** One request. */
export interface TransportRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: TransportBody;
  readonly signal?: AbortSignal;
}

/** An answer whose body is still to be read. */
export interface TransportAnswer {
  readonly status: number;
  /** Made when first asked for: most callers read only the status and body. */
  readonly headers: Headers;
  /** The body, decoded (Content-Encoding) when the server encoded it. */
  readonly body: Readable;
}

// Sockets are kept between calls (an agent calls its coordinator several times
// a second); idle ones do not keep the process alive (Node unrefs them).
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * Sends a request and resolves when the answer's head arrives. A request
 * without a streamed body is sent once more when a kept-alive socket turns
 * out to have been closed by the server before it answered.
 */
export async function sendRequest(url: string, request: TransportRequest): Promise<TransportAnswer> {
  const replayable = isWhole(request.body);
  try {
    return await attempt(url, request);
  } catch (error) {
    if (!replayable || !(error instanceof StaleSocketError) || request.signal?.aborted === true)
      throw unwrap(error);
    return attempt(url, request).catch((again: unknown) => {
      throw unwrap(again);
    });
  }
}

/** A body sent in one piece with its length (and so sendable again), as opposed to a stream. */
function isWhole(body: TransportBody | undefined): body is string | Uint8Array | undefined {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** A kept-alive socket that was closed before any answer: safe to send again on a fresh one. */
class StaleSocketError extends Error {}

function unwrap(error: unknown): unknown {
  return error instanceof StaleSocketError ? error.cause : error;
}

function attempt(url: string, request: TransportRequest): Promise<TransportAnswer> {
  const target = new URL(url);
  const protocol = target.protocol;
  if (protocol !== 'http:' && protocol !== 'https:')
    return Promise.reject(new Error(`unsupported URL scheme ${protocol} (http: or https:)`));
  const headers: Record<string, string | number> = { ...request.headers };
  const body = request.body;
  if (typeof body === 'string') headers['content-length'] = Buffer.byteLength(body);
  else if (body instanceof Uint8Array) headers['content-length'] = body.byteLength;
  else if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD')
    headers['content-length'] = 0;
  return new Promise<TransportAnswer>((resolve, reject) => {
    const module = protocol === 'https:' ? https : http;
    const req = module.request(target, {
      method: request.method,
      headers,
      agent: agents[protocol],
      signal: request.signal,
    });
    let answered = false;
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return; // the answer's body reports it
      reject(
        req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')
          ? new StaleSocketError(error.message, { cause: error })
          : error,
      );
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      let headers: Headers | undefined;
      resolve({
        status: res.statusCode ?? 0,
        get headers() {
          return (headers ??= headersOf(res));
        },
        body: decoded(res),
      });
    });
    if (isWhole(body)) {
      req.end(body);
      return;
    }
    const source =
      body instanceof ReadableStream
        ? Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)
        : Readable.from(body, { objectMode: false });
    // A body that fails aborts the request (its error is the request's); the
    // server may answer (and refuse) before the body is sent in full.
    pipeline(source, req).catch((error: unknown) => {
      if (!answered)
        reject(error instanceof Error ? error : new Error(`the request body failed: ${String(error)}`));
    });
  });
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let k = 0; k + 1 < raw.length; k += 2) headers.append(raw[k]!, raw[k + 1]!);
  return headers;
}

function decoded(res: IncomingMessage): Readable {
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (decoder === undefined) return res;
  pipeline(res, decoder).catch(() => undefined); // the decoder reports the error to its reader
  return decoder;
}

/** Reads a whole body. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Reads and drops the rest of a body, so that its socket can serve the next call. */
export async function discard(body: Readable): Promise<void> {
  body.resume();
  if (body.readableEnded) return;
  await new Promise<void>((resolve) => {
    body.once('end', resolve);
    body.once('error', () => resolve());
    body.once('close', resolve);
  });
}
