// Status reports, the agent's half of the reconcile contract: each report
// lists every build the agent holds (running, or its result on the way), which
// renews their leases; the answer names the ones to abort (canceled, or no
// longer the agent's) and whether the agent may fetch work. Reports come often
// while builds are held, so that a cancel reaches a running build soon; idle,
// a third of the lease keeps the agent alive.
import type { StatusResponse } from '@gbc/protocol';
import type { CoordinatorLink } from './coordinator-link.js';
import type { HeldBuilds } from './held-builds.js';
import { freeDiskBytes, load1 } from './host-status.js';
import type { AgentTimers } from './timers.js';

/** Status report interval while builds are held, in ms: how soon a cancel reaches a running build. */
export const BUSY_STATUS_INTERVAL_MS = 3_000;
/** Status report interval while idle, in ms (or a third of the lease, when shorter). */
const IDLE_STATUS_INTERVAL_MS = 60_000;
/** The interval before the first answer, in ms. */
const FIRST_STATUS_INTERVAL_MS = 20_000;

/** What the reporter needs from the agent. */
export interface StatusReporterOptions {
  readonly link: CoordinatorLink;
  readonly held: HeldBuilds;
  /** Builds whose result is on its way: still the agent's (ResultDelivery.inFlight). */
  readonly delivering: () => Iterable<string>;
  readonly systems: readonly string[];
  /** Where free disk is measured. */
  readonly stateDir: string;
  /** A fixed interval in ms, for tests; default: from the lease and whether builds are held. */
  readonly statusIntervalMs?: number;
  /** The longest wait for a report after a failed call, in ms. */
  readonly pollIntervalMs: number;
  readonly timers: AgentTimers;
  /** Set once the agent stops: reports say it is draining. */
  readonly stopping: AbortSignal;
}

/** Sends status reports when they are due and applies the answers. */
export class StatusReporter {
  readonly #o: StatusReporterOptions;
  #active = true;
  #next = 0;
  #intervalMs: number;
  #drainNoted = false;

  constructor(options: StatusReporterOptions) {
    this.#o = options;
    this.#intervalMs = options.statusIntervalMs ?? FIRST_STATUS_INTERVAL_MS;
  }

  /** False once the coordinator said an operator deactivated the agent: fetch nothing. */
  get active(): boolean {
    return this.#active;
  }

  /** The interval the last answer set, in ms. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Milliseconds until the next report is due (0 or less: due now). */
  dueInMs(): number {
    return this.#next - this.#o.timers.now();
  }

  /** Reports when due. The first call after the agent stopped reports at once, to say it is draining. */
  async reportIfDue(): Promise<void> {
    if (this.#o.stopping.aborted && !this.#drainNoted) {
      this.#drainNoted = true;
      this.#next = 0;
    }
    if (this.#o.timers.now() < this.#next) return;
    this.#apply(await this.#send());
    this.#next = this.#o.timers.now() + this.#intervalMs;
  }

  /** Builds were just fetched: the next report comes at the busy pace, not the idle one. */
  busy(): void {
    if (this.#o.statusIntervalMs === undefined)
      this.#next = Math.min(this.#next, this.#o.timers.now() + BUSY_STATUS_INTERVAL_MS);
  }

  /** A call to the coordinator failed: report again soon (within the poll interval). */
  unreachable(): void {
    this.#next = this.#o.timers.now() + Math.min(this.#intervalMs, this.#o.pollIntervalMs);
  }

  /** Sends one report; a refused stored session gives way to the token once. */
  async #send(): Promise<StatusResponse> {
    const { link, held, delivering, systems, stateDir, stopping } = this.#o;
    const report = {
      load1: load1(),
      freeDiskBytes: await freeDiskBytes(stateDir),
      builds: [...new Set([...held.ids(), ...delivering()])],
      systems: [...systems],
      draining: stopping.aborted,
    };
    try {
      return await link.client.reportStatus(report);
    } catch (error) {
      if (!link.fallBack(error)) throw error;
      return await link.client.reportStatus(report);
    }
  }

  /** Takes the answer: whether to fetch, the next interval, the builds to abort. */
  #apply(answer: StatusResponse): void {
    const { held, statusIntervalMs } = this.#o;
    this.#active = answer.active;
    const leaseThird = (answer.leaseSeconds * 1000) / 3;
    const pace = held.size > 0 ? BUSY_STATUS_INTERVAL_MS : IDLE_STATUS_INTERVAL_MS;
    this.#intervalMs = statusIntervalMs ?? Math.min(pace, leaseThird);
    for (const id of answer.canceledBuilds) held.abort(id, 'canceled');
    for (const id of answer.unknownBuilds) held.abort(id, 'lease-lost');
  }
}
