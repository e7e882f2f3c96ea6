// The coordinator's retention runner: one run at a time per coordinator
// (on-demand runs wait for a background run in progress and vice versa), and
// the optional background task that runs it every `retentionIntervalSeconds`.
import type { CoordinatorContext } from '../context.js';
import { runRetention } from './run-retention.js';
import type { RetentionResult } from './run-retention.js';

/** Runs retention for a coordinator; see the file header. */
export interface RetentionRunner {
  /** Applies the configured policy now (or only reports, with `dryRun`). */
  run(options?: { readonly dryRun?: boolean }): Promise<RetentionResult>;
  /** Starts the background task if the interval is above 0; idempotent. */
  start(): void;
  /** Stops the background task and waits for a run in progress. Idempotent. */
  stop(): Promise<void>;
}

type Ctx = Pick<
  CoordinatorContext,
  'config' | 'datastore' | 'storage' | 'clock' | 'logger' | 'outputRemovals'
>;

const runners = new WeakMap<object, RetentionRunner>();

/** The runner of `ctx` (one per context, so that the route and the task share it). */
export function retentionRunner(ctx: Ctx): RetentionRunner {
  let runner = runners.get(ctx);
  if (runner === undefined) {
    runner = createRetentionRunner(ctx);
    runners.set(ctx, runner);
  }
  return runner;
}

function createRetentionRunner(ctx: Ctx): RetentionRunner {
  let tail: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const target = {
    datastore: ctx.datastore,
    storage: ctx.storage.store,
    policy: ctx.config.retention,
    now: () => ctx.clock.now(),
    onOutputsRemoved: (paths: readonly string[]) => ctx.outputRemovals.notify(paths),
  };

  const run = (options: { readonly dryRun?: boolean } = {}): Promise<RetentionResult> => {
    const next = tail.then(() => runRetention(target, options));
    tail = next.catch(() => undefined);
    return next;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void run()
        .then((r) =>
          ctx.logger.info('retention run', {
            removedOutputs: r.removedOutputs.length,
            removedLogs: r.removedLogs.length,
            orphanNars: r.orphanNars.length,
            freedBytes: r.freedBytes,
            keptBytes: r.keptBytes,
            overBudget: r.overBudget,
          }),
        )
        .catch((error: unknown) =>
          ctx.logger.error('retention run failed', {
            error: error instanceof Error ? error.message : String(error),
          }),
        )
        .finally(schedule);
    }, ctx.config.retentionIntervalSeconds * 1000);
    timer.unref();
  };

  return {
    run,
    start() {
      if (timer !== undefined || stopped || ctx.config.retentionIntervalSeconds <= 0) return;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await tail;
    },
  };
}
