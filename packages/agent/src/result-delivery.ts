// Delivering build results: each is kept in the state file until the
// coordinator took it (or refused it for good), retried through outages, and
// given one last try when the agent stops hard: that try is how a forceful
// stop releases a build's lease. A result that cannot be sent stays in the
// state file for the next run.
import type { BuildResultRequest } from '@gbc/protocol';
import type { CoordinatorLink } from './coordinator-link.js';
import { isTransient } from './retry.js';
import type { StateFile } from './state-file.js';

/** What delivery needs from the agent. */
export interface ResultDeliveryOptions {
  readonly link: CoordinatorLink;
  readonly state: StateFile;
  /** The agent's hard stop: retries end, one last try is made. */
  readonly hardStop: AbortSignal;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The agent's results on their way to the coordinator. */
export class ResultDelivery {
  readonly #o: ResultDeliveryOptions;
  readonly #delivering = new Set<string>();

  constructor(options: ResultDeliveryOptions) {
    this.#o = options;
  }

  /** Builds whose result is being delivered: the agent still holds them for the coordinator. */
  inFlight(): string[] {
    return [...this.#delivering];
  }

  /**
   * Records `result` in the state file and sends it at once. Written (synced)
   * and sent together: a crash before the write ends loses the result either
   * way unless the coordinator has it; waiting for the write first only put
   * an fsync before every result.
   */
  recordAndDeliver(build: string, result: BuildResultRequest): Promise<void> {
    return this.deliver(build, result, this.#o.state.addPending({ build, result }));
  }

  /** Delivers the results a previous run left in the state file; resolves once each is settled. */
  async deliverKept(): Promise<void> {
    await Promise.all(this.#o.state.state.pendingResults.map((p) => this.deliver(p.build, p.result)));
  }

  /**
   * Delivers a result (in the state file, or on its way there: `recorded`)
   * until the coordinator answers, then forgets it; a refusal is logged and
   * forgotten too. Stopped hard before an answer, a transient failure keeps it.
   * Never rejects: a state file that cannot be rewritten is logged.
   */
  async deliver(
    build: string,
    result: BuildResultRequest,
    recorded: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    const { log, state } = this.#o;
    this.#delivering.add(build);
    const written = recorded.catch((error: unknown) =>
      log('result not written to the state file', { build, error: String((error as Error).message) }),
    );
    try {
      if (!(await this.#send(build, result))) return; // kept in the state file for the next run
      log('result delivered', { build, result: result.result });
    } catch (error) {
      log('result refused', { build, error: String((error as Error).message) });
    } finally {
      this.#delivering.delete(build);
    }
    await written;
    try {
      await state.removePending(build);
    } catch (error) {
      // Never a lost promise: the result stays in the state file and is offered
      // again at the next start, where the coordinator's answer settles it.
      log('result settled but still in the state file', { build, error: String((error as Error).message) });
    }
  }

  /** Sends until answered; false when the hard stop's last try failed transiently. */
  async #send(build: string, result: BuildResultRequest): Promise<boolean> {
    const { link, hardStop } = this.#o;
    const send = (): Promise<void> => link.client.reportResult(build, result);
    try {
      await link.call(send);
      return true;
    } catch (error) {
      if (!hardStop.aborted) throw error;
    }
    // Stopping hard: one last try (this is how a forceful stop releases leases).
    try {
      await send();
      return true;
    } catch (last) {
      if (isTransient(last)) return false;
      throw last;
    }
  }
}
