// Failed agent logins, limited per agent. Agent UUIDs are public (metrics,
// logs), so anyone can send wrong passwords for a real agent. After
// `failures` wrong passwords for one agent within `windowMs`, further logins
// for it with a password never seen to work are refused at once (429, no
// database, no scrypt) for `blockMs`, doubling while the failures go on.
// Credentials that worked before are remembered (by the password's digest,
// never the password) and always checked: a real agent keeps logging in
// while its UUID is flooded; a password new to the coordinator waits out the block.

/** Options of {@link createLoginLimiter}. */
export interface LoginLimiterOptions {
  /** Wrong passwords for one agent allowed within the window. Default 20. */
  readonly failures?: number;
  readonly windowMs?: number;
  /** First block, ms; doubles for each block in a row, up to 10 minutes. Default 30 s. */
  readonly blockMs?: number;
  /** Agents and credentials tracked at most (oldest dropped first). Default 100,000. */
  readonly maxTracked?: number;
}

/** The limiter; keys are `agent:digest` strings, agents lower-case UUIDs. */
export interface LoginLimiter {
  /** Until when (ms) logins of `agent` with unknown credentials are refused, or 0. */
  blockedUntil(agent: string, now: number): number;
  /** Whether `key` worked before (it is then never blocked). */
  knownGood(key: string): boolean;
  succeeded(key: string): void;
  failed(agent: string, now: number): void;
  /** Forgets an agent's known-good credentials (revoked, deactivated). */
  forget(agent: string): void;
}

/** Creates a limiter; see the file header. */
export function createLoginLimiter(options: LoginLimiterOptions = {}): LoginLimiter {
  const allowed = options.failures ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  const firstBlock = options.blockMs ?? 30_000;
  const maxTracked = options.maxTracked ?? 100_000;
  const good = new Set<string>();
  const agents = new Map<string, { since: number; count: number; blockedUntil: number; blocks: number }>();
  const bounded = <K>(collection: {
    size: number;
    keys(): IterableIterator<K>;
    delete(k: K): boolean;
  }): void => {
    if (collection.size > maxTracked) collection.delete(collection.keys().next().value as K);
  };
  return {
    blockedUntil(agent, now) {
      const a = agents.get(agent);
      return a !== undefined && a.blockedUntil > now ? a.blockedUntil : 0;
    },
    knownGood: (key) => good.has(key),
    succeeded(key) {
      good.add(key);
      bounded(good);
    },
    failed(agent, now) {
      let a = agents.get(agent);
      if (a === undefined || now - a.since > windowMs) {
        // A new window; the block length keeps growing only while blocks follow each other.
        a = {
          since: now,
          count: 0,
          blockedUntil: a?.blockedUntil ?? 0,
          blocks: a !== undefined && now - a.blockedUntil < windowMs ? a.blocks : 0,
        };
        agents.delete(agent);
        agents.set(agent, a);
        bounded(agents);
      }
      a.count += 1;
      if (a.count > allowed && a.blockedUntil <= now) {
        a.blockedUntil = now + Math.min(600_000, firstBlock * 2 ** a.blocks);
        a.blocks += 1;
      }
    },
    forget(agent) {
      const prefix = `${agent}:`;
      for (const key of good) if (key.startsWith(prefix)) good.delete(key);
    },
  };
}
