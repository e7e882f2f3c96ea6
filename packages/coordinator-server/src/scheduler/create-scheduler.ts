// The scheduler: the allocator's in-memory index of the queue, rebuilt from
// the datastore at start and kept in step with every change, so that one
// fetch-builds costs the same at ten or a million queued builds. The
// datastore stays the authority: `fetchBuilds` takes from the index, then
// claims in the datastore; a build the claim refuses is simply dropped.
import type { AgentInfo, AllocationStrategy, QueuedBuild } from '@gbc/allocator';
import { AllocatorError } from '@gbc/allocator';
import {
  getAgent,
  listAgents,
  queuedProducers,
  readBuildsNow,
  readSetupWaits,
  releaseUnstartedAttempts,
  streamQueue,
} from '@gbc/datastore';
import type { Agent, Datastore, FinishedAttempt } from '@gbc/datastore';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createClaimBatcher } from './claim-batcher.js';
import { createInterner, tagList, tagRecord, toQueuedBuild } from './queued-build.js';
import type { FetchedBuild, Scheduler } from './scheduler-api.js';

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  readonly datastore: Datastore;
  readonly strategy: AllocationStrategy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lease length given to claims, in ms. */
  readonly leaseMs: number;
}

/** The scheduler with the calls only the coordinator itself makes. */
export interface CoordinatorScheduler extends Scheduler {
  /** Replaces the index with one built from the datastore's queue; returns how many builds it holds. */
  rebuild(options?: { chunkSize?: number }): Promise<number>;
  /** An attempt ended (result recorded): wake dependents on success, block them on failure, requeue on retry. */
  notifyBuildFinished(finished: FinishedAttempt, outputPaths: readonly string[]): Promise<void>;
}

