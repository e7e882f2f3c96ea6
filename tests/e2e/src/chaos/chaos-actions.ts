// Applies a chaos plan to a running farm, one action after the other, and
// keeps count: actions of each kind, when the last disruption happened.
// Begins once every agent reported and a build started (agents take seconds
// to start on a loaded machine; killing them before they hold anything shows
// little), goes on
// after an agent's restart once it reports again (an agent killed again and
// again before it is up only looks dead, and its leases simply run out), and
// stops early once every build has ended (nothing left to disrupt). Agents
// that died on their own are started again before each action (and counted
// by the farm), so one crash does not hide what the rest of the run shows.
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTION_KINDS, describeAction, type ActionKind, type ChaosAction } from './chaos-plan.js';
import type { ChaosFarm } from './chaos-farm.js';

/** What applying the plan did. */
export interface ChaosLog {
  /** Actions applied, per kind. */
  readonly applied: Readonly<Record<ActionKind, number>>;
  /** Pauses that outlasted the lease. */
  readonly pausesPastLease: number;
  /** Actions of the plan not applied because the farm had finished. */
  readonly skipped: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** When the last SIGKILL or SIGSTOP was sent (null: none was). */
  readonly lastDisruptionAt: number | null;
}

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

/** True when the coordinator answers and every build has ended. */
async function farmFinished(farm: ChaosFarm): Promise<boolean> {
  if (!farm.coordinator.running) return false;
  try {
    const { builds } = await farm.client.listBuilds({ limit: 1000 }, { signal: AbortSignal.timeout(10_000) });
    return builds.length === farm.buildNodes.size && builds.every((b) => FINAL.has(b.state));
  } catch {
    return false;
  }
}

/** Waits (at most 120 s) until every agent has reported and some build has started or ended. */
async function waitUntilBuilding(farm: ChaosFarm): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { builds } = await farm.client.listBuilds({ state: ['started', 'succeeded', 'failed'], limit: 1 });
    const agents = await Promise.all(farm.agents.map((a) => farm.client.getAgent(a.setup.uuid)));
    if (builds.length > 0 && agents.every((a) => a.status !== null)) return;
    await sleep(250);
  }
  throw new Error(
    'the farm was not building within 120 s of the agents starting (no build started, or an agent never reported)',
  );
}

/** Waits (at most 90 s) until agent `index` reported its status after `since` (ms); false when it did not. */
async function reportedSince(farm: ChaosFarm, index: number, since: number): Promise<boolean> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const agent = await farm.client.getAgent(farm.agents[index]!.setup.uuid).catch(() => undefined);
    if (agent?.status !== null && agent?.status !== undefined && Date.parse(agent.status.reportedAt) >= since)
      return true;
    await sleep(250);
  }
  return false;
}

/** Starts again the agents that exited on their own. */
export function restartDeadAgents(farm: ChaosFarm): void {
  for (const agent of farm.agents) if (!agent.running) agent.start();
}

/** Applies `plan` to `farm`; `log` hears one line per action. */
export async function applyChaos(
  farm: ChaosFarm,
  plan: readonly ChaosAction[],
  leaseSeconds: number,
  log: (line: string) => void,
): Promise<ChaosLog> {
  const applied = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  let pausesPastLease = 0;
  let lastDisruptionAt: number | null = null;
  await waitUntilBuilding(farm);
  const startedAt = Date.now();
  let done = 0;
  for (const action of plan) {
    await sleep(action.afterMs);
    restartDeadAgents(farm);
    if (await farmFinished(farm)) break;
    log(
      `chaos ${done + 1}/${plan.length} at +${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${describeAction(action)}`,
    );
    lastDisruptionAt = Date.now();
    switch (action.kind) {
      case 'kill-coordinator':
        await farm.coordinator.kill();
        await sleep(action.downMs);
        await farm.coordinator.start();
        break;
      case 'kill-agent': {
        await farm.agents[action.agent]!.kill();
        await sleep(action.downMs);
        const restarted = Date.now();
        farm.agents[action.agent]!.start();
        if (!(await reportedSince(farm, action.agent, restarted)))
          log(`agent ${action.agent} did not report within 90 s of its restart`);
        break;
      }
      case 'pause-agent':
        farm.agents[action.agent]!.pause();
        await sleep(action.pausedMs);
        farm.agents[action.agent]!.resume();
        if (action.pausedMs > leaseSeconds * 1000) pausesPastLease += 1;
        break;
    }
    applied[action.kind] += 1;
    done += 1;
  }
  return {
    applied,
    pausesPastLease,
    skipped: plan.length - done,
    startedAt,
    endedAt: Date.now(),
    lastDisruptionAt,
  };
}
