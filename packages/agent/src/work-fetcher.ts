// The agent's main loop: report status when due, fetch builds while there is
// room, the load allows and nothing forbids it, then wait until the next
// report, the poll interval, or a nudge (a build ended, the agent stopped).
// A coordinator out of reach is waited out; any other failure ends the loop.
import type { AllocatedBuild } from '@gbc/protocol';
import type { CoordinatorLink } from './coordinator-link.js';
import type { BuildWork, HeldBuilds } from './held-builds.js';
import { load1 } from './host-status.js';
import { isTransient } from './retry.js';
import type { BuildOps } from './run-build.js';
import type { StatusReporter } from './status-reporter.js';
import type { AgentTimers } from './timers.js';

/** What the fetcher needs from the agent. */
export interface WorkFetcherOptions {
  readonly link: CoordinatorLink;
  readonly held: HeldBuilds;
  readonly reporter: StatusReporter;
  /** What each fetched build runs. */
  readonly work: BuildWork;
  /** What the agent learnt about its daemon: fetched closures, and whether imports are refused. */
  readonly buildOps: BuildOps;
  readonly maxAllocatedBuilds: number;
  readonly maxLoad1: number;
  readonly systems: readonly string[];
  /** The longest wait between turns, in ms. */
  readonly pollIntervalMs: number;
  readonly timers: AgentTimers;
  /** Set by a stop: fetch nothing more; the loop ends once nothing is held. */
  readonly stopping: AbortSignal;
  /** Set by a hard stop: the loop ends once the aborted builds have let go. */
  readonly hardStop: AbortSignal;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** Runs the loop; `wake` cuts its wait short. */
export class WorkFetcher {
  readonly #o: WorkFetcherOptions;
  #wake: () => void = () => undefined;

  constructor(options: WorkFetcherOptions) {
    this.#o = options;
  }

  /** Ends the current wait at once (a build ended, the agent stopped). */
  wake(): void {
    this.#wake();
  }

  /**
   * Turns until the agent stopped and holds nothing (or stopped hard and its
   * builds let go). Rejects with the first failure that is not transient.
   */
  async run(): Promise<void> {
    const { stopping, hardStop, held } = this.#o;
    while (!stopping.aborted || held.size > 0) {
      if (hardStop.aborted && held.size === 0) break;
      if (await this.#turn()) continue;
      await this.#wait();
    }
  }

  /** Reports if due and fetches if it may; true when builds came (turn again at once). */
  async #turn(): Promise<boolean> {
    const { reporter, log } = this.#o;
    try {
      await reporter.reportIfDue();
      const fetched = await this.#fetch();
      if (fetched.length === 0) return false;
      reporter.busy();
      return true;
    } catch (error) {
      if (!isTransient(error)) throw error;
      log('coordinator unreachable', { error: String((error as Error).message) });
      reporter.unreachable();
      return false;
    }
  }

  /** Fetches and starts as many builds as there is room for, when it may. */
  async #fetch(): Promise<readonly AllocatedBuild[]> {
    const { link, held, work, buildOps, systems } = this.#o;
    const room = this.#o.maxAllocatedBuilds - held.size;
    if (!this.#mayFetch(room)) return [];
    // Once builds go through BuildDerivation, each comes with its own closure: a request less per build.
    const got = await link.client.fetchBuilds({
      count: Math.floor(room),
      systems: [...systems],
      closures: buildOps.basic === true ? 'own' : 'none',
    });
    for (const b of got.builds) held.start(b, work);
    return got.builds;
  }

  /** Whether to fetch with `room` free: not stopping, active, imports taken, load within the limit. */
  #mayFetch(room: number): boolean {
    const { stopping, reporter, buildOps, maxLoad1, log } = this.#o;
    const load = load1();
    if (load > maxLoad1 && room >= 1)
      log('load above the limit: fetching nothing', { load1: load, maxLoad1 });
    // After the daemon refused the agent's key (run-build.ts), nothing more is fetched.
    return (
      !stopping.aborted &&
      reporter.active &&
      buildOps.importsRefused === undefined &&
      room >= 1 &&
      load <= maxLoad1
    );
  }

  /** Waits until the next report is due (at most the poll interval), a wake or a stop. */
  async #wait(): Promise<void> {
    const { stopping, timers, reporter, pollIntervalMs } = this.#o;
    const waitMs = Math.max(0, Math.min(pollIntervalMs, reporter.dueInMs()));
    const woken = new AbortController();
    this.#wake = () => woken.abort();
    const onStop = (): void => woken.abort();
    stopping.addEventListener('abort', onStop, { once: true });
    await timers.sleep(waitMs, woken.signal).catch(() => undefined);
    stopping.removeEventListener('abort', onStop);
  }
}
