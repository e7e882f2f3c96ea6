// Reading a raw request body with a size limit, and as a stream for uploads.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { HttpError } from '../http/http-error.js';

/** Reads the whole body of `request`, refusing more than `maxBytes` with 413 `payload-too-large`. */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyStream(request)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** The body of `request` as an async iterable of chunks (empty when there is none). */
export function bodyStream(request: Request): AsyncIterable<Uint8Array> {
  if (request.body === null) return Readable.from([]);
  return Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError('payload-too-large', `the request body is larger than ${maxBytes} bytes`);
}
