// In-process bus of live events (build and agent changes) for the SSE stream:
// an in-memory ring of the latest events with increasing sequence ids, so a
// subscriber that reconnects with Last-Event-ID receives what it missed (as
// long as it is still in the ring). Not durable: hooks use the outbox instead.
import type { GbcEvent } from '@gbc/protocol';

/** An event to publish: the bus assigns `id` and, when absent, `time`. */
export type EventInput = Omit<GbcEvent, 'id' | 'time' | 'data'> & {
  readonly time?: string;
  readonly data?: Record<string, unknown>;
};

/** Receives published events in order. */
export type EventListener = (event: GbcEvent) => void;

/** The live event bus. */
export interface EventBus {
  /** Assigns the next id and delivers the event to every subscriber; returns it. */
  publish(event: EventInput): GbcEvent;
  /**
   * Delivers every held event with id > `fromId` (synchronously, oldest first),
   * then every new one, until the returned function is called. `fromId` null: new events only.
   */
  subscribe(fromId: string | null, listener: EventListener): () => void;
  /** The id of the latest event ('0' before any). */
  lastId(): string;
}

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** Events kept for late subscribers. Default 10000. */
  readonly capacity?: number;
  /** The time of an event without one (ms). Default Date.now. */
  readonly now?: () => number;
}

/** Creates an in-memory event bus; see the file header. */
export function createEventBus(options: EventBusOptions = {}): EventBus {
  const capacity = Math.max(1, options.capacity ?? 10_000);
  const now = options.now ?? Date.now;
  // A circular buffer of what was published (the caller's input and its time);
  // the event itself is made when delivered. A busy coordinator publishes
  // thousands a second, each held for a while: one small object apiece, rather
  // than an event with its strings, is less for every young-generation GC to
  // copy and promote.
  const inputs: (EventInput | undefined)[] = new Array<EventInput | undefined>(capacity);
  const times = new Float64Array(capacity);
  const listeners = new Set<EventListener>();
  let seq = 0;
  // Built field by field: an object spread here sent every event to V8's old
  // generation (measured), thousands a second on a busy coordinator.
  const eventAt = (n: number): GbcEvent => {
    const input = inputs[n % capacity]!;
    const event: { -readonly [K in keyof GbcEvent]: GbcEvent[K] } = {
      type: input.type,
      id: String(n),
      time: input.time ?? new Date(times[n % capacity]!).toISOString(),
      data: input.data ?? {},
    };
    if (input.build !== undefined) event.build = input.build;
    if (input.agent !== undefined) event.agent = input.agent;
    if (input.derivation !== undefined) event.derivation = input.derivation;
    if (input.state !== undefined) event.state = input.state;
    if (input.result !== undefined) event.result = input.result;
    return event;
  };
  return {
    publish(input) {
      seq += 1;
      inputs[seq % capacity] = input;
      times[seq % capacity] = now();
      const event = eventAt(seq);
      for (const l of [...listeners]) {
        try {
          l(event);
        } catch {
          // A failing listener must not stop delivery to the others.
        }
      }
      return event;
    },
    subscribe(fromId, listener) {
      if (fromId !== null) {
        // The oldest still held is seq - capacity + 1; a non-numeric id matches nothing.
        for (let n = Math.max(Number(fromId) + 1, seq - capacity + 1, 1); n <= seq; n++) listener(eventAt(n));
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lastId: () => String(seq),
  };
}
