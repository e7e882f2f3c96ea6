// `GET /events`: the live event bus as server-sent events. A client that
// sends `Last-Event-ID` first receives every held event after that id; comment
// lines keep idle connections open through proxies. Filters by type, build, agent.
// Each subscriber's unsent bytes are bounded: one that stops reading is
// dropped (its stream ends) once it is that far behind, rather than held in
// memory for ever; it resumes where it was with `Last-Event-ID`.
import { adminRoutes, formatSseComment, formatSseMessage } from '@gbc/protocol';
import type { GbcEvent } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { check, mountRoute } from '../http/validate.js';
import { z } from 'zod';

const lastEventIdSchema = z.string().regex(/^[0-9]{1,15}$/, 'expected the decimal id of an event');

/** Unsent bytes a subscriber may fall behind by before it is dropped, by default. */
export const DEFAULT_EVENT_BUFFER_BYTES = 4 << 20;

/**
 * Mounts `GET /events` on `app`; keep-alive comments every `keepAliveMs`
 * (default 15 s); a subscriber more than `bufferBytes` behind is dropped.
 */
export function mountEventsRoute(
  app: Hono<{ Variables: object }>,
  ctx: CoordinatorContext,
  keepAliveMs = 15_000,
  bufferBytes = DEFAULT_EVENT_BUFFER_BYTES,
): void {
  mountRoute(app, adminRoutes.events, (c, { query }) => {
    const header = c.req.header('last-event-id');
    const from =
      header === undefined || header === '' ? null : check('Last-Event-ID header', lastEventIdSchema, header);
    const wanted = (e: GbcEvent): boolean =>
      (query.type.length === 0 || query.type.includes(e.type)) &&
      (query.build === undefined || e.build === query.build) &&
      (query.agent === undefined || e.agent === query.agent);
    const encoder = new TextEncoder();
    let stop = (): void => undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          const send = (text: string): void => {
            try {
              // desiredSize is the queue's room in bytes: negative once the client lags.
              if ((controller.desiredSize ?? 0) < -bufferBytes) {
                stop();
                controller.enqueue(
                  encoder.encode(
                    formatSseComment(
                      'dropped: this subscriber fell too far behind; reconnect with Last-Event-ID',
                    ),
                  ),
                );
                controller.close();
                ctx.logger.warn('event subscriber dropped: it stopped reading', { bufferBytes });
                return;
              }
              controller.enqueue(encoder.encode(text));
            } catch {
              stop();
            }
          };
          // The retry hint and a first comment make the response start at once.
          send(`retry: 3000\n${formatSseComment('connected')}`);
          const unsubscribe = ctx.events.subscribe(from, (e) => {
            if (wanted(e)) send(formatSseMessage({ id: e.id, event: e.type, data: JSON.stringify(e) }));
          });
          const timer = setInterval(() => send(formatSseComment('keep-alive')), keepAliveMs);
          timer.unref();
          stop = () => {
            clearInterval(timer);
            unsubscribe();
          };
          c.req.raw.signal.addEventListener('abort', () => stop(), { once: true });
        },
        cancel() {
          stop();
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      },
    });
  });
}
