// Reads build rows into `Build` objects: the row, its derivation path and its tags.
import { chunk } from './transaction.js';
import type { Selectable } from 'kysely';
import type { BuildsTable } from './schema.js';
import type { Db } from './transaction.js';
import type { Build, BuildState, Tag } from './types.js';

/** The columns every `Build` needs, as selected by {@link selectBuilds}: the build's row with its derivation's path. */
export type BuildRow = Omit<Selectable<BuildsTable>, 'derivation_id'> & { derivation_path: string };

/** The selection that makes a {@link BuildRow} from `builds as b` and `derivations as d`. */
const BUILD_COLUMNS = [
  'b.id',
  'b.uuid',
  'd.path as derivation_path',
  'b.system',
  'b.priority',
  'b.created_at',
  'b.defer_until',
  'b.state',
  'b.ended_at',
  'b.blocked_by',
  'b.timeout_s',
  'b.max_silent_time_s',
] as const;

/** `builds as b` joined to its derivation, selecting a {@link BuildRow}. */
export function selectBuilds(db: Db) {
  return db
    .selectFrom('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select(BUILD_COLUMNS);
}

/**
 * Like {@link selectBuilds}, but driven by the tag index: `build_tags as t0`
 * CROSS JOIN `builds as b` (SQLite keeps that join order), for lists filtered
 * by a tag value. Order by `t0.build_id` to read the index backwards.
 */
export function selectBuildsByTag(db: Db, key: string, value: string) {
  return db
    .selectFrom('build_tags as t0')
    .crossJoin('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .whereRef('b.id', '=', 't0.build_id')
    .where('t0.key', '=', key)
    .where('t0.value', '=', value)
    .select(BUILD_COLUMNS);
}

/** Tags of the builds with internal ids `ids`, by id. */
export async function tagsOf(db: Db, ids: readonly number[]): Promise<Map<number, Tag[]>> {
  const tags = new Map<number, Tag[]>();
  for (const part of chunk(ids, 1)) {
    const rows = await db
      .selectFrom('build_tags')
      .selectAll()
      .where('build_id', 'in', part)
      .orderBy('build_id')
      .orderBy('key')
      .orderBy('value')
      .execute();
    for (const r of rows) {
      const list = tags.get(r.build_id) ?? [];
      list.push({ key: r.key, value: r.value });
      tags.set(r.build_id, list);
    }
  }
  return tags;
}

/** Turns rows into `Build`s, loading their tags. */
export async function toBuilds(db: Db, rows: readonly BuildRow[]): Promise<Build[]> {
  const tags =
    rows.length === 0
      ? new Map<number, Tag[]>()
      : await tagsOf(
          db,
          rows.map((r) => r.id),
        );
  return rows.map((r) => toBuild(r, tags.get(r.id) ?? []));
}

/** One row and its tags as a `Build`. */
export function toBuild(r: BuildRow, tags: readonly Tag[]): Build {
  return {
    id: r.uuid,
    derivationPath: r.derivation_path,
    system: r.system,
    priority: r.priority,
    createdAt: r.created_at,
    deferUntil: r.defer_until,
    state: r.state as BuildState,
    endedAt: r.ended_at,
    blockedBy: r.blocked_by,
    timeout: r.timeout_s,
    maxSilentTime: r.max_silent_time_s,
    tags,
  };
}
