// The hook workers: per event type, `parallelism` loops that each claim one
// outbox event at a time under a lease, run that type's hooks in order, and
// complete the event or record the failure with exponential backoff. Events
// stay in the outbox until done, so a restart (or a crash: the lease runs
// out) runs them again: at least once. The lease is short and renewed while
// the hooks run, so a crashed coordinator's events wait at most one lease. Events of a type with no hook are
// completed in small paced batches instead. `stop()` lets in-flight runs finish,
// then aborts their signal after `forceStopAfterMs`.
import { randomUUID } from 'node:crypto';
import {
  claimEvents,
  completeDueEvents,
  completeEvent,
  failEvent,
  renewEventLease,
  type Backoff,
  type OutboxEvent,
} from '@gbc/datastore';
import type { CoordinatorContext } from '../context.js';
import { describeHookError } from './hook-errors.js';
import { HOOK_EVENT_TYPES, type HookEvent, type HookFunction } from './hook-types.js';

/** Options of {@link createHookRunner}. */
export interface HookRunnerOptions {
  /** Resolved hooks per event type (see `resolveHooks`). */
  readonly hooks: ReadonlyMap<string, readonly HookFunction[]>;
  /** Events of one type processed at once: a number for all types or per type. Default 1. */
  readonly parallelism?: number | Readonly<Record<string, number>>;
  /** Retry delays: base·2^(attempts−1), capped. Default 1 s base, 1 h cap. */
  readonly backoff?: Backoff;
  /** How often idle workers look for due events, ms (they are also woken by live events and `wake`). Default 1000. */
  readonly pollIntervalMs?: number;
  /**
   * How long a claimed event is reserved for its worker, ms; renewed every
   * third of it while the hooks run. After a crash, the events it held run
   * again once it runs out. Default 30 s.
   */
  readonly leaseMs?: number;
  /** On stop, abort in-flight hooks' signal after this long, ms. Default 30000. */
  readonly forceStopAfterMs?: number;
  /** Complete events of the standard types that have no hook, so they do not pile up. Default true. */
  readonly completeUnhooked?: boolean;
}

/** Counters of one event type since start. */
export interface HookTypeStats {
  readonly processed: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly workers: number;
}

/** Runs the hook workers; see the file header. */
export interface HookRunner {
  /** Starts the workers (once). */
  start(): void;
  /** Makes idle workers look for due events now. */
  wake(): void;
  /** Stops claiming, waits for in-flight runs (aborting them after `forceStopAfterMs`), then resolves. */
  stop(): Promise<void>;
  /** Counters per event type that has workers. */
  stats(): ReadonlyMap<string, HookTypeStats>;
}

