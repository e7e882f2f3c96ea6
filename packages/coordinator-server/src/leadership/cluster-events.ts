// The event bus of a coordinator process that shares its database with
// others: what this process publishes goes to its own subscribers and, over
// the cluster channel, to every other process's bus, so an event stream (and
// the listeners inside the process: agent credential caches, hook workers
// waiting for work) sees every event whichever process made it. Ids stay per
// process: a client that reconnects to another process starts from that
// process's ring (Last-Event-ID is a position in one process's ring).
import type { EventBus, EventInput } from '../events/event-bus.js';
import type { ClusterSender } from './cluster-channel.js';

/** The bus, plus delivery of events received from the other processes. */
export interface ClusterEventBus extends EventBus {
  /** Publishes here an event another process published (not sent on again). */
  receive(event: EventInput): void;
}

/** Wraps `local` so that its events reach the other processes through `sender`. */
export function createClusterEventBus(local: EventBus, sender: ClusterSender): ClusterEventBus {
  return {
    publish(input) {
      const event = local.publish(input);
      // The time it was published here, so every process shows the same one.
      sender.send({ t: 'event', event: { ...input, time: event.time } });
      return event;
    },
    receive: (event) => void local.publish(event),
    subscribe: (fromId, listener) => local.subscribe(fromId, listener),
    lastId: () => local.lastId(),
  };
}
