// Converts the datastore's queue entries into the allocator's queued builds.
// Pending inputs are keyed by the input derivation's path (what the datastore
// reports), or by a store path a setup failure lacked; both are woken through
// `markInputsAvailable` when a build of that derivation succeeds or the path
// is stored. A build blocked by a failed dependency carries it as a failed input.
import type { PendingInput, QueuedBuild } from '@gbc/allocator';
import type { QueueEntry, Tag } from '@gbc/datastore';

/** Shares equal values among queued builds: a million builds hold few distinct systems and tag sets. */
export interface Interner {
  string(s: string): string;
  tags(tags: readonly Tag[]): Readonly<Record<string, string>>;
}

/** A fresh interner (one per queue rebuild; dropped with it). */
export function createInterner(): Interner {
  const strings = new Map<string, string>();
  const tagSets = new Map<string, Readonly<Record<string, string>>>();
  return {
    string(s) {
      const held = strings.get(s);
      if (held !== undefined) return held;
      strings.set(s, s);
      return s;
    },
    tags(tags) {
      const key = tags.map((t) => `${t.key}\u0000${t.value}`).join('\u0001');
      let held = tagSets.get(key);
      if (held === undefined) {
        held = Object.freeze(tagRecord(tags));
        tagSets.set(key, held);
      }
      return held;
    },
  };
}

/**
 * The allocator's view of a queue entry; `producers` maps a derivation path to
 * a queued build of it; `intern` shares systems and tag records between builds.
 */
export function toQueuedBuild(
  entry: QueueEntry,
  setupWaits: readonly string[] = [],
  producers?: ReadonlyMap<string, string>,
  intern?: Interner,
): QueuedBuild {
  const pending: PendingInput[] = [];
  for (const path of entry.pendingInputs) {
    const buildId = producers?.get(path);
    pending.push(buildId === undefined ? { path } : { path, buildId });
  }
  for (const path of setupWaits) pending.push({ path });
  return {
    id: entry.id,
    derivation: entry.derivationPath,
    system: intern === undefined ? entry.system : intern.string(entry.system),
    priority: entry.priority,
    createdAt: entry.createdAt,
    deferUntil: entry.deferUntil ?? undefined,
    tags: intern === undefined ? tagRecord(entry.tags) : intern.tags(entry.tags),
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
