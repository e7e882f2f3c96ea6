// Tells whoever keeps output metadata in memory (the binary cache's narinfo
// cache) that outputs are gone from the datastore. Retention calls `notify`
// after its transaction removed their metadata and waits for it before it
// deletes their files, so nothing in memory still names a file that is about
// to go. Processes sharing a PostgreSQL database tell each other too
// (leadership/cluster.ts): there `notify` resolves once the others are told.

/** Receives the full store paths of removed outputs. */
export type OutputRemovalListener = (storePaths: readonly string[]) => void;

/** The notifier; one per coordinator, in its context. */
export interface OutputRemovals {
  /**
   * Delivers `storePaths` to every listener, synchronously; a failing listener
   * does not stop the others. Resolves once every process that holds outputs in memory is told.
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
      for (const listener of [...listeners]) {
        try {
          listener(storePaths);
        } catch {
          // A listener's fault must not keep the others holding removed outputs.
        }
      }
      return Promise.resolve();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
