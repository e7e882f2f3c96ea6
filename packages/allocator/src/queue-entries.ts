// Moving entries between the structures of a QueueIndex as builds are added,
// removed, become due, or their inputs become available or fail.
import { AllocatorError } from './errors.js';
import { bucketFor, type BuildEntry, type EntryStatus, type QueueIndex } from './queue-index.js';
import { refreshRanks, rankOf } from './priority-propagation.js';
import type { QueuedBuild } from './types.js';

/** Where a build belongs given its fields and the index clock. */
export function statusOf(index: QueueIndex, entry: BuildEntry): EntryStatus {
  const b = entry.build;
  if (b.canceled === true || (b.state ?? 'queued') !== 'queued') return 'inactive';
  if (entry.pending !== undefined || entry.failed !== undefined) return 'waiting';
  if (b.deferUntil !== undefined && b.deferUntil > index.now) return 'deferred';
  return 'ready';
}

/** Puts an entry into the structure its status names. */
export function place(index: QueueIndex, entry: BuildEntry, status = statusOf(index, entry)): void {
  entry.status = status;
  index.counts[status]++;
  if (status === 'ready') {
    const bucket = bucketFor(index, entry.build);
    entry.bucket = bucket;
    bucket.heap.push(entry);
  } else if (status === 'deferred') index.deferred.push(entry);
}

/** Takes an entry out of whatever structure holds it. */
export function unplace(index: QueueIndex, entry: BuildEntry): void {
  index.counts[entry.status]--;
  if (entry.status === 'ready') entry.bucket?.heap.remove(entry);
  else if (entry.status === 'deferred') index.deferred.remove(entry);
  entry.bucket = undefined;
}

/** Creates the entry of a build and links its inputs; does not place it. */
export function linkEntry(index: QueueIndex, build: QueuedBuild): BuildEntry {
  if (index.entries.has(build.id))
    throw new AllocatorError(
      'duplicate-build',
      `build ${build.id} is already queued; use update to change it`,
    );
  const entry: BuildEntry = {
    build,
    status: 'inactive',
    pending: undefined,
    failed: undefined,
    rank: build.priority,
    bucket: undefined,
    heapIndex: -1,
  };
  index.entries.set(build.id, entry);
  const failedInputs = build.failedInputs ?? [];
  if (failedInputs.length > 0) entry.failed = new Set(failedInputs);
  for (const input of build.pendingInputs ?? []) {
    if (entry.failed?.has(input.path) === true) continue;
    entry.pending ??= new Map();
    entry.pending.set(input.path, input.buildId);
  }
  for (const path of inputPaths(entry)) addToSet(index.waitersByPath, path, build.id);
  for (const producer of producersOf(entry)) addToSet(index.dependents, producer, build.id);
  return entry;
}

/** Adds a build: links, ranks, places it and raises its dependencies' ranks. */
export function addEntry(index: QueueIndex, build: QueuedBuild): BuildEntry {
  const entry = linkEntry(index, build);
  entry.rank = rankOf(index, entry);
  place(index, entry);
  if (index.behaviour.propagatePriority) refreshRanks(index, producersOf(entry));
  return entry;
}

/** Removes a build entirely; returns the entry, or undefined if not held. */
export function dropEntry(index: QueueIndex, buildId: string): BuildEntry | undefined {
  const entry = index.entries.get(buildId);
  if (entry === undefined) return undefined;
  unplace(index, entry);
  index.entries.delete(buildId);
  for (const path of inputPaths(entry)) deleteFromSet(index.waitersByPath, path, buildId);
  const producers = producersOf(entry);
  for (const producer of producers) deleteFromSet(index.dependents, producer, buildId);
  if (index.behaviour.propagatePriority) refreshRanks(index, producers);
  return entry;
}

/** Ids of the builds producing the entry's pending inputs. */
export function producersOf(entry: BuildEntry): string[] {
  const out: string[] = [];
  if (entry.pending !== undefined) for (const p of entry.pending.values()) if (p !== undefined) out.push(p);
  return out;
}

/** Paths the entry has pending or failed. */
function inputPaths(entry: BuildEntry): string[] {
  const out: string[] = [];
  if (entry.pending !== undefined) for (const p of entry.pending.keys()) out.push(p);
  if (entry.failed !== undefined) for (const p of entry.failed) out.push(p);
  return out;
}

/** Moves deferred builds whose time has come into their buckets. */
export function promoteDue(index: QueueIndex, now: number): void {
  if (now > index.now) index.now = now;
  for (let top = index.deferred.peek(); top !== undefined; top = index.deferred.peek()) {
    if ((top.build.deferUntil ?? 0) > index.now) break;
    unplace(index, top);
    place(index, top);
  }
}

/** Resolves the given input paths (available: forget them; failed: move pending to failed). */
export function resolveInputs(
  index: QueueIndex,
  paths: readonly string[],
  outcome: 'available' | 'failed',
): void {
  const touchedProducers: string[] = [];
  for (const path of paths) {
    const waiters = index.waitersByPath.get(path);
    if (waiters === undefined) continue;
    for (const id of [...waiters]) {
      const entry = index.entries.get(id);
      if (entry === undefined) continue;
      const producer = entry.pending?.get(path);
      unplace(index, entry);
      entry.pending?.delete(path);
      if (entry.pending?.size === 0) entry.pending = undefined;
      // The build still depends on its producer while another of the producer's outputs is pending.
      if (producer !== undefined && !producersOf(entry).includes(producer)) {
        deleteFromSet(index.dependents, producer, id);
        touchedProducers.push(producer);
      }
      if (outcome === 'available') {
        entry.failed?.delete(path);
        if (entry.failed?.size === 0) entry.failed = undefined;
        waiters.delete(id);
      } else (entry.failed ??= new Set()).add(path);
      place(index, entry);
    }
    if (waiters.size === 0) index.waitersByPath.delete(path);
  }
  if (index.behaviour.propagatePriority) refreshRanks(index, touchedProducers);
}

function addToSet(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
}

function deleteFromSet(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
