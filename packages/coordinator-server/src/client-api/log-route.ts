// `GET /build/{uuid}/log`: the log of an attempt (default the latest),
// uncompressed, live or sealed. With `follow=true` a live log is streamed as
// it grows (checked every `pollMs`) until the attempt's log is sealed or the
// client goes away.
import { Readable } from 'node:stream';
import { showBuild } from '@gbc/datastore';
import { buildRoutes } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { logKey, type LogStore } from '../storage/index.js';

/** Mounts the log route on `app`; `pollMs` (default 250) paces a followed live log. */
export function mountLogRoute(app: Hono<{ Variables: object }>, ctx: CoordinatorContext, pollMs = 250): void {
  mountRoute(app, buildRoutes.buildLog, async (c, { params, query }) => {
    const build = await showBuild(ctx.datastore.db, params.uuid.toLowerCase());
    if (build === undefined) throw notFound('build', params.uuid.toLowerCase());
    const wanted = query.attempt?.toLowerCase();
    const attempt =
      wanted === undefined
        ? build.attempts[build.attempts.length - 1]
        : build.attempts.find((a) => a.uuid === wanted);
    if (attempt === undefined)
      throw notFound(
        query.attempt === undefined ? 'attempt of build' : 'attempt',
        query.attempt ?? params.uuid.toLowerCase(),
      );
    const key = logKey(build.id, attempt.id);
    const reading = await ctx.storage.logs.read(key);
    if (reading === null) throw notFound('log of attempt', `${params.uuid.toLowerCase()} #${attempt.id}`);
    const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Gbc-Log-Live': String(reading.live) };
    if (!reading.live || query.follow !== true)
      return new Response(Readable.toWeb(reading.stream) as ReadableStream<Uint8Array>, {
        status: 200,
        headers,
      });
    return new Response(
      Readable.toWeb(
        Readable.from(follow(ctx.storage.logs, key, reading.stream, pollMs, c.req.raw.signal)),
      ) as ReadableStream<Uint8Array>,
      { status: 200, headers },
    );
  });
}

/** The bytes of a live log from the start, then what is appended, until it is sealed. */
async function* follow(
  logs: LogStore,
  key: string,
  first: Readable,
  pollMs: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let stream = first;
  let live = true;
  while (!signal.aborted) {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      offset += chunk.byteLength;
      yield new Uint8Array(chunk);
    }
    if (!live) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // The listener goes when the timer fires: a log followed for hours adds none per poll.
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', wake);
        resolve();
      }, pollMs);
      signal.addEventListener('abort', wake, { once: true });
    });
    const next = await logs.read(key, offset);
    if (next === null) return;
    stream = next.stream;
    live = next.live;
  }
}
