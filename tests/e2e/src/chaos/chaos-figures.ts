// The figures of a chaos run — actions of each kind, builds, attempts and
// how they ended, duplicate successes, hook runs, and how long the farm took
// to finish after the last disruption — and their text form.
import type { BuildDetail } from '@gbc/protocol';
import type { ChaosLog } from './chaos-actions.js';
import { ACTION_KINDS, type ActionKind } from './chaos-plan.js';

/** The figures of one run. */
export interface ChaosFigures {
  readonly seed: number;
  readonly database: string;
  readonly agents: number;
  readonly derivations: number;
  readonly actions: Readonly<Record<ActionKind, number>>;
  readonly pausesPastLease: number;
  readonly builds: number;
  readonly succeeded: number;
  readonly attempts: number;
  /** Attempts ended because a status report showed the agent no longer held the build. */
  readonly released: number;
  /** Attempts ended by lease expiry. */
  readonly leaseExpired: number;
  readonly setupFailures: number;
  /** Other unsuccessful attempts (infrastructure failures for other reasons, build failures, …). */
  readonly otherFailures: number;
  /** Successful attempts beyond the first, over all builds. */
  readonly duplicateSuccesses: number;
  /** Hook runs for build-success, and how many of them ran an event again. */
  readonly hookRuns: number;
  readonly hookReruns: number;
  readonly unexpectedAgentExits: number;
  readonly chaosSeconds: number;
  /** From the last SIGKILL/SIGSTOP to the end of the last build (null: none, or the farm never finished). */
  readonly lastDisruptionToLastEndSeconds: number | null;
  readonly totalSeconds: number;
  readonly outcome: 'pass' | 'fail';
}

/** Attempt counts of `builds` by how they ended. */
export function attemptFigures(
  builds: readonly BuildDetail[],
): Pick<
  ChaosFigures,
  'attempts' | 'released' | 'leaseExpired' | 'setupFailures' | 'otherFailures' | 'duplicateSuccesses'
> {
  const attempts = builds.flatMap((b) => b.attempts);
  const reason = (prefix: string) =>
    attempts.filter(
      (a) => a.result === 'infrastructure-failure' && (a.failureReason ?? '').startsWith(prefix),
    ).length;
  const released = reason('released');
  const leaseExpired = reason('lease expired');
  const setupFailures = attempts.filter((a) => a.result === 'setup-failure').length;
  const successes = attempts.filter((a) => a.result === 'success').length;
  const ended = attempts.filter((a) => a.result !== null).length;
  const succeededBuilds = builds.filter((b) => b.attempts.some((a) => a.result === 'success')).length;
  return {
    attempts: attempts.length,
    released,
    leaseExpired,
    setupFailures,
    otherFailures: ended - successes - released - leaseExpired - setupFailures,
    duplicateSuccesses: successes - succeededBuilds,
  };
}

/** Seconds from the last disruption to the latest `endedAt` of `builds`, when both exist. */
export function lastDisruptionToLastEnd(
  chaos: ChaosLog,
  builds: readonly BuildDetail[],
  finished: boolean,
): number | null {
  const ends = builds
    .map((b) => (b.endedAt === null ? NaN : Date.parse(b.endedAt)))
    .filter((t) => !Number.isNaN(t));
  if (!finished || chaos.lastDisruptionAt === null || ends.length === 0) return null;
  return round1((Math.max(...ends) - chaos.lastDisruptionAt) / 1000);
}

/** Rounded to a tenth. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The figures as a few lines of text. */
export function formatFigures(f: ChaosFigures): string {
  const actions = ACTION_KINDS.map((k) => `${k} ${f.actions[k]}`).join(', ');
  return [
    `chaos seed ${f.seed} on ${f.database}: ${f.outcome.toUpperCase()}`,
    `  farm: ${f.agents} agents, ${f.derivations} derivations`,
    `  actions: ${actions} (pauses past the lease: ${f.pausesPastLease}) over ${f.chaosSeconds} s`,
    `  builds: ${f.succeeded}/${f.builds} succeeded; duplicate successes: ${f.duplicateSuccesses}`,
    `  attempts: ${f.attempts} (released ${f.released}, lease expired ${f.leaseExpired}, setup failures ${f.setupFailures}, other failures ${f.otherFailures})`,
    `  hook: ${f.hookRuns} build-success runs (${f.hookReruns} again after a crash); unexpected agent exits: ${f.unexpectedAgentExits}`,
    `  last disruption → last build end: ${f.lastDisruptionToLastEndSeconds === null ? 'n/a' : `${f.lastDisruptionToLastEndSeconds} s`}; whole run ${f.totalSeconds} s`,
  ].join('\n');
}
