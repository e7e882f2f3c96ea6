// Which coordinator process on a PostgreSQL database is the scheduler. Each
// process keeps one control session (datastore's control-session.ts) that
// LISTENs on the cluster channel; a follower tries the scheduler's advisory
// lock every `pollMs`, the leader pings its session every `pollMs`. Losing the
// session (an error, the server gone, a ping unanswered within `pingTimeoutMs`)
// deposes the leader at once, before anything else runs: it stops scheduling,
// then reconnects as a follower, and lets the others try the lock first for
// `yieldPolls` polls (a process whose link to the database broke is the one
// most likely to lose it again; without this it can win its own lock back
// before any other process tries, and leadership flaps with the link). A
// process that dies loses its session with it, and the lock is free for the
// next try of a follower.
import { openControlSession } from '@gbc/datastore';
import type { ControlSession } from '@gbc/datastore';
import type { Logger } from '../logger.js';
import { CLUSTER_CHANNEL } from './cluster-channel.js';

/** What a process does when it becomes, or stops being, the scheduler. */
export interface LeadershipHooks {
  /** Called once the lock is held: rebuild the queue, start the loops. Leadership counts from its end. */
  elected(term: number): Promise<void>;
  /** Called synchronously when leadership is lost or given up (also while `elected` still runs). */
  deposed(term: number, why: string): void;
  /** Each notification payload of the cluster channel. */
  message(payload: string): void;
}

/** Options of {@link startLeadership}. */
export interface LeadershipOptions {
  readonly databaseUri: string;
  readonly cwd: string;
  /** This process's id, in `pg_stat_activity.application_name` as `gbc-coordinator <id>`. */
  readonly processId: string;
  readonly logger: Logger;
  /** How often a follower tries the lock and a leader pings, in ms. Default 1000. */
  readonly pollMs?: number;
  /** A leader whose ping is unanswered this long gives up, in ms. Default 5000. */
  readonly pingTimeoutMs?: number;
  /** After losing leadership to a failed session, polls to leave the lock to the others. Default 3. */
  readonly yieldPolls?: number;
}

/** The running election. */
export interface Leadership {
  /** Whether this process is the scheduler now (elected and done with `elected`). */
  isLeader(): boolean;
  /** The current term (increases with each election won by this process). */
  term(): number;
  /** Resolves after the first session's first lock attempt (and its `elected`, when won). */
  readonly ready: Promise<void>;
  /** Gives up leadership and closes the session. */
  stop(): Promise<void>;
}

/** Starts electing; see the file header. */
export function startLeadership(options: LeadershipOptions, hooks: LeadershipHooks): Leadership {
  const pollMs = options.pollMs ?? 1000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 5000;
  const yieldPolls = options.yieldPolls ?? 3;
  /** Polls left before this process tries the lock again (see the file header). */
  let yielding = 0;
  const { logger } = options;
  let session: ControlSession | undefined;
  let state: 'follower' | 'electing' | 'leader' = 'follower';
  let term = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  /** Read through a function: `depose` may have run during an await. */
  const stillElecting = (mine: number): boolean => state === 'electing' && term === mine;

  function depose(why: string): void {
    if (state === 'follower') return;
    state = 'follower';
    if (!stopped) yielding = yieldPolls;
    logger.warn('no longer the scheduler', { term, why });
    hooks.deposed(term, why);
  }

  async function connect(): Promise<ControlSession> {
    const s = await openControlSession(options.databaseUri, {
      cwd: options.cwd,
      applicationName: `gbc-coordinator ${options.processId}`,
    });
    s.onNotification((_channel, payload) => hooks.message(payload));
    s.onEnd((end) => {
      depose(
        end.reason === 'closed' ? 'stopping' : `control session lost: ${end.error?.message ?? 'closed'}`,
      );
      if (session === s) session = undefined;
    });
    await s.listen(CLUSTER_CHANNEL);
    return s;
  }

  async function tryElection(s: ControlSession): Promise<void> {
    if (!(await s.tryLockScheduler()) || stopped || s.ended) return;
    term += 1;
    const mine = term;
    state = 'electing';
    logger.info('elected the scheduler', { term: mine, process: options.processId });
    try {
      await hooks.elected(mine);
    } catch (error) {
      logger.error('could not take over as the scheduler: giving the lock up', { error: String(error) });
      await s.close();
      return;
    }
    // Lost meanwhile: `deposed` already ran, and the term is over.
    if (stillElecting(mine)) state = 'leader';
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    try {
      if (session === undefined || session.ended) session = await connect();
      if (state === 'leader') await session.ping(pingTimeoutMs);
      else if (state === 'follower' && yielding > 0) yielding -= 1;
      else if (state === 'follower') await tryElection(session);
    } catch (error) {
      logger.warn('scheduler election: PostgreSQL control session failed; retrying', {
        error: String(error),
      });
      // Whatever happened to the session, a leader must not go on without it.
      const s = session;
      session = undefined;
      depose('control session failed');
      await s?.close();
    }
  }

  let running: Promise<void> = Promise.resolve();
  function loop(): void {
    running = tick().then(() => {
      markReady();
      if (stopped) return;
      timer = setTimeout(loop, pollMs);
      timer.unref();
    });
  }
  loop();

  return {
    isLeader: () => state === 'leader',
    term: () => term,
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      depose('stopping');
      await session?.close();
      await running;
      // A session opened by the tick that was running is closed too.
      await session?.close();
    },
  };
}
