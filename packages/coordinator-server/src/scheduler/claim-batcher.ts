// Group commit of claims: fetch-builds calls that arrive while the datastore
// is busy wait together and are claimed in one transaction, so the cost of a
// commit (and of a round trip on PostgreSQL) is shared by every agent in the
// batch instead of paid by each. Claims stay exclusive: the datastore decides.
import { MAX_CLAIM_BATCH, claimBuildsForAgents, isPg } from '@gbc/datastore';
import type { Claim, ClaimRequest, ClaimRunner, Db } from '@gbc/datastore';

/** Options of {@link createClaimBatcher}. */
export interface ClaimBatcherOptions {
  /** Lease length given to claims, in ms. */
  readonly leaseMs: number;
  /** The time of a batch's claims (ms). */
  readonly now: () => number;
  /** Batches in the datastore at once. Default 1 on SQLite (one writer), 4 on PostgreSQL. */
  readonly inFlight?: number;
  /** What runs the claims beside `db` (the datastore's claimRunner: SQLite's thread, PostgreSQL's prepared statement). */
  readonly runner?: ClaimRunner | undefined;
  /** Called after each batch with the number of calls it served (metrics, tests). */
  readonly onBatch?: (calls: number) => void;
}

/** Claims builds for agents, batching concurrent calls. */
export interface ClaimBatcher {
  /** Claims `buildIds` for `agentId`; resolves with what this agent got (see claimBuildsForAgents). */
  claim(agentId: string, buildIds: readonly string[]): Promise<Claim[]>;
}

interface Waiting extends ClaimRequest {
  resolve(claims: Claim[]): void;
  reject(error: unknown): void;
}

/** Creates a batcher over `db`; see the file header. */
export function createClaimBatcher(db: Db, options: ClaimBatcherOptions): ClaimBatcher {
  const limit = options.inFlight ?? (isPg(db) ? 4 : 1);
  let queue: Waiting[] = [];
  let running = 0;
  let scheduled = false;

  function take(): Waiting[] {
    let builds = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || builds + queue[n]!.buildIds.length <= MAX_CLAIM_BATCH))
      builds += queue[n++]!.buildIds.length;
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0 && running < limit) {
      const batch = take();
      running += 1;
      void claimBuildsForAgents(db, batch, {
        leaseMs: options.leaseMs,
        now: options.now(),
        runner: options.runner,
      })
        .then(
          (lists) => {
            options.onBatch?.(batch.length);
            batch.forEach((w, i) => w.resolve(lists[i]!));
          },
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          running -= 1;
          // Whatever arrived meanwhile goes in the next batch, at once.
          flush();
        });
    }
  }

  return {
    claim(agentId, buildIds) {
      if (buildIds.length === 0) return Promise.resolve([]);
      return new Promise<Claim[]>((resolve, reject) => {
        queue.push({ agentId, buildIds, resolve, reject });
        // Let the requests already read from the sockets in this turn join the batch.
        if (!scheduled && running < limit) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