/** Creates the scheduler with an empty index; call `rebuild()` before serving. */
export function createScheduler(options: SchedulerOptions): CoordinatorScheduler {
  const { datastore, strategy, clock, logger } = options;
  const db = datastore.db;
  let index = strategy.createIndex({ builds: [], agents: [] });
  /** Systems each agent last asked for (joined), to upsert only on change. */
  const agentSystems = new Map<string, string>();
  const agentRecords = new Map<string, AgentInfo>();
  const claims = createClaimBatcher(db, {
    leaseMs: options.leaseMs,
    now: () => clock.now(),
    runner: datastore.claimRunner(),
  });

  const toInfo = (a: Agent, systems?: readonly string[]): AgentInfo => ({
    id: a.id,
    systems: [...(systems ?? a.systems)],
    tags: tagRecord(a.tags),
    active: a.active,
  });

  function place(build: QueuedBuild): void {
    try {
      strategy.update(index, build);
    } catch (error) {
      if (!(error instanceof AllocatorError) || error.code !== 'unknown-build') throw error;
      strategy.insert(index, build);
    }
  }

  async function refresh(buildIds: readonly string[]): Promise<void> {
    if (buildIds.length === 0) return;
    const [now, waits] = await Promise.all([readBuildsNow(db, buildIds), readSetupWaits(db, buildIds)]);
    const pending = [...now.values()].flatMap((b) => b.entry?.pendingInputs ?? []);
    const producers = pending.length === 0 ? undefined : await queuedProducers(db, pending);
    for (const id of buildIds) {
      const b = now.get(id);
      if (b?.entry === undefined) strategy.remove(index, id);
      else place(toQueuedBuild(b.entry, waits.get(id), producers));
    }
  }

  async function ensureAgent(agentId: string, systems: readonly string[]): Promise<AgentInfo | undefined> {
    const key = systems.join('\u0000');
    let info = agentRecords.get(agentId);
    if (info === undefined) {
      const agent = await getAgent(db, agentId);
      if (agent === undefined) return undefined;
      info = toInfo(agent, systems);
    } else if (agentSystems.get(agentId) === key) return info;
    else info = { ...info, systems: [...systems] };
    agentRecords.set(agentId, info);
    agentSystems.set(agentId, key);
    strategy.upsertAgent(index, info);
    return info;
  }

  async function claimSome(
    agentId: string,
    count: number,
    systems: readonly string[],
  ): Promise<FetchedBuild[]> {
    const info = await ensureAgent(agentId, systems);
    if (info === undefined || !info.active) return [];
    const out: FetchedBuild[] = [];
    // A refused claim (stale entry) costs one more round; bounded.
    for (let round = 0; round < 5 && out.length < count; round++) {
      const taken = strategy.take(index, agentId, count - out.length, clock.now());
      if (taken.length === 0) break;
      let got;
      try {
        got = await claims.claim(
          agentId,
          taken.map((b) => b.id),
        );
      } catch (error) {
        for (const b of taken) place(b);
        throw error;
      }
      const byId = new Map(taken.map((b) => [b.id, b]));
      for (const c of got) {
        const b = byId.get(c.buildId)!;
        // The index's own (long-promoted) strings, and named fields rather than a
        // spread of the claim: the answer and the build-allocated event (kept in
        // the replay ring for seconds) then add nothing the young-generation
        // collector has to promote (see claimBuildsForAgents).
        out.push({
          buildId: b.id,
          attemptId: c.attemptId,
          attemptUuid: c.attemptUuid,
          derivationPath: b.derivation,
          leaseExpiresAt: c.leaseExpiresAt,
          timeoutS: c.timeoutS,
          maxSilentTimeS: c.maxSilentTimeS,
          system: b.system,
          priority: b.priority,
          tags: tagList(b.tags),
        });
        byId.delete(c.buildId);
      }
      if (byId.size > 0)
        logger.debug('claims refused: dropped stale queue entries', { builds: [...byId.keys()] });
      if (byId.size === 0) break;
    }
    return out;
  }

  return {
    strategyName: strategy.name,
    async rebuild(o = {}) {
      const builds: QueuedBuild[] = [];
      const waits = await readSetupWaits(db);
      const needed = new Set<string>();
      const intern = createInterner();
      for await (const part of streamQueue(db, { chunkSize: o.chunkSize ?? 20_000 })) {
        for (const e of part) {
          for (const p of e.pendingInputs) needed.add(p);
          builds.push(toQueuedBuild(e, waits.get(e.id), undefined, intern));
        }
      }
      if (needed.size > 0) {
        const producers = new Map<string, string>();
        for (const b of builds)
          if (needed.has(b.derivation) && !producers.has(b.derivation)) producers.set(b.derivation, b.id);
        for (let i = 0; i < builds.length; i++) {
          const b = builds[i]!;
          if (b.pendingInputs !== undefined)
            builds[i] = {
              ...b,
              pendingInputs: b.pendingInputs.map((p) =>
                producers.has(p.path) ? { path: p.path, buildId: producers.get(p.path)! } : p,
              ),
            };
        }
      }
      const agents = (await listAgents(db)).map((a) => toInfo(a));
      agentRecords.clear();
      agentSystems.clear();
      for (const a of agents) agentRecords.set(a.id, a);
      index = strategy.createIndex({ builds, agents });
      return builds.length;
    },
    notifyBuildsCreated: (ids) => refresh(ids),
    notifyBuildsCanceled(ids) {
      for (const id of ids) strategy.remove(index, id);
    },
    notifyPriorityChanged: (id) => refresh([id]),
    notifyPathsAvailable(paths) {
      if (paths.length > 0) strategy.markInputsAvailable(index, paths);
    },
    async notifyAgentChanged(agentId) {
      const agent = await getAgent(db, agentId);
      if (agent === undefined) {
        strategy.removeAgent(index, agentId);
        agentRecords.delete(agentId);
        agentSystems.delete(agentId);
        return;
      }
      const previous = agentRecords.get(agentId);
      const info = toInfo(agent, previous?.systems);
      agentRecords.set(agentId, info);
      strategy.upsertAgent(index, info);
      if (!agent.active) await refresh(await releaseUnstartedAttempts(db, agentId, clock.now()));
    },
    refresh,
    async notifyBuildFinished(finished, outputPaths) {
      if (finished.buildState === 'succeeded')
        strategy.markInputsAvailable(index, [finished.derivationPath, ...outputPaths]);
      if (finished.buildState === 'failed') strategy.markInputsFailed(index, [finished.derivationPath]);
      const again = finished.buildState === 'queued' ? [finished.buildId] : [];
      await refresh([...again, ...finished.blocked, ...finished.unblocked]);
    },
    explain: (id) => strategy.explain(index, id, clock.now()),
    plan: (perAgent = 10) => strategy.plan(index, clock.now(), perAgent),
    counts: () => strategy.counts(index),
    fetchBuilds: claimSome,
  };
}
