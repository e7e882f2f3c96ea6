// Converts the datastore's queue entries into the allocator's queued builds.
// Pending inputs are keyed by the input derivation's path (what the datastore
// reports), or by a store path a setup failure lacked; both are woken through
// `markInputsAvailable` when a build of that derivation succeeds or the path
// is stored. A build blocked by a failed dependency carries it as a failed input.
import type { PendingInput, QueuedBuild } from '@gbc/allocator';
import type { QueueEntry, Tag } from '@gbc/datastore';

/** The allocator's view of a queue entry; `producers` maps a derivation path to a queued build of it. */
export function toQueuedBuild(entry: QueueEntry, setupWaits: readonly string[] = [], producers?: ReadonlyMap<string, string>): QueuedBuild {
  const pending: PendingInput[] = [];
  for (const path of entry.pendingInputs) {
    const buildId = producers?.get(path);
    pending.push(buildId === undefined ? { path } : { path, buildId });
  }
  for (const path of setupWaits) pending.push({ path });
  return {
    id: entry.id,
    derivation: entry.derivationPath,
    system: entry.system,
    priority: entry.priority,
    createdAt: entry.createdAt,
    deferUntil: entry.deferUntil ?? undefined,
    tags: tagRecord(entry.tags),
    pendingInputs: pending.length === 0 ? undefined : pending,
    failedInputs: entry.blockedBy === null ? undefined : [entry.blockedBy],
  };
}

/** Tags as the allocator keys them (key → value; a later duplicate key wins). */
export function tagRecord(tags: readonly Tag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) out[t.key] = t.value;
  return out;
}

/** Tags back as a list, for answers to agents. */
export function tagList(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
