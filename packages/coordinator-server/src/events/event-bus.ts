// In-process bus of live events (build and agent changes) for the SSE stream:
// an in-memory ring of the latest events with increasing sequence ids, so a
// subscriber that reconnects with Last-Event-ID receives what it missed (as
// long as it is still in the ring). Not durable: hooks use the outbox instead.
import type { GbcEvent } from '@gbc/protocol';

/** An event to publish: the bus assigns `id` and, when absent, `time`. */
export type EventInput = Omit<GbcEvent, 'id' | 'time' | 'data'> & { readonly time?: string; readonly data?: Record<string, unknown> };

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
  // Oldest first from `head`; compacted once the dropped prefix is as long as
  // the ring, so publishing stays O(1) (Array#shift is O(n) per event).
  let ring: GbcEvent[] = [];
  let head = 0;
  const listeners = new Set<EventListener>();
  let seq = 0;
  return {
    publish(input) {
      seq += 1;
      const event: GbcEvent = { ...input, id: String(seq), time: input.time ?? new Date(now()).toISOString(), data: input.data ?? {} };
      ring.push(event);
      if (ring.length - head > capacity) head += 1;
      if (head >= capacity) {
        ring = ring.slice(head);
        head = 0;
      }
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
        const from = Number(fromId);
        for (let i = head; i < ring.length; i++) if (Number(ring[i]!.id) > from) listener(ring[i]!);
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lastId: () => String(seq),
  };
}
