// Lists builds with filters, newest first, with keyset pagination: a cursor
// names the last build seen, so pages stay stable while builds are added.
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { checkPageLimit, InvalidInputError } from './errors.js';
import { selectBuilds, selectBuildsByTag, toBuilds } from './build-rows.js';
import type { BuildRow } from './build-rows.js';
import type { Db } from './transaction.js';
import type { Build, BuildState } from './types.js';

/** A tag condition: `value` undefined matches any value of `key`. */
export interface TagFilter {
  readonly key: string;
  readonly value?: string;
}

/** Filters of {@link listBuilds}; all given conditions must hold. */
export interface BuildFilter {
  /** Every one of these tags. */
  readonly tags?: readonly TagFilter[];
  /** None of these tags. */
  readonly notTags?: readonly TagFilter[];
  /** One of these systems. */
  readonly systems?: readonly string[];
  /** One of these states. */
  readonly states?: readonly BuildState[];
  readonly priorityMin?: number;
  readonly priorityMax?: number;
  /** Created strictly after this time (ms). */
  readonly createdAfter?: number;
  /** Created strictly before this time (ms). */
  readonly createdBefore?: number;
  /** Derivation path. */
  readonly derivationPath?: string;
  /** Page size, 1–1000. Default 100. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly after?: string | null;
}

/** One page of builds. */
export interface BuildPage {
  readonly builds: Build[];
  /** Pass as `after` to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Builds matching `filter`, newest first, one page at a time. */
export async function listBuilds(db: Db, filter: BuildFilter = {}): Promise<BuildPage> {
  const limit = filter.limit ?? 100;
  checkPageLimit(limit);
  // A tag with a value is usually the most selective condition: walk its index
  // (newest first) and look each build up, instead of scanning builds.
  const driver = filter.tags?.find((t) => t.value !== undefined);
  const after = filter.after == null ? undefined : decodeCursor(filter.after);
  if (driver !== undefined) {
    let q = selectBuildsByTag(db, driver.key, driver.value!);
    if (after !== undefined) q = q.where('t0.build_id', '<', after);
    for (const c of conditions({ ...filter, tags: filter.tags!.filter((t) => t !== driver) })) q = q.where(c);
    return page(
      db,
      await q
        .orderBy('t0.build_id', 'desc')
        .limit(limit + 1)
        .execute(),
      limit,
    );
  }
  let q = selectBuilds(db);
  if (after !== undefined) q = q.where('b.id', '<', after);
  for (const c of conditions(filter)) q = q.where(c);
  return page(
    db,
    await q
      .orderBy('b.id', 'desc')
      .limit(limit + 1)
      .execute(),
    limit,
  );
}

async function page(db: Db, rows: BuildRow[], limit: number): Promise<BuildPage> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    builds: await toBuilds(db, shown),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
  };
}

/** The WHERE conditions of `filter` (but the cursor), over `builds as b` and `derivations as d`. */
function conditions(filter: BuildFilter): RawBuilder<SqlBool>[] {
  const out: RawBuilder<SqlBool>[] = [];
  if (filter.states !== undefined && filter.states.length > 0)
    out.push(sql<SqlBool>`b.state in (${sql.join(filter.states)})`);
  if (filter.systems !== undefined && filter.systems.length > 0)
    out.push(sql<SqlBool>`b.system in (${sql.join(filter.systems)})`);
  if (filter.priorityMin !== undefined) out.push(sql<SqlBool>`b.priority >= ${filter.priorityMin}`);
  if (filter.priorityMax !== undefined) out.push(sql<SqlBool>`b.priority <= ${filter.priorityMax}`);
  if (filter.createdAfter !== undefined) out.push(sql<SqlBool>`b.created_at > ${filter.createdAfter}`);
  if (filter.createdBefore !== undefined) out.push(sql<SqlBool>`b.created_at < ${filter.createdBefore}`);
  if (filter.derivationPath !== undefined) out.push(sql<SqlBool>`d.path = ${filter.derivationPath}`);
  for (const tag of filter.tags ?? []) out.push(sql<SqlBool>`exists (${tagQuery(tag)})`);
  for (const tag of filter.notTags ?? []) out.push(sql<SqlBool>`not exists (${tagQuery(tag)})`);
  return out;
}

function tagQuery(tag: TagFilter): RawBuilder<unknown> {
  const value = tag.value === undefined ? sql`` : sql` and t.value = ${tag.value}`;
  return sql`select 1 from build_tags t where t.build_id = b.id and t.key = ${tag.key}${value}`;
}

function encodeCursor(id: number): string {
  return Buffer.from(`b:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = /^b:(\d+)$/.exec(text)?.[1];
  if (id === undefined)
    throw new InvalidInputError(
      'invalid-cursor',
      `the page cursor ${JSON.stringify(cursor)} is not one this datastore produced; start again without a cursor`,
    );
  return Number(id);
}
