// Test support: take a build through an attempt the way the agent API does
// (agent, claim, start, log sealed into the log store, finish with events).
import {
  claimBuildsById,
  createAgent,
  createBuilds,
  finishAttempt,
  startAttempt,
  type AttemptOutcome,
  type FinishedAttempt,
} from '@gbc/datastore';
import type { CoordinatorContext } from '../../context.js';
import { logKey } from '../../storage/index.js';

/** What to finish a build with. */
export interface FinishBuildOptions {
  readonly result: AttemptOutcome['result'];
  /** A log to store for the attempt. */
  readonly log?: string;
  readonly outputs?: AttemptOutcome['outputs'];
  readonly missingInputs?: readonly string[];
  readonly events?: AttemptOutcome['events'];
  /** An existing build's UUID; default: a new build of `drvPath`. */
  readonly buildId?: string;
}

/** Creates (or takes) a build of `drvPath`, runs one attempt to `options.result`; returns the build UUID and what finished. */
export async function finishBuild(
  ctx: CoordinatorContext,
  drvPath: string,
  options: FinishBuildOptions,
): Promise<{ buildId: string; attemptId: number; finished: FinishedAttempt }> {
  const db = ctx.datastore.db;
  const now = ctx.clock.now();
  const buildId = options.buildId ?? (await createBuilds(db, [{ derivationPath: drvPath }], now))[0]!.id;
  const agent = await createAgent(
    db,
    {
      name: `agent-${buildId.slice(0, 8)}-${Math.random().toString(36).slice(2, 8)}`,
      systems: ['x86_64-linux'],
    },
    now,
  );
  const [claim] = await claimBuildsById(db, [buildId], { agentId: agent.id, leaseMs: 60_000, now });
  if (claim === undefined) throw new Error(`build ${buildId} could not be claimed`);
  await startAttempt(db, claim.attemptId, agent.id, 60_000, now);
  let logLocation: string | null = null;
  if (options.log !== undefined) {
    // Recorded as the report-result route does: the sealed object's storage key.
    const key = logKey(buildId, claim.attemptId);
    await ctx.storage.logs.append(key, Buffer.from(options.log));
    logLocation = (await ctx.storage.logs.seal(key)).key;
  }
  const finished = await finishAttempt(
    db,
    claim.attemptId,
    agent.id,
    {
      result: options.result,
      logLocation,
      ...(options.outputs === undefined ? {} : { outputs: options.outputs }),
      ...(options.missingInputs === undefined ? {} : { missingInputs: options.missingInputs }),
      ...(options.events === undefined ? {} : { events: options.events }),
    },
    now,
  );
  return { buildId, attemptId: claim.attemptId, finished };
}
