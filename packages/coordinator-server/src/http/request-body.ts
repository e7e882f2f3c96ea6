// Upload bodies as Node streams, and what a route does with the rest of a body
// it refused: read it (bounded) so a keep-alive connection stays usable, or
// answer `Connection: close`. Without this the node server reads for only
// 500 ms, then drops the socket a keep-alive client goes on to reuse (its next
// request fails with "other side closed").
import { Readable } from 'node:stream';
import type { Context } from 'hono';

/** Bounds of {@link drainBody}. */
export interface DrainLimits {
  /** Most bytes read before giving up. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Longest time spent reading, ms. Default 5000. */
  readonly maxMs?: number;
}

/** The body of `request` as a Node stream (empty when there is none). */
export function requestBody(request: Request): Readable {
  if (request.body === null) return Readable.from([]);
  return Readable.fromWeb(request.body);
}

/** Reads and discards what is left of `body`; true when it ended within the bounds. */
export async function drainBody(body: Readable, limits: DrainLimits = {}): Promise<boolean> {
  if (body.readableEnded) return true;
  if (body.destroyed) return false;
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  let timer: NodeJS.Timeout | undefined;
  const read = (async () => {
    let bytes = 0;
    for await (const chunk of body) {
      bytes += (chunk as Uint8Array).length;
      if (bytes > maxBytes) return false;
    }
    return true;
  })().catch(() => false);
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), limits.maxMs ?? 5000);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs an upload handler that reads `body`; when it throws (a refusal), the
 * rest of the body is drained before the error answer goes out, or the answer
 * says `Connection: close` when the rest is too long or too slow.
 */
export async function drainOnRefusal<T>(
  c: Context,
  body: Readable,
  handle: () => Promise<T>,
  limits?: DrainLimits,
): Promise<T> {
  try {
    return await handle();
  } catch (error) {
    await releaseBody(c, body, limits);
    throw error;
  }
}

/** Drains the unread rest of `body` (an answer that needs none of it); `Connection: close` when that fails. */
export async function releaseBody(c: Context, body: Readable, limits?: DrainLimits): Promise<void> {
  if (!(await drainBody(body, limits))) c.header('Connection', 'close');
}
