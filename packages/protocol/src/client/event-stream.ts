// A reconnecting iterator over GET /events: resumes with Last-Event-ID after a dropped connection.
import { ProtocolError } from '../errors.js';
import { adminRoutes } from '../routes/admin-routes.js';
import { eventSchema } from '../schemas/events.js';
import type { EventsQueryInput, GbcEvent } from '../schemas/events.js';
import type { HttpCore } from './http-core.js';
import { parseSse } from './sse.js';
import { linkAbortSignals } from './abort.js';

/** Options of `CoordinatorClient.events`. */
export interface EventStreamOptions {
  readonly query?: EventsQueryInput;
  /** Resume after this event id (sent as `Last-Event-ID`). */
  readonly lastEventId?: string;
  /** Stops the iteration (the iterator then ends without error). */
  readonly signal?: AbortSignal;
  /** First delay before reconnecting, in ms; doubled on each failure in a row up to `maxReconnectDelayMs`. Default 500; the server's `retry:` overrides it. */
  readonly reconnectDelayMs?: number;
  /** Upper bound of the reconnect delay, in ms; default 30 000. */
  readonly maxReconnectDelayMs?: number;
  /** Give up after this many failed connections in a row (throwing the last error); default unlimited. */
  readonly maxConsecutiveFailures?: number;
  /** Called on each reconnection, with the id it resumes from. */
  readonly onReconnect?: (lastEventId: string | undefined) => void;
}

/**
 * Iterates over live events, reconnecting after the connection drops or fails
 * (network errors, 5xx, end of stream) and resuming with `Last-Event-ID`, so
 * that no event is missed or repeated. 4xx answers (bad query, bad token) end it with their ProtocolError.
 */
export async function* streamEvents(
  core: HttpCore,
  auth: () => string | undefined,
  options: EventStreamOptions = {},
): AsyncGenerator<GbcEvent> {
  let lastId = options.lastEventId;
  let delay = options.reconnectDelayMs ?? 500;
  const maxDelay = options.maxReconnectDelayMs ?? 30_000;
  let failures = 0;
  let first = true;
  const query = { type: options.query?.type, build: options.query?.build, agent: options.query?.agent };
  while (!isAborted(options.signal)) {
    if (!first) options.onReconnect?.(lastId);
    first = false;
    let received = false;
    let lastError: unknown = new ProtocolError(
      'network-error',
      'GET /events: the connection closed before any event',
    );
    // One controller per connection: closing it releases the socket when the consumer stops iterating.
    const connection = new AbortController();
    const linked = linkAbortSignals([options.signal, connection.signal]);
    const signal = linked.signal;
    try {
      const headers: Record<string, string> = lastId === undefined ? {} : { 'last-event-id': lastId };
      const res = await core.send(adminRoutes.events, { query, headers, signal, timeout: false }, auth());
      if (res.body === null)
        throw new ProtocolError('invalid-response', 'GET /events: the answer has no body', {
          status: res.status,
        });
      for await (const msg of parseSse(res.body)) {
        if (msg.retry !== undefined) delay = msg.retry;
        const parsed = eventSchema.safeParse(JSON.parse(msg.data));
        if (!parsed.success)
          throw new ProtocolError(
            'invalid-response',
            `GET /events: an event does not match the protocol: ${parsed.error.issues[0]?.message ?? ''}`,
          );
        received = true;
        failures = 0;
        lastId = msg.id ?? parsed.data.id;
        yield parsed.data;
      }
    } catch (err) {
      if (isAborted(options.signal)) return;
      if (err instanceof ProtocolError && err.status >= 400 && err.status < 500) throw err;
      if (err instanceof ProtocolError && err.code === 'invalid-response') throw err;
      if (err instanceof SyntaxError)
        throw new ProtocolError(
          'invalid-response',
          `GET /events: an event's data is not JSON: ${err.message}`,
          { cause: err },
        );
      lastError = err;
    } finally {
      connection.abort();
      linked.release();
    }
    if (received) continue;
    failures += 1;
    if (options.maxConsecutiveFailures !== undefined && failures >= options.maxConsecutiveFailures)
      throw lastError;
    await wait(delay, options.signal);
    delay = Math.min(maxDelay, Math.max(1, delay * 2));
  }
}

/** Whether the caller asked to stop (a function, so that TypeScript does not narrow it across awaits). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits `ms` or until `signal` aborts. */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
