// Lists builds with filters, newest first, with keyset pagination: a cursor
// names the last build seen, so pages stay stable while builds are added.
import { InvalidInputError } from './errors.js';
import { selectBuilds, toBuilds } from './build-rows.js';
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
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError('invalid-input', `limit must be an integer from 1 to 1000, got ${limit}`);
  let q = selectBuilds(db);
  if (filter.after != null) q = q.where('b.id', '<', decodeCursor(filter.after));
  if (filter.states !== undefined && filter.states.length > 0) q = q.where('b.state', 'in', filter.states);
  if (filter.systems !== undefined && filter.systems.length > 0) q = q.where('b.system', 'in', filter.systems);
  if (filter.priorityMin !== undefined) q = q.where('b.priority', '>=', filter.priorityMin);
  if (filter.priorityMax !== undefined) q = q.where('b.priority', '<=', filter.priorityMax);
  if (filter.createdAfter !== undefined) q = q.where('b.created_at', '>', filter.createdAfter);
  if (filter.derivationPath !== undefined) q = q.where('d.path', '=', filter.derivationPath);
  for (const tag of filter.tags ?? []) {
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('build_tags as t')
          .select('t.build_id')
          .whereRef('t.build_id', '=', 'b.id')
          .where('t.key', '=', tag.key)
          .$if(tag.value !== undefined, (s) => s.where('t.value', '=', tag.value!)),
      ),
    );
  }
  for (const tag of filter.notTags ?? []) {
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('build_tags as t')
            .select('t.build_id')
            .whereRef('t.build_id', '=', 'b.id')
            .where('t.key', '=', tag.key)
            .$if(tag.value !== undefined, (s) => s.where('t.value', '=', tag.value!)),
        ),
      ),
    );
  }
  const rows = await q.orderBy('b.id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { builds: await toBuilds(db, page), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null };
}

function encodeCursor(id: number): string {
  return Buffer.from(`b:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = /^b:(\d+)$/.exec(text)?.[1];
  if (id === undefined) throw new InvalidInputError('invalid-cursor', `the page cursor ${JSON.stringify(cursor)} is not one this datastore produced; start again without a cursor`);
  return Number(id);
}
