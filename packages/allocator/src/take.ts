// Allocation proper: pick the best ready build among the buckets the agent
// may take from, up to `count` times. Cost per build: one peek per eligible
// bucket plus one heap removal, independent of the queue length.
import { AllocatorError } from './errors.js';
import { expireUsage, recordUsage, usageRatio } from './fair-share.js';
import { eligibleBuckets, type Bucket, type BuildEntry, type QueueIndex } from './queue-index.js';
import { dropEntry, promoteDue } from './queue-entries.js';

/** Removes and returns, in allocation order, up to `count` entries for the agent. */
export function takeEntries(index: QueueIndex, agentId: string, count: number, now: number): BuildEntry[] {
  const agent = index.agents.get(agentId);
  if (agent === undefined)
    throw new AllocatorError(
      'unknown-agent',
      `agent ${agentId} is not known to the allocator; upsert it before taking builds`,
    );
  promoteDue(index, now);
  if (index.fair !== undefined) expireUsage(index.fair, index.now);
  const out: BuildEntry[] = [];
  const limit = Math.floor(count);
  if (!agent.active || !(limit > 0)) return out;
  const buckets = eligibleBuckets(index, agent);
  while (out.length < limit) {
    const bucket = choose(index, buckets);
    if (bucket === undefined) break;
    const entry = bucket.heap.peek() as BuildEntry;
    dropEntry(index, entry.build.id);
    if (index.fair !== undefined) recordUsage(index.fair, bucket.share ?? '', index.now);
    out.push(entry);
  }
  return out;
}

/** The eligible bucket whose head goes next: lowest fair-share ratio first (if any), then strategy order. */
function choose(index: QueueIndex, buckets: readonly Bucket[]): Bucket | undefined {
  const { before } = index.behaviour;
  const fair = index.fair;
  let best: Bucket | undefined;
  let bestHead: BuildEntry | undefined;
  let bestRatio = Number.POSITIVE_INFINITY;
  for (const bucket of buckets) {
    const head = bucket.heap.peek();
    if (head === undefined) continue;
    if (fair !== undefined) {
      const ratio = usageRatio(fair, bucket.share ?? '');
      if (bestHead === undefined || ratio < bestRatio || (ratio === bestRatio && before(head, bestHead))) {
        best = bucket;
        bestHead = head;
        bestRatio = ratio;
      }
    } else if (bestHead === undefined || before(head, bestHead)) {
      best = bucket;
      bestHead = head;
    }
  }
  return best;
}