/** Creates the hook runner over `ctx` (datastore, clock, logger; hooks receive the whole context). */
export function createHookRunner(ctx: CoordinatorContext, options: HookRunnerOptions): HookRunner {
  const instance = randomUUID().slice(0, 8);
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const leaseMs = options.leaseMs ?? DEFAULT_HOOK_LEASE_MS;
  const abort = new AbortController();
  const types = new Set([
    ...options.hooks.keys(),
    ...(options.completeUnhooked === false ? [] : HOOK_EVENT_TYPES),
  ]);
  const hooked = (type: string) => (options.hooks.get(type)?.length ?? 0) > 0;
  const counters = new Map(
    [...types].map((t) => [
      t,
      { processed: 0, failed: 0, inFlight: 0, workers: hooked(t) ? workersFor(t, options) : 1 },
    ]),
  );
  // Idle workers by event type: an event wakes only the workers of its type.
  const waiters = new Map([...types].map((t) => [t, new Set<() => void>()]));
  const loops: Promise<void>[] = [];
  let stopping = false;
  // The loops read it through a call: stop() sets it while they await, which
  // TypeScript's narrowing of a plain read (to `false`, for good) cannot see.
  const isStopping = (): boolean => stopping;
  let unsubscribe: (() => void) | null = null;

  const wakeType = (type: string) => {
    for (const w of [...(waiters.get(type) ?? [])]) w();
  };
  const wake = () => {
    for (const type of types) wakeType(type);
  };
  const idle = (type: string) =>
    new Promise<void>((resolve) => {
      const mine = waiters.get(type)!;
      const done = () => {
        clearTimeout(timer);
        mine.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pollIntervalMs);
      mine.add(done);
    });

  async function runOne(type: string, event: OutboxEvent, owner: string): Promise<void> {
    const c = counters.get(type)!;
    c.inFlight += 1;
    const renewal = setInterval(
      () => {
        renewEventLease(ctx.datastore.db, event.id, owner, leaseMs, ctx.clock.now())
          .then((held) => {
            if (!held)
              ctx.logger.warn('hook event lease lost while its hooks run: it may run again', {
                event: event.id,
                type,
              });
          })
          .catch((error: unknown) =>
            ctx.logger.warn('could not renew a hook event lease', {
              event: event.id,
              error: describeHookError(error),
            }),
          );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    try {
      try {
        for (const hook of options.hooks.get(type) ?? [])
          await hook(toHookEvent(event), { coordinator: ctx, signal: abort.signal });
      } finally {
        clearInterval(renewal);
      }
      await completeEvent(ctx.datastore.db, event.id, owner, ctx.clock.now());
      c.processed += 1;
    } catch (error) {
      c.failed += 1;
      const message = describeHookError(error);
      ctx.logger.warn('hook failed; will retry', {
        event: event.id,
        type,
        attempt: event.attempts,
        error: message,
      });
      await failEvent(ctx.datastore.db, event.id, owner, message, options.backoff, ctx.clock.now()).catch(
        (e: unknown) =>
          ctx.logger.error('could not record a hook failure', {
            event: event.id,
            error: describeHookError(e),
          }),
      );
    } finally {
      c.inFlight -= 1;
    }
  }

  async function loop(type: string, index: number): Promise<void> {
    if (!hooked(type)) return completeUnhooked(type);
    const owner = `${instance}/${type}/${index}`;
    while (!isStopping()) {
      let claimed: OutboxEvent[] = [];
      try {
        claimed = await claimEvents(ctx.datastore.db, {
          owner,
          leaseMs,
          limit: 1,
          eventTypes: [type],
          now: ctx.clock.now(),
        });
      } catch (error) {
        ctx.logger.error('could not claim hook events', { type, error: describeHookError(error) });
      }
      const event = claimed[0];
      if (event === undefined) await idle(type);
      else await runOne(type, event, owner);
    }
  }

  /**
   * A type with no hook: its due events are completed in small batches, one
   * short statement each, paced (a bulk submission can leave a million
   * waiting: drained at up to 2,500 a second, they leave SQLite's write lock,
   * the WAL and the event loop to the work that matters).
   */
  async function completeUnhooked(type: string): Promise<void> {
    const c = counters.get(type)!;
    while (!isStopping()) {
      let done = UNHOOKED_BATCH;
      try {
        while (!isStopping() && done === UNHOOKED_BATCH) {
          done = await completeDueEvents(ctx.datastore.db, type, ctx.clock.now(), UNHOOKED_BATCH);
          c.processed += done;
          if (done === UNHOOKED_BATCH) await new Promise((resolve) => setTimeout(resolve, UNHOOKED_PAUSE_MS));
        }
      } catch (error) {
        ctx.logger.error('could not complete hook events', { type, error: describeHookError(error) });
      }
      await idle(type);
    }
  }

  return {
    start() {
      if (loops.length > 0 || stopping) return;
      for (const type of types)
        for (let i = 0; i < counters.get(type)!.workers; i++) loops.push(loop(type, i));
      // Events of a type without hooks wait for the next poll: completing them
      // is no one's business, and a write per event was a tenth of the
      // coordinator's work per build.
      unsubscribe = ctx.events.subscribe(null, (e) => {
        if (hooked(e.type)) wakeType(e.type);
      });
    },
    wake,
    async stop() {
      stopping = true;
      unsubscribe?.();
      wake();
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          abort.abort(new Error('the coordinator is stopping'));
          resolve();
        }, options.forceStopAfterMs ?? 30_000);
      });
      await Promise.race([Promise.all(loops), forced]);
      clearTimeout(timer);
      wake();
    },
    stats: () => new Map([...counters].map(([t, c]) => [t, { ...c }])),
  };
}

/** Default hook event lease, ms (see HookRunnerOptions.leaseMs). */
export const DEFAULT_HOOK_LEASE_MS = 30_000;

/** Events of a type without hooks completed per statement. */
const UNHOOKED_BATCH = 50;
/** Pause between two full batches, ms. */
const UNHOOKED_PAUSE_MS = 20;

function workersFor(type: string, options: HookRunnerOptions): number {
  const p = options.parallelism;
  const n = typeof p === 'number' ? p : (p?.[type] ?? 1);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** The hook's view of an outbox event. */
export function toHookEvent(event: OutboxEvent): HookEvent {
  const payload =
    typeof event.payload === 'object' && event.payload !== null && !Array.isArray(event.payload)
      ? (event.payload as Record<string, unknown>)
      : { value: event.payload };
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: event.id,
    type: event.eventType,
    build: str(payload.build) ?? str(payload.buildId),
    derivation: str(payload.derivation) ?? str(payload.derivationPath),
    payload,
    createdAt: event.createdAt,
    attempt: event.attempts,
  };
}
