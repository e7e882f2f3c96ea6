// One chaos run from its seed: draws the graph and the plan, sets up the
// farm, applies the plan, waits for the farm to finish (a stall is an
// answer, not a hang), checks the invariants and computes the figures.
// Everything it starts is stopped before it returns, whatever happened.
import { applyChaos } from './chaos-actions.js';
import { drawDag } from './chaos-dag.js';
import { setUpFarm } from './chaos-farm.js';
import { attemptFigures, lastDisruptionToLastEnd, round1, type ChaosFigures } from './chaos-figures.js';
import { readHookRecord, waitForFarm, waitForHooks } from './chaos-finish.js';
import { checkAttempts, checkHooks, checkOutputs, describeStall, partialFiles } from './chaos-invariants.js';
import { planChaos } from './chaos-plan.js';
import { realiseOnHost } from './host-outputs.js';
import { createPrng } from './prng.js';

/** What one run does. */
export interface ChaosRunOptions {
  readonly seed: number;
  readonly database: 'sqlite' | 'postgres';
  readonly agents: number;
  /** Actions in the plan. */
  readonly actions: number;
  /** The graph: `layers` layers of `width` derivations. */
  readonly layers: number;
  readonly width: number;
  /**
   * The coordinator's lease, s. It must be longer than an agent takes to
   * start again (20 s was seen on a loaded 2-core machine): an agent restarted
   * within the lease of the builds it lost is what left them held for ever.
   */
  readonly leaseSeconds: number;
  /** Whether some pauses outlast the lease (leases then expire: slower runs). */
  readonly pausesPastLease: boolean;
  /** No change for this long after the chaos is a stall, ms. Default the larger of 60 s and twice the lease. */
  readonly stallMs?: number;
  /** The longest wait for the farm after the chaos, ms. Default 10 minutes. */
  readonly capMs?: number;
  /** Keep the run's directory (logs, SQLite database). Default false. */
  readonly keepDir?: boolean;
  /** Progress lines (the seed first). */
  readonly log: (line: string) => void;
}

/** What a run found. */
export interface ChaosReport {
  readonly figures: ChaosFigures;
  /** Broken invariants, one line each; empty when the run passed. */
  readonly violations: readonly string[];
}

/** Runs the chaos of `options.seed`; see the file header. */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosReport> {
  const { leaseSeconds } = options;
  const prng = createPrng(options.seed);
  const nodes = drawDag(prng, options.layers, options.width);
  const plan = planChaos(prng, {
    actions: options.actions,
    agents: options.agents,
    leaseSeconds,
    pausesPastLease: options.pausesPastLease,
  });
  options.log(
    `chaos seed ${options.seed} (replay: GBC_CHAOS_SEED=${options.seed}) on ${options.database}: ${options.agents} agents, ${nodes.length} derivations, ${plan.length} actions, lease ${leaseSeconds} s`,
  );
  const t0 = Date.now();
  const farm = await setUpFarm(
    {
      database: options.database,
      agents: options.agents,
      leaseSeconds,
      leaseCheckIntervalMs: 1000,
      hookLeaseMs: 15_000,
      keepDir: options.keepDir ?? false,
    },
    nodes,
  );
  if (options.keepDir === true) options.log(`keeping the run's directory: ${farm.dir}`);
  const violations: string[] = [];
  let figures!: Omit<ChaosFigures, 'totalSeconds' | 'outcome'>;
  try {
    // Nix's own builds of the same derivations, made meanwhile (the builders mostly sleep).
    const host = realiseOnHost([...farm.dag.drvs.values()]).then(
      (outputs) => ({ outputs }),
      (error: unknown) => ({ error }),
    );
    const chaos = await applyChaos(farm, plan, leaseSeconds, options.log);
    options.log(
      `chaos over after ${round1((chaos.endedAt - chaos.startedAt) / 1000)} s; waiting for the farm to finish`,
    );
    const outcome = await waitForFarm(
      farm,
      options.stallMs ?? Math.max(60_000, 2000 * leaseSeconds),
      options.capMs ?? 600_000,
    );
    const built = await host;
    if ('error' in built)
      throw new Error(`the host's nix-daemon could not build the graph: ${String(built.error)}`);
    const attempts = checkAttempts(farm, outcome.builds);
    if (!outcome.finished) {
      violations.push(
        `${outcome.why}; ${describeStall(farm, outcome.builds)}`,
        ...attempts.filter((l) => !l.startsWith('builds that did not succeed')),
      );
    } else {
      violations.push(...attempts);
      const succeeded = outcome.builds.filter((b) => b.state === 'succeeded').map((b) => b.uuid);
      await waitForHooks(farm, succeeded, 60_000);
      violations.push(...checkHooks(farm, outcome.builds, readHookRecord(farm.hookRecord).runs));
      violations.push(...(await checkOutputs(farm, outcome.builds, built.outputs)));
      const partial = partialFiles(farm.dataDir);
      if (partial.length > 0)
        violations.push(`partial files left in the data directory: ${partial.join(' ')}`);
    }
    for (const exit of farm.unexpectedExits)
      violations.push(
        `agent ${exit.agent} (incarnation ${exit.incarnation}) exited on its own (code ${exit.code}, signal ${exit.signal}); see ${exit.errFile}`,
      );
    const hook = readHookRecord(farm.hookRecord);
    const runs = [...hook.runs.values()].reduce((a, b) => a + b, 0);
    figures = {
      seed: options.seed,
      database: options.database,
      agents: options.agents,
      derivations: nodes.length,
      actions: chaos.applied,
      pausesPastLease: chaos.pausesPastLease,
      builds: outcome.builds.length,
      succeeded: outcome.builds.filter((b) => b.state === 'succeeded').length,
      ...attemptFigures(outcome.builds),
      hookRuns: runs,
      hookReruns: runs - hook.runs.size,
      unexpectedAgentExits: farm.unexpectedExits.length,
      chaosSeconds: round1((chaos.endedAt - chaos.startedAt) / 1000),
      lastDisruptionToLastEndSeconds: lastDisruptionToLastEnd(chaos, outcome.builds, outcome.finished),
    };
  } finally {
    violations.push(...(await farm.close()));
  }
  return {
    figures: {
      ...figures,
      totalSeconds: round1((Date.now() - t0) / 1000),
      outcome: violations.length === 0 ? 'pass' : 'fail',
    },
    violations,
  };
}
