// The agent's link to its coordinator: the AgentClient on the current
// credentials (a dynamic-auth session kept in the state file), the switch to
// the token when a stored session is refused, and calls retried until they
// succeed or the agent stops hard.
import { AgentClient, isProtocolError, linkAbortSignals } from '@gbc/protocol';
import type { AgentCredentials } from '@gbc/protocol';
import type { ResolvedCredentials } from './credentials.js';
import { withRetry } from './retry.js';
import type { RetryPolicy } from './retry.js';
import type { StateFile } from './state-file.js';
import type { AgentTimers } from './timers.js';

/** What the link needs from the agent. */
export interface CoordinatorLinkOptions {
  readonly coordinatorUrl: string;
  readonly credentials: ResolvedCredentials;
  /** Where a new dynamic-auth session is kept for the next run. */
  readonly state: StateFile;
  readonly timers: AgentTimers;
  readonly retry: RetryPolicy;
  /** Aborts every retried call (the agent's hard stop). */
  readonly hardStop: AbortSignal;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The coordinator as the agent's parts reach it. */
export class CoordinatorLink {
  readonly #o: CoordinatorLinkOptions;
  #client: AgentClient;

  constructor(options: CoordinatorLinkOptions) {
    this.#o = options;
    this.#client = this.#clientFor(options.credentials.primary);
  }

  /** The client on the current credentials (a new one after `fallBack`). */
  get client(): AgentClient {
    return this.#client;
  }

  /**
   * After `error` from a call on a stored session: when the coordinator
   * refused the session (unauthorized) and a token is at hand, switches to
   * the token (a new session on the next call) and returns true.
   */
  fallBack(error: unknown): boolean {
    const fallback = this.#o.credentials.fallback;
    if (fallback === undefined || !isProtocolError(error, 'unauthorized')) return false;
    this.#client = this.#clientFor(fallback);
    return true;
  }

  /**
   * Runs `fn` until it succeeds or fails for good (withRetry), logging each
   * retry; stops with the hard stop, or with `signal` when given.
   */
  call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { timers, retry, hardStop } = this.#o;
    if (signal === undefined) return withRetry(fn, timers, retry, hardStop, this.#retrying);
    // Linked for this call only: AbortSignal.any would leave an entry on the long-lived stop signal per call.
    const linked = linkAbortSignals([signal, hardStop]);
    return withRetry(fn, timers, retry, linked.signal, this.#retrying).finally(() => linked.release());
  }

  readonly #retrying = (error: unknown, delayMs: number): void =>
    this.#o.log('coordinator call failed, retrying', { error: String((error as Error).message), delayMs });

  #clientFor(credentials: AgentCredentials): AgentClient {
    const { coordinatorUrl, state } = this.#o;
    return new AgentClient({
      baseUrl: coordinatorUrl,
      credentials,
      onSession: (s) =>
        state.update((st) => ({
          ...st,
          session: { agent: s.agent, password: s.password, coordinator: coordinatorUrl },
        })),
    });
  }
}
