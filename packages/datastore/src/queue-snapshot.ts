// The scheduler's view of the queue: every queued build with its system,
// priority, times, tags and the inputs it still waits for, read in chunks so
// that a million queued builds never sit in one result set.
import { sql } from 'kysely';
import { tagsOf as tagsOfList } from './build-rows.js';
import type { Db } from './transaction.js';
import type { QueueEntry, Tag } from './types.js';

/** Options of {@link streamQueue}. */
export interface StreamQueueOptions {
  /** Builds per chunk. Default 5000 (at most 30000). */
  readonly chunkSize?: number;
  /** Only these systems. Default: all. */
  readonly systems?: readonly string[];
}

/**
 * Yields the queued builds in chunks, by creation order (internal id). Each
 * chunk is a consistent read of its own; builds queued while the stream runs
 * may or may not be included, so the caller should start listening for new
 * builds before streaming.
 */
export async function* streamQueue(db: Db, options: StreamQueueOptions = {}): AsyncGenerator<QueueEntry[]> {
  const size = Math.min(options.chunkSize ?? 5000, 30_000);
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('builds as b')
      .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
      .select([
        'b.id',
        'b.uuid',
        'd.path',
        'b.system',
        'b.priority',
        'b.created_at',
        'b.defer_until',
        'b.blocked_by',
      ])
      .where('b.state', '=', 'queued')
      .where('b.id', '>', after)
      .$if(options.systems !== undefined, (q) => q.where('b.system', 'in', options.systems!))
      .orderBy('b.id')
      .limit(size)
      .execute();
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.id;
    yield await queueEntriesOf(db, rows);
    if (rows.length < size) return;
  }
}

/** Reads the whole queue into one array (small queues and tests). */
export async function loadQueue(db: Db, options: StreamQueueOptions = {}): Promise<QueueEntry[]> {
  const all: QueueEntry[] = [];
  for await (const part of streamQueue(db, options)) all.push(...part);
  return all;
}

/** A queued build's row, as {@link streamQueue} and `readBuildsNow` select it. */
export interface QueueRow {
  id: number;
  uuid: string;
  path: string;
  system: string;
  priority: number;
  created_at: number;
  defer_until: number | null;
  blocked_by: string | null;
}

/** Completes queued rows with their tags and pending inputs. */
export async function queueEntriesOf(db: Db, rows: readonly QueueRow[]): Promise<QueueEntry[]> {
  const ids = rows.map((r) => r.id);
  const [tags, pending] = await Promise.all([tagsOf(db, ids), pendingInputs(db, ids)]);
  return rows.map((r) => ({
    id: r.uuid,
    derivationPath: r.path,
    system: r.system,
    priority: r.priority,
    createdAt: r.created_at,
    deferUntil: r.defer_until,
    blockedBy: r.blocked_by,
    tags: tags.get(r.id) ?? [],
    pendingInputs: pending.get(r.id) ?? [],
  }));
}

/**
 * The internal ids of `ids` as one range `[low, high]` when they fill at least
 * half of it (a chunk of a large queue), else undefined: a range reads an
 * index in order, where a list of thousands of ids is a bound parameter each
 * (PostgreSQL plans them all, SQLite builds a temporary b-tree of them).
 */
function denseRange(ids: readonly number[]): { low: number; high: number } | undefined {
  if (ids.length < 2) return undefined;
  let low = ids[0]!;
  let high = low;
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  return high - low + 1 <= 2 * ids.length ? { low, high } : undefined;
}

/** Tags of the builds `ids` (see {@link denseRange}: by range when dense, by list otherwise). */
async function tagsOf(db: Db, ids: readonly number[]): Promise<Map<number, Tag[]>> {
  const range = denseRange(ids);
  if (range === undefined) return tagsOfList(db, ids);
  const wanted = new Set(ids);
  const rows = await db
    .selectFrom('build_tags')
    .select(['build_id', 'key', 'value'])
    .where('build_id', '>=', range.low)
    .where('build_id', '<=', range.high)
    .orderBy('build_id')
    .orderBy('key')
    .orderBy('value')
    .execute();
  const tags = new Map<number, Tag[]>();
  // Rows come by build: one lookup per build, not per tag.
  let id = Number.NaN;
  let list: Tag[] | undefined;
  for (const r of rows) {
    const rowId = Number(r.build_id);
    if (rowId !== id) {
      id = rowId;
      list = wanted.has(id) ? [] : undefined;
      if (list !== undefined) tags.set(id, list);
    }
    list?.push({ key: r.key, value: r.value });
  }
  return tags;
}

/**
 * For builds with internal ids `ids`: the input derivations with at least one
 * used output that has no output metadata (not built, or not recorded).
 */
async function pendingInputs(db: Db, ids: readonly number[]): Promise<Map<number, string[]>> {
  const range = denseRange(ids);
  const which =
    range === undefined
      ? sql`b.id in (${sql.join(ids)})`
      : sql`b.id >= ${range.low} and b.id <= ${range.high}`;
  const result = await sql<{ build_id: number; input_path: string }>`
    select distinct b.id as build_id, i.input_path
    from builds b
    join derivation_inputs i on i.derivation_id = b.derivation_id
    left join derivation_outputs o on o.derivation_id = i.input_id and o.name = i.output_name
    left join output_metadata m on m.store_path = o.path
    where ${which} and m.store_path is null
    order by b.id, i.input_path`.execute(db);
  const wanted = range === undefined ? undefined : new Set(ids);
  const out = new Map<number, string[]>();
  for (const r of result.rows) {
    const id = Number(r.build_id);
    if (wanted !== undefined && !wanted.has(id)) continue;
    let list = out.get(id);
    if (list === undefined) out.set(id, (list = []));
    list.push(r.input_path);
  }
  return out;
}
