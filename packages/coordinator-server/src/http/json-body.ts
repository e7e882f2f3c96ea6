// Reading a JSON request body cheaply. Under @hono/node-server the request
// arrives as a lightweight object; touching `c.req.raw.body` or `c.req.json()`
// builds a full fetch `Request` with a web stream around the socket, which
// costs more than the rest of a small call (fetch-builds, status). When the
// Node request is at hand and unread, its bytes are read directly, within the
// size limit; otherwise (app.request() in tests, another runtime) through Hono.
import { IncomingMessage } from 'node:http';
import type { Context, Env } from 'hono';
import { HttpError } from './http-error.js';

/** The Node request behind `c`, if the app runs under @hono/node-server and nobody read the body yet. */
export function unreadIncoming<E extends Env>(c: Context<E>): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage && !incoming.readableDidRead ? incoming : undefined;
}

/** The request body parsed as JSON, at most `maxSize` bytes (413 beyond); throws HttpError 400 on bad JSON. */
export async function readJsonBody<E extends Env>(c: Context<E>, maxSize: number): Promise<unknown> {
  const incoming = unreadIncoming(c);
  return parseJsonBody(
    await readBodyText(() => (incoming === undefined ? c.req.text() : readAll(incoming, maxSize))),
  );
}

/** An unread Node request's body parsed as JSON, as {@link readJsonBody} (the fast paths in front of Hono). */
export async function readIncomingJson(incoming: IncomingMessage, maxSize: number): Promise<unknown> {
  return parseJsonBody(await readBodyText(() => readAll(incoming, maxSize)));
}

async function readBodyText(read: () => Promise<string>): Promise<string> {
  try {
    return await read();
  } catch (cause) {
    if (cause instanceof HttpError) throw cause;
    throw new HttpError('bad-request', 'invalid request body: it could not be read', { cause });
  }
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new HttpError(
      'bad-request',
      'invalid request body: expected JSON (Content-Type: application/json)',
      { cause },
    );
  }
}

/** The whole body of an unread Node request as UTF-8 text, at most `maxSize` bytes (HttpError 413 beyond). */
export function readAll(incoming: IncomingMessage, maxSize: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxSize) {
        incoming.removeAllListeners('data');
        incoming.resume();
        reject(new HttpError('payload-too-large', `the request body is larger than ${maxSize} bytes`));
        return;
      }
      parts.push(chunk);
    });
    incoming.once('end', () => resolve(Buffer.concat(parts, size).toString('utf8')));
    incoming.once('error', reject);
  });
}
