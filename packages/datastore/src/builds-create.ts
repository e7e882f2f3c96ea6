// Creates builds with their tags, in bulk, honouring "ignore if a build for
// this derivation / for these outputs exists".
import { bulkInsert } from './bulk-insert.js';
import { derivationsInOrder } from './derivations.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { Tag } from './types.js';
import { uuidV7 } from './uuid-v7.js';
import { inValues } from './value-list.js';

/** What to build and how. */
export interface BuildRequest {
  readonly derivationPath: string;
  /** Higher runs first. Default 0. */
  readonly priority?: number;
  readonly tags?: readonly Tag[];
  /** Not before this time (ms since epoch). */
  readonly deferUntil?: number | null;
  /** Seconds. */
  readonly timeout?: number | null;
  /** Seconds. */
  readonly maxSilentTime?: number | null;
  /** If a build (not canceled) for this derivation exists, return it instead. */
  readonly ignoreIfBuildForDerivationExists?: boolean;
  /** If a build (not canceled) of any derivation sharing an output path exists, return it instead. */
  readonly ignoreIfBuildForOutputsExists?: boolean;
  /** Use this UUID instead of a random one. */
  readonly id?: string;
}

/** What became of one request, in request order. */
export interface CreatedBuild {
  /** UUID of the new build, or of the existing one that made the request ignored. */
  readonly id: string;
  readonly derivationPath: string;
  /** False when an existing build was returned instead. */
  readonly created: boolean;
}

/**
 * Creates builds (state `queued`) for recorded derivations, in one transaction.
 * @throws NotFoundError `derivation-not-found` if a derivation is not recorded.
 */
export async function createBuilds(
  db: Db,
  requests: readonly BuildRequest[],
  now: number = Date.now(),
): Promise<CreatedBuild[]> {
  return inTransaction(db, async (trx) => {
    const drvs = await derivationIds(
      trx,
      requests.map((r) => r.derivationPath),
    );
    const byDrv = await existingBuildsForDerivations(
      trx,
      requests.filter((r) => r.ignoreIfBuildForDerivationExists).map((r) => drvs.get(r.derivationPath)!.id),
    );
    const byOutputs = await existingBuildsForOutputs(
      trx,
      requests.filter((r) => r.ignoreIfBuildForOutputsExists).map((r) => drvs.get(r.derivationPath)!.id),
    );
    const out: CreatedBuild[] = [];
    // Rows of builds and of their tags, flat (see bulkInsert), tags naming their build by UUID until it has an id.
    const rows: unknown[] = [];
    const tags: unknown[] = [];
    for (const r of requests) {
      const drv = drvs.get(r.derivationPath)!;
      const existing =
        (r.ignoreIfBuildForDerivationExists ? byDrv.get(drv.id) : undefined) ??
        (r.ignoreIfBuildForOutputsExists ? byOutputs.get(drv.id) : undefined);
      if (existing !== undefined) {
        out.push({ id: existing, derivationPath: r.derivationPath, created: false });
        continue;
      }
      const uuid = r.id ?? uuidV7(now);
      const priority = r.priority ?? 0;
      if (!Number.isSafeInteger(priority))
        throw new InvalidInputError('invalid-input', `priority must be an integer, got ${priority}`);
      rows.push(
        uuid,
        drv.id,
        drv.system,
        priority,
        now,
        r.deferUntil ?? null,
        'queued',
        r.timeout ?? null,
        r.maxSilentTime ?? null,
      );
      for (const t of dedupeTags(r.tags ?? [])) tags.push(uuid, t.key, t.value);
      // Later requests in the same batch see this one.
      if (r.ignoreIfBuildForDerivationExists || r.ignoreIfBuildForOutputsExists) byDrv.set(drv.id, uuid);
      out.push({ id: uuid, derivationPath: r.derivationPath, created: true });
    }
    const inserted = await bulkInsert<{ id: number; uuid: string }>(
      trx,
      'builds',
      [
        'uuid',
        'derivation_id',
        'system',
        'priority',
        'created_at',
        'defer_until',
        'state',
        'timeout_s',
        'max_silent_time_s',
      ],
      rows,
      { returning: ['id', 'uuid'] },
    );
    const ids = new Map(inserted.map((row) => [row.uuid, Number(row.id)]));
    for (let k = 0; k < tags.length; k += 3) tags[k] = ids.get(tags[k] as string)!;
    await bulkInsert(trx, 'build_tags', ['build_id', 'key', 'value'], tags);
    return out;
  });
}

/** `tags` without repeats; the usual one or two distinct tags pass without a map (bulk submissions make one call per build). */
function dedupeTags(tags: readonly Tag[]): readonly Tag[] {
  if (
    tags.length < 2 ||
    (tags.length === 2 && (tags[0]!.key !== tags[1]!.key || tags[0]!.value !== tags[1]!.value))
  )
    return tags;
  const seen = new Map<string, Tag>();
  for (const t of tags) seen.set(`${t.key}\u0000${t.value}`, t);
  return [...seen.values()];
}

async function derivationIds(
  db: Db,
  paths: readonly string[],
): Promise<Map<string, { id: number; system: string }>> {
  const unique = [...new Set(paths)];
  const rows = await derivationsInOrder(db, unique);
  const found = new Map<string, { id: number; system: string }>();
  for (let k = 0; k < unique.length; k++) {
    const row = rows[k];
    if (row === null)
      throw new NotFoundError(
        'derivation-not-found',
        `cannot create a build for ${JSON.stringify(unique[k])}: the derivation is not recorded; upload it first`,
      );
    found.set(unique[k]!, row!);
  }
  return found;
}

/** Newest non-canceled build per derivation id. */
async function existingBuildsForDerivations(db: Db, drvIds: readonly number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (drvIds.length === 0) return found;
  const rows = await db
    .selectFrom('builds')
    .select(['derivation_id', 'uuid'])
    .where(inValues(db, 'derivation_id', [...new Set(drvIds)], 'bigint'))
    .where('state', '!=', 'canceled')
    .orderBy('id')
    .execute();
  for (const r of rows) found.set(Number(r.derivation_id), r.uuid);
  return found;
}

/** Newest non-canceled build of any derivation sharing an output path, per derivation id. */
async function existingBuildsForOutputs(db: Db, drvIds: readonly number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (drvIds.length === 0) return found;
  const rows = await db
    .selectFrom('derivation_outputs as mine')
    .innerJoin('derivation_outputs as other', 'other.path', 'mine.path')
    .innerJoin('builds as b', 'b.derivation_id', 'other.derivation_id')
    .select(['mine.derivation_id', 'b.uuid'])
    .where(inValues(db, 'mine.derivation_id', [...new Set(drvIds)], 'bigint'))
    .where('b.state', '!=', 'canceled')
    .orderBy('b.id')
    .execute();
  for (const r of rows) found.set(Number(r.derivation_id), r.uuid);
  return found;
}
