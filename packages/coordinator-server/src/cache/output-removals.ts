// Tells whoever keeps output metadata in memory (the binary cache's narinfo
// cache) that outputs are gone from the datastore. Retention calls `notify`
// after its transaction removed their metadata and before it deletes their
// files, so nothing in memory still names a file that is about to go.

/** Receives the full store paths of removed outputs. */
export type OutputRemovalListener = (storePaths: readonly string[]) => void;

/** The notifier; one per coordinator, in its context. */
export interface OutputRemovals {
  /** Delivers `storePaths` to every listener, synchronously; a failing listener does not stop the others. */
  notify(storePaths: readonly string[]): void;
  /** Adds a listener until the returned function is called. */
  subscribe(listener: OutputRemovalListener): () => void;
}

/** Creates a notifier with no listeners. */
export function createOutputRemovals(): OutputRemovals {
  const listeners = new Set<OutputRemovalListener>();
  return {
    notify(storePaths) {
      if (storePaths.length === 0) return;
      for (const listener of [...listeners]) {
        try {
          listener(storePaths);
        } catch {
          // A listener's fault must not keep the others holding removed outputs.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
