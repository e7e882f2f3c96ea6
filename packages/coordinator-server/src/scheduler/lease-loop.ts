// The lease-expiry loop: every interval, attempts whose lease ran out (the
// agent stopped reporting) end as infrastructure failures and their builds go
// back to the queue. `checkNow()` runs one pass (tests drive the clock, then call it).
import { expireLeases } from '@gbc/datastore';
import type { ExpiredAttempt } from '@gbc/datastore';
import type { CoordinatorContext } from '../context.js';
import type { CoordinatorScheduler } from './create-scheduler.js';

/** A running lease loop. */
export interface LeaseLoop {
  /** Expires what is due now; returns the expired attempts. */
  checkNow(): Promise<ExpiredAttempt[]>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Starts the loop (every `ctx.config.leaseCheckIntervalMs`). */
export function startLeaseLoop(ctx: CoordinatorContext, scheduler: CoordinatorScheduler): LeaseLoop {
  let running: Promise<ExpiredAttempt[]> | undefined;
  async function pass(): Promise<ExpiredAttempt[]> {
    const expired = await expireLeases(ctx.datastore.db, ctx.clock.now());
    if (expired.length === 0) return [];
    await scheduler.refresh(expired.map((e) => e.buildId));
    for (const e of expired)
      ctx.events.publish({
        type: 'build-released',
        build: e.buildId,
        agent: e.agentId,
        data: { reason: 'lease-expired' },
      });
    ctx.logger.info('leases expired: builds back in the queue', { count: expired.length });
    return expired;
  }
  function checkNow(): Promise<ExpiredAttempt[]> {
    // One pass at a time; a caller arriving meanwhile runs a fresh pass after it.
    const run = (running ?? Promise.resolve([])).then(pass, pass);
    running = run;
    return run;
  }
  const timer = setInterval(() => {
    checkNow().catch((error: unknown) => ctx.logger.error('lease check failed', { error: String(error) }));
  }, ctx.config.leaseCheckIntervalMs);
  timer.unref();
  return {
    checkNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
