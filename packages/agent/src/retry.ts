// Retrying calls to the coordinator: bounded, exponential, jittered backoff for
// transient failures (network down, timeouts, 5xx, 429); others pass through.
import { ProtocolError } from '@gbc/protocol';
import { DaemonError } from '@gbc/store';
import { AgentError, isAgentError } from './errors.js';
import type { AgentTimers } from './timers.js';

/** How to retry. */
export interface RetryPolicy {
  /** First delay in ms; default 250. */
  readonly baseMs?: number;
  /** Largest delay in ms; default 30 000. */
  readonly maxMs?: number;
  /** Attempts in all, the first included; default Infinity (until `signal` aborts). */
  readonly attempts?: number;
}

/**
 * True for failures worth retrying: no answer, a timeout, 429, a 5xx answer,
 * or a resumed upload's offset refused (416); from a binary cache, the same
 * (AgentError `source-unavailable`). A daemon's refusal never is.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof DaemonError) return false;
  if (isAgentError(error, 'source-unavailable')) return true;
  if (error instanceof Error && error.name === 'TimeoutError') return true;
  if (error instanceof ProtocolError) {
    // range-not-satisfiable: a resumed upload raced the coordinator still storing the broken one; ask again.
    // request-timeout (408): the coordinator cut a body that idled too long; the upload resumes from what it kept.
    return (
      error.code === 'network-error' ||
      error.code === 'timeout' ||
      error.code === 'range-not-satisfiable' ||
      error.status === 408 ||
      error.status === 429 ||
      error.status >= 500
    );
  }
  // fetch failures that escaped the client's decoding, and broken streams.
  return (
    error instanceof TypeError ||
    (error instanceof Error && /ECONNRE|EPIPE|socket|terminated|other side closed/i.test(error.message))
  );
}

/** The delay before retry number `n` (0-based): full jitter over an exponential ceiling. */
export function backoffDelay(n: number, policy: RetryPolicy, random: () => number): number {
  const base = policy.baseMs ?? 250;
  const ceiling = Math.min(policy.maxMs ?? 30_000, base * 2 ** Math.min(n, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs `fn` until it succeeds, a non-transient error is thrown, the attempts
 * run out (AgentError `retries-exhausted` with the last error as cause) or
 * `signal` aborts (its reason is thrown).
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  timers: AgentTimers,
  policy: RetryPolicy = {},
  signal?: AbortSignal,
  onRetry?: (error: unknown, delayMs: number) => void,
): Promise<T> {
  const attempts = policy.attempts ?? Number.POSITIVE_INFINITY;
  for (let n = 0; ; n++) {
    if (signal?.aborted === true) throw signal.reason;
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (n + 1 >= attempts)
        throw new AgentError(
          'retries-exhausted',
          `gave up after ${n + 1} attempts: ${String((error as Error).message)}`,
          { cause: error },
        );
      const delay = backoffDelay(n, policy, () => timers.random());
      onRetry?.(error, delay);
      await timers.sleep(delay, signal);
    }
  }
}
