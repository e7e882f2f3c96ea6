// Tells whoever keeps output metadata in memory (the binary cache's narinfo
// cache) that outputs are gone from the datastore. Retention calls `notify`
// after its transaction removed their metadata and waits for it before it
// deletes their files, so nothing in memory still names a file that is about
// to go. Processes sharing a PostgreSQL database tell each other too
// (leadership/cluster.ts): there `notify` resolves once the others are told.

/**
 * Receives the full store paths of removed outputs; a listener that must tell
 * others (the cache's helper processes) returns a promise of their answer.
 */
export type OutputRemovalListener = (storePaths: readonly string[]) => void | Promise<void>;

/** The notifier; one per coordinator, in its context. */
export interface OutputRemovals {
  /**
   * Delivers `storePaths` to every listener at once; a failing listener does
   * not stop the others. Resolves once every listener is done, so once every
   * process that holds outputs in memory is told.
   */
  notify(storePaths: readonly string[]): Promise<void>;
  /** Adds a listener until the returned function is called. */
  subscribe(listener: OutputRemovalListener): () => void;
}

/** Creates a notifier with no listeners. */
export function createOutputRemovals(): OutputRemovals {
  const listeners = new Set<OutputRemovalListener>();
  return {
    notify(storePaths) {
      if (storePaths.length === 0) return Promise.resolve();
      const pending: Promise<void>[] = [];
      for (const listener of [...listeners]) {
        // A listener's fault must not keep the others holding removed outputs.
        try {
          const told = listener(storePaths);
          if (told !== undefined) pending.push(told.catch(() => undefined));
        } catch {
          // as above
        }
      }
      return Promise.all(pending).then(() => undefined);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
