// How an agent stops: a graceful stop (SIGTERM) fetches nothing more and lets
// held builds finish within a grace period; a hard stop (a second signal, the
// grace period over, or run() failing) aborts them, and each gives its lease
// back with one last result.
import type { AgentTimers } from './timers.js';

/** The agent's two stop signals and the grace period between them. */
export class AgentStop {
  readonly #stopping = new AbortController();
  readonly #hard = new AbortController();

  /** Aborted by any stop: fetch nothing more. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Aborted by a hard stop: abort what is held, end retries. */
  get hardStop(): AbortSignal {
    return this.#hard.signal;
  }

  /** `graceful` (the default): stop fetching; otherwise stop hard at once too. */
  stop(graceful = true): void {
    if (!this.#stopping.signal.aborted) this.#stopping.abort('stopping');
    if (!graceful) this.stopHard();
  }

  /** Stops hard (once). */
  stopHard(): void {
    if (!this.#hard.signal.aborted) this.#hard.abort('stopping');
  }

  /**
   * Waits for a stop, then `gracePeriodMs` (on `timers`), then stops hard;
   * ends at once when the hard stop comes first (a run that failed stops
   * hard without any stop). A stop that came before the call counts.
   */
  async graceTimer(gracePeriodMs: number, timers: AgentTimers): Promise<void> {
    const stopping = this.#stopping.signal;
    const hard = this.#hard.signal;
    if (!stopping.aborted && !hard.aborted)
      await new Promise<void>((resolve) => {
        stopping.addEventListener('abort', () => resolve(), { once: true });
        hard.addEventListener('abort', () => resolve(), { once: true });
      });
    await timers.sleep(gracePeriodMs, hard).catch(() => undefined);
    this.stopHard();
  }
}
