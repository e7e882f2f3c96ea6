// Reading a raw request body whole, with a size limit.
import { HttpError } from '../http/http-error.js';
import { requestBody } from '../http/request-body.js';

/** Reads the whole body of `request`, refusing more than `maxBytes` with 413 `payload-too-large`. */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of requestBody(request) as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError('payload-too-large', `the request body is larger than ${maxBytes} bytes`);
}
