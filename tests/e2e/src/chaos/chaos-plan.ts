// The chaos plan: the sequence of disruptive actions a run applies, drawn
// from its seed before anything starts, so that one seed is one sequence
// (SIGKILL of the coordinator, SIGKILL of an agent, SIGSTOP/SIGCONT of an
// agent; each after a pause, each with how long the process stays down).
import type { Prng } from './prng.js';

/** One disruption. Times are in ms; `afterMs` is the wait since the previous action ended. */
export type ChaosAction =
  | { readonly kind: 'kill-coordinator'; readonly afterMs: number; readonly downMs: number }
  | { readonly kind: 'kill-agent'; readonly afterMs: number; readonly agent: number; readonly downMs: number }
  | {
      readonly kind: 'pause-agent';
      readonly afterMs: number;
      readonly agent: number;
      readonly pausedMs: number;
    };

/** The kinds of {@link ChaosAction}, in the order figures list them. */
export const ACTION_KINDS = ['kill-coordinator', 'kill-agent', 'pause-agent'] as const;
/** One of {@link ACTION_KINDS}. */
export type ActionKind = (typeof ACTION_KINDS)[number];

/** What a plan is drawn for. */
export interface PlanShape {
  /** How many actions. */
  readonly actions: number;
  /** How many agents (actions name them 0…agents−1). */
  readonly agents: number;
  /** The coordinator's lease, s. */
  readonly leaseSeconds: number;
  /** Whether some pauses outlast the lease (so that leases expire). */
  readonly pausesPastLease: boolean;
}

/**
 * Draws `shape.actions` actions. Every third one (the 2nd, 5th, …) SIGKILLs
 * an agent, taking the agents in turn: a run always kills agents that hold
 * builds. The others are drawn: a third coordinator kills, the rest agent
 * kills and pauses. 0.5–2.5 s between actions; processes down for 0–2 s;
 * pauses of 0.5–6 s, or with `pausesPastLease` three in ten 1–5 s longer
 * than the lease.
 */
export function planChaos(prng: Prng, shape: PlanShape): ChaosAction[] {
  const plan: ChaosAction[] = [];
  const lease = shape.leaseSeconds * 1000;
  for (let i = 0; i < shape.actions; i++) {
    const afterMs = prng.int(500, 2500);
    const roll = i % 3 === 1 ? 0.5 : prng.next();
    const agent = i % 3 === 1 ? ((i - 1) / 3) % shape.agents : prng.int(0, shape.agents - 1);
    if (roll < 1 / 3) plan.push({ kind: 'kill-coordinator', afterMs, downMs: prng.int(0, 2000) });
    else if (roll < 2 / 3) plan.push({ kind: 'kill-agent', afterMs, agent, downMs: prng.int(0, 2000) });
    else {
      const pausedMs =
        shape.pausesPastLease && prng.next() < 0.3
          ? prng.int(lease + 1000, lease + 5000)
          : prng.int(500, 6000);
      plan.push({ kind: 'pause-agent', afterMs, agent, pausedMs });
    }
  }
  return plan;
}

/** One line per action, for the log of a run. */
export function describeAction(action: ChaosAction): string {
  switch (action.kind) {
    case 'kill-coordinator':
      return `after ${action.afterMs} ms: SIGKILL the coordinator, restart it ${action.downMs} ms later`;
    case 'kill-agent':
      return `after ${action.afterMs} ms: SIGKILL agent ${action.agent}, restart it ${action.downMs} ms later`;
    case 'pause-agent':
      return `after ${action.afterMs} ms: SIGSTOP agent ${action.agent}, SIGCONT ${action.pausedMs} ms later`;
  }
}
