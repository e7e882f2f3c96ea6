// One abort signal from several, detachable. Not AbortSignal.any: on Node 20
// every call adds an entry, never removed, to each source signal's set of
// dependants (nodejs/node#55351), and an agent hands the same long-lived stop
// signal to every request it makes for months. Here the sources hold one
// listener each until `release()`, the timeout firing or a source aborting.

/** A signal linked to its sources (and optionally a timeout) until released. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Whether it was the timeout that aborted it. */
  timedOut(): boolean;
  /** Detaches from the sources and stops the timeout; the signal keeps its state. Idempotent. */
  release(): void;
}

/**
 * A signal aborted when any of `sources` aborts (with that source's reason) or,
 * if `timeoutMs` is given, after that many ms (with a `TimeoutError`
 * DOMException, as AbortSignal.timeout). Call `release()` once it is no longer needed.
 */
export function linkAbortSignals(
  sources: readonly (AbortSignal | undefined)[],
  timeoutMs?: number,
): LinkedSignal {
  const controller = new AbortController();
  const from = sources.filter((s): s is AbortSignal => s !== undefined);
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const listeners = new Map<AbortSignal, () => void>();
  const release = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.clear();
  };
  const abort = (reason: unknown) => {
    release();
    controller.abort(reason);
  };
  for (const source of from) {
    if (source.aborted) {
      abort(source.reason);
      break;
    }
    const listener = () => abort(source.reason);
    listeners.set(source, listener);
    source.addEventListener('abort', listener, { once: true });
  }
  if (timeoutMs !== undefined && !controller.signal.aborted) {
    timer = setTimeout(() => {
      expired = true;
      abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    // Like AbortSignal.timeout: a pending timeout does not keep the process alive.
    timer.unref();
  }
  return { signal: controller.signal, timedOut: () => expired, release };
}
