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
  const chunk = selectionOf(rows.map((r) => r.id));
  const [tags, pending] = await Promise.all([tagsOf(db, chunk), pendingInputs(db, chunk)]);
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
 * Which builds a chunk reads: its ids, and, when they fill at least half of
 * the range `[low, high]` (a chunk of a large queue), that range: a range
 * reads an index in order, where a list of thousands of ids is a bound
 * parameter each (PostgreSQL plans them all, SQLite builds a temporary b-tree
 * of them). What a range read returns for other builds is dropped.
 */
interface Selection {
  readonly ids: readonly number[];
  readonly range?: { readonly low: number; readonly high: number; readonly wanted: ReadonlySet<number> };
}

function selectionOf(ids: readonly number[]): Selection {
  if (ids.length < 2) return { ids };
  let low = ids[0]!;
  let high = low;
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  return high - low + 1 <= 2 * ids.length ? { ids, range: { low, high, wanted: new Set(ids) } } : { ids };
}

/** Rows ordered by build id, grouped into one list per wanted build (all builds when `wanted` is undefined). */
function groupByBuild<R, V>(
  rows: readonly R[],
  buildOf: (row: R) => number,
  valueOf: (row: R) => V,
  wanted: ReadonlySet<number> | undefined,
): Map<number, V[]> {
  const out = new Map<number, V[]>();
  // One lookup per build, not per row.
  let id = Number.NaN;
  let list: V[] | undefined;
  for (const r of rows) {
    const rowId = buildOf(r);
    if (rowId !== id) {
      id = rowId;
      list = wanted === undefined || wanted.has(id) ? [] : undefined;
      if (list !== undefined) out.set(id, list);
    }
    list?.push(valueOf(r));
  }
  return out;
}

/** Tags of the chunk's builds (see {@link Selection}). */
async function tagsOf(db: Db, chunk: Selection): Promise<Map<number, Tag[]>> {
  if (chunk.range === undefined) return tagsOfList(db, chunk.ids);
  const rows = await db
    .selectFrom('build_tags')
    .select(['build_id', 'key', 'value'])
    .where('build_id', '>=', chunk.range.low)
    .where('build_id', '<=', chunk.range.high)
    .orderBy('build_id')
    .orderBy('key')
    .orderBy('value')
    .execute();
  return groupByBuild(
    rows,
    (r) => Number(r.build_id),
    (r) => ({ key: r.key, value: r.value }),
    chunk.range.wanted,
  );
}

/**
 * For the chunk's builds: the input derivations with at least one used output
 * that has no output metadata (not built, or not recorded).
 */
async function pendingInputs(db: Db, chunk: Selection): Promise<Map<number, string[]>> {
  const { range } = chunk;
  const which =
    range === undefined
      ? sql`b.id in (${sql.join(chunk.ids)})`
      : sql`b.id >= ${range.low} and b.id <= ${range.high}`;
  const result = await sql<{ build_id: number; input_path: string }>`
    select distinct b.id as build_id, i.input_path
    from builds b
    join derivation_inputs i on i.derivation_id = b.derivation_id
    left join derivation_outputs o on o.derivation_id = i.input_id and o.name = i.output_name
    left join output_metadata m on m.store_path = o.path
    where ${which} and m.store_path is null
    order by b.id, i.input_path`.execute(db);
  return groupByBuild(
    result.rows,
    (r) => Number(r.build_id),
    (r) => r.input_path,
    range?.wanted,
  );
}
